"""The learned part of ranking: feature weights per kind and the abstention threshold."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from webcare_nlp.errors import ModelError
from webcare_nlp.rank import trees
from webcare_nlp.rank.index import FEATURES

# Features that measure how well a candidate fits the message: their weight may not be negative.
FITS = frozenset({"intent_fit", "sentiment_fit", "word_sim", "char_sim", "title_sim"})
# What a library's reply history adds to a candidate's row.
HISTORY = ("history_vote", "history_max", "history_profile", "popularity", "has_history")
# The reordering trees: small and few, since they run on every message's best rows (see `Ranker.rerank`).
TREES = {"max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 7, "l2_regularization": 1.0}


class Ranker(BaseEstimator):
    """Scores candidate feature rows (see `index.FEATURES`) with the chance that an agent sends it.

    Args:
        C: inverse regularisation strength of the logistic model.
        rerank: how many of a message's best rows (by the logistic model) boosted trees put in order again,
            when the library has a history; 0 for the logistic model alone. The trees learn how
            the history features work together (a vote of one close past message against many far ones),
            which a weighted sum cannot; they are kept to the top rows because they cost about 3 us a row.
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
        self,
        *,
        C: float = 1.0,
        rerank: int = 0,
        threshold: float = 0.0,
        cold_threshold: float = 0.0,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.rerank = rerank
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
        self.booster_: HistGradientBoostingClassifier | None = None
        self.trees_: trees.FlatTrees | None = None
        if self.rerank:
            # Monotone like the logistic weights above: a better fit never counts against a candidate.
            self.booster_ = HistGradientBoostingClassifier(
                **TREES,
                monotonic_cst=[1 if name in FITS else 0 for name in names],
                early_stopping=False,
                random_state=self.random_state,
            ).fit(X, np.asarray(y, dtype=int))
            self.trees_ = trees.FlatTrees.from_booster(self.booster_)
        return self

    def score_rows(self, X: np.ndarray) -> np.ndarray:
        """Probability-like scores in [0, 1]; of a stack of row blocks, one row of scores per block."""
        X = np.asarray(X, dtype=float)
        z = X @ self._weights_for(X.shape[-1]) + self.intercept_
        scores = np.asarray(1.0 / (1.0 + np.exp(-z)))
        booster, flat = getattr(self, "booster_", None), getattr(self, "trees_", None)
        if booster is not None and flat is not None and self.rerank and X.shape[-2]:
            blocks = X if X.ndim == 3 else X[None]
            reranked = self._reranked(blocks, scores.reshape(blocks.shape[:2]), booster, flat)
            scores = reranked if X.ndim == 3 else reranked[0]
        return scores

    def _reranked(
        self, blocks: np.ndarray, scores: np.ndarray, booster: HistGradientBoostingClassifier, flat: trees.FlatTrees
    ) -> np.ndarray:
        """Each history-backed block's best `rerank` rows put in the trees' order, keeping the logistic
        model's scores: the best row by the trees gets the highest of those scores, and so on. So the trees
        only order, and the scores the abstention thresholds were set on keep their scale (the trees' own
        probabilities are off-scale on a library unlike the corpus's, a team's two templates say).

        Row by row the trees give the same numbers whatever else is in the batch, so a stack of messages
        scores as each would alone.
        """
        columns = self._columns(blocks.shape[-1])
        picked = np.arange(len(blocks))
        evidence = [self._column_of(name, blocks.shape[-1]) for name in HISTORY if name in self.feature_names_]
        if evidence:
            # Without any trace of the history (a brand-new library) the trees have nothing to add: the
            # corpus's held-out messages rank better there by the logistic model alone.
            picked = np.flatnonzero((blocks[:, :, evidence] != 0).any(axis=(1, 2)))
        if not len(picked):
            return scores
        scores = scores.copy()
        top = np.argsort(-scores[picked], axis=1, kind="stable")[:, : self.rerank]
        rows = np.take_along_axis(blocks[picked], top[:, :, None], axis=1)
        rescored = trees.scores(booster, flat, rows.reshape(-1, rows.shape[-1])[:, columns]).reshape(top.shape)
        by_trees = np.take_along_axis(top, np.argsort(-rescored, axis=1, kind="stable"), axis=1)
        reordered = scores[picked]
        np.put_along_axis(reordered, by_trees, np.take_along_axis(reordered, top, axis=1), axis=1)
        scores[picked] = reordered
        return scores

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

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("rerank", 0)  # a ranker saved before the trees: the logistic model alone
        super().__setstate__(state)

    def _column_of(self, name: str, width: int) -> int:
        return self._columns(width)[list(self.feature_names_).index(name)]

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
        """The logistic model's weights (the trees that may reorder its best rows have none to show)."""
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
