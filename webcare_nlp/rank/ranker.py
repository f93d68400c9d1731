"""The learned part of ranking: feature weights per kind and the abstention threshold."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from webcare_nlp.errors import ModelError
from webcare_nlp.rank.index import FEATURES

# Features that measure how well a candidate fits the message: their weight may not be negative.
FITS = frozenset({"intent_fit", "sentiment_fit", "word_sim", "char_sim", "title_sim"})


class Ranker(BaseEstimator):
    """Scores candidate feature rows (see `index.FEATURES`) with the chance that an agent sends it.

    Args:
        C: inverse regularisation strength of the logistic model.
        threshold: below this score no suggestion is made (set from held-out data by tuning).
        cold_threshold: the same for a message with no similar past message in the history.
        random_state: seed of the solver.

    Example:
        >>> X = np.array([[0.9, 0.1], [0.1, 0.9], [0.8, 0.2], [0.2, 0.7]])
        >>> ranker = Ranker(C=10.0).fit(X, np.array([1, 0, 1, 0]))
        >>> bool(ranker.score_rows(X[:1])[0] > ranker.score_rows(X[1:2])[0])
        True
    """

    def __init__(
        self, *, C: float = 1.0, threshold: float = 0.0, cold_threshold: float = 0.0, random_state: int = 0
    ) -> None:
        self.C = C
        self.threshold = threshold
        self.cold_threshold = cold_threshold
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> Ranker:
        X = np.asarray(X, dtype=float)
        # A feature that never varies in the training history (no template names a channel, say) has
        # no learnable weight; left in, it would leak into the intercept and misfire on a library
        # where it does vary.
        varying = X.std(axis=0) > 0
        names = FEATURES if X.shape[1] == len(FEATURES) else _positional(X.shape[1])
        while True:
            model = LogisticRegression(C=self.C, max_iter=2000, random_state=self.random_state)
            model.fit(X[:, varying], np.asarray(y, dtype=int))
            # How well a template fits the message's intent, sentiment and words can only speak for it. A
            # history whose labels come from another label set (a team model's) can teach a negative weight,
            # which would lift every template that does not fit: such a feature is left out and the rest refit.
            weights = dict(zip(np.asarray(names)[varying], model.coef_[0], strict=True))
            against = [i for i, name in enumerate(names) if varying[i] and name in FITS and weights[name] < 0]
            if not against or len(against) == varying.sum():
                break
            varying[against] = False
        self.__dict__.pop("_weights_by_width", None)
        self.coef_ = np.zeros(X.shape[1])
        self.coef_[varying] = model.coef_[0]
        self.intercept_ = float(model.intercept_[0])
        self.n_features_in_ = X.shape[1]
        # Rows of index.FEATURES are read by name, so that a later version may add features.
        self.feature_names_ = names
        return self

    def score_rows(self, X: np.ndarray) -> np.ndarray:
        """Probability-like scores in [0, 1]; of a stack of row blocks, one row of scores per block."""
        X = np.asarray(X, dtype=float)
        z = X @ self._weights_for(X.shape[-1]) + self.intercept_
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def _weights_for(self, width: int) -> np.ndarray:
        """coef_ laid out in the columns of a `width`-wide feature matrix, worked out once per width: a
        suggestion scores two candidate sets per message, and the name lookups are the same each time."""
        cache: dict[int, np.ndarray] = self.__dict__.setdefault("_weights_by_width", {})
        if width not in cache:
            check_is_fitted(self, "coef_")
            weights = np.zeros(width)
            weights[self._columns(width)] = self.coef_
            cache[width] = weights
        return cache[width]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_weights_by_width", None)  # rebuilt on first use, never saved with a model
        return state

    def _columns(self, width: int) -> list[int]:
        names = getattr(self, "feature_names_", None)
        if names is not None and names == _positional(width):
            return list(range(width))
        if names is None or any(name not in FEATURES for name in names) or width != len(FEATURES):
            raise ModelError(
                "This model's suggestion ranker was trained on other ranking features than this version of "
                "webcare-nlp computes; retrain it with `webcare train`."
            )
        return [FEATURES.index(name) for name in names]

    def threshold_for(self, features: np.ndarray) -> float:
        """The abstention bar for one message's candidate rows (lower when no past message is similar)."""
        has_history = bool(len(features)) and features[0, FEATURES.index("has_history")] > 0
        return float(self.threshold if has_history else self.cold_threshold)

    def weights(self) -> dict[str, float]:
        check_is_fitted(self, "coef_")
        return {name: round(float(w), 3) for name, w in zip(self.feature_names_, self.coef_, strict=True)}


def _positional(width: int) -> tuple[str, ...]:
    return tuple(f"x{i}" for i in range(width))


@dataclass
class RankerSet:
    """One ranker per kind (template, article), the sentiment profile of each intent and the CV report."""

    rankers: dict[str, Ranker]
    sentiment_profile: dict[str, dict[str, float]]
    report: dict[str, Any] = field(default_factory=dict)
