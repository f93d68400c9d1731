"""The model families tried for each label, with the hyper-parameter grids cross-validation picks from."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sklearn.base import BaseEstimator, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from webcare_nlp.classify.nbsvm import NBScaledSVC
from webcare_nlp.schema import INTENTS, SENTIMENTS

# What each model predicts; `reactive` is a bool, `platform` is used only when the input has none.
TASKS: dict[str, tuple[Any, ...]] = {
    "intent": INTENTS,
    "sentiment": SENTIMENTS,
    "reactive": (False, True),
    "platform": ("brand", "consumer"),
}


# liblinear (LinearSVC) seeds one random generator in global C state per fit: two fits in parallel
# threads draw from it in turn and come out different from run to run. Its fits take turns.
_LIBLINEAR = threading.Lock()


class TurnTakingLinearSVC(LinearSVC):
    """LinearSVC whose fits take turns across threads, so that training in a thread pool is reproducible
    wherever the SVM sits (alone, calibrated, or in a soft vote)."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> TurnTakingLinearSVC:
        with _LIBLINEAR:
            super().fit(X, y, sample_weight=sample_weight)
        return self


@dataclass(frozen=True)
class ModelFamily:
    """A scikit-learn classifier and the grid of its hyper-parameters."""

    name: str
    estimator: BaseEstimator
    grid: dict[str, list[Any]] = field(default_factory=dict)
    # About how long one fit takes next to the others: training starts the slow ones first.
    relative_cost: float = 1.0

    def candidates(self) -> list[BaseEstimator]:
        """One unfitted clone per grid point."""
        points: list[dict[str, Any]] = [{}]
        for param, values in self.grid.items():
            points = [{**point, param: value} for point in points for value in values]
        return [clone(self.estimator).set_params(**point) for point in points]


def model_families(random_state: int) -> dict[str, ModelFamily]:
    """The families compared by `webcare train`; the winner per label is kept, the rest reported."""
    return {
        # Newton-CG reaches the optimum in a handful of steps on these sparse features; L-BFGS took five
        # to seven times as long to stop at tol, a little short of it (benchmarks/README.md).
        "logreg": ModelFamily(
            "logreg",
            LogisticRegression(
                solver="newton-cg", max_iter=3000, tol=1e-3, class_weight="balanced", random_state=random_state
            ),
            {"C": [3.0, 10.0, 30.0]},
            relative_cost=3.0,
        ),
        # tol 1e-3 instead of 1e-4: a quarter fewer coordinate-descent passes, the same fold predictions.
        "linear_svc": ModelFamily(
            "linear_svc",
            TurnTakingLinearSVC(class_weight="balanced", tol=1e-3, random_state=random_state),
            {"C": [0.3, 1.0, 3.0]},
            relative_cost=4.0,
        ),
        # The SVM on naive-Bayes-scaled features (NBSVM): one binary SVM per class, so it costs as the SVM.
        # On a grid of [0.3, 1, 3] three labels of four chose 0.3, the lowest (benchmarks/README.md).
        "nb_svc": ModelFamily(
            "nb_svc",
            NBScaledSVC(svm=TurnTakingLinearSVC(class_weight="balanced", tol=1e-3, random_state=random_state)),
            {"C": [0.1, 0.3, 1.0]},
            relative_cost=4.0,
        ),
        "complement_nb": ModelFamily("complement_nb", ComplementNB(), {"alpha": [0.1, 0.3, 1.0]}, relative_cost=0.1),
        "sgd": ModelFamily(
            "sgd",
            SGDClassifier(
                loss="modified_huber", class_weight="balanced", random_state=random_state, max_iter=200, tol=1e-3
            ),
            {"alpha": [1e-5, 3e-5, 1e-4]},
        ),
    }


# Not a family of its own: the average of the other families' calibrated probabilities, each at the
# parameters cross-validation chose for it. Training tries it after them, on the same folds.
SOFT_VOTE = "soft_vote"


def soft_vote(members: dict[str, dict[str, Any]], random_state: int, *, folds: int) -> VotingClassifier:
    """The mean of the named families' calibrated probabilities (`members`: family -> its parameters).

    5-fold CV on the corpus, two fold seeds: sentiment macro-F1 0.831 -> 0.835 over the linear SVM alone,
    intent unchanged (benchmarks/README.md); each member's own errors partly cancel.

    Example:
        >>> soft_vote({"logreg": {"C": 10.0}, "complement_nb": {"alpha": 0.3}}, 0, folds=3).voting
        'soft'
    """
    families = model_families(random_state)
    return VotingClassifier(
        [
            (name, calibrated(clone(families[name].estimator).set_params(**params), folds=folds))
            for name, params in members.items()
        ],
        voting="soft",
    )


def final_model(chosen: str, params: dict[str, Any], random_state: int, *, folds: int) -> BaseEstimator:
    """The unfitted model of a label as `webcare train` fits it: the chosen family at its parameters,
    with calibrated probabilities.

    A soft vote is calibrated once more as a whole: the mean of its members' probabilities leans towards
    the middle (on a held-out fold of the training data, intent ECE 0.116 without this step, 0.052 with it,
    0.053 for the linear SVM alone; benchmarks/README.md).
    """
    if chosen == SOFT_VOTE:
        return calibrated(soft_vote(params, random_state, folds=folds), folds=folds)
    return calibrated(clone(model_families(random_state)[chosen].estimator).set_params(**params), folds=folds)


def calibrated(estimator: BaseEstimator, *, folds: int) -> CalibratedClassifierCV:
    """Wrap `estimator` so that its probabilities are calibrated (Platt scaling on held-out folds).

    `ensemble=False` keeps one model at prediction time, so calibration costs nothing per message.
    """
    return CalibratedClassifierCV(clone(estimator), method="sigmoid", cv=folds, ensemble=False)
