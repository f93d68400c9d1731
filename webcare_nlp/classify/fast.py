"""Calibrated probabilities of the label models in plain NumPy, for the per-message path.

scikit-learn's `CalibratedClassifierCV.predict_proba` validates its input and refits a label encoder on
every call, about a millisecond each: most of a single message's time. `fast_predict_proba` does the
same arithmetic in the same order, and is used only when it gives scikit-learn's answer to the bit on
a probe (else the model's own `predict_proba` is used).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.naive_bayes import ComplementNB

Predict = Callable[[Any], np.ndarray]


@dataclass(eq=False)
class _Calibration:
    """The sigmoid calibrators of one `CalibratedClassifierCV` (one calibrated classifier, Platt scaling)."""

    positions: np.ndarray  # where each response column's probability goes among the classes
    slopes: np.ndarray  # the calibrators' a and b, one per response column
    offsets: np.ndarray
    n_classes: int
    # The response columns are the classes themselves, in order (every multi-class model): nothing to place.
    in_order: bool = field(init=False)

    def __post_init__(self) -> None:
        self.in_order = self.n_classes > 2 and np.array_equal(self.positions, np.arange(self.n_classes))

    @classmethod
    def of(cls, model: Any) -> _Calibration | None:
        if not isinstance(model, CalibratedClassifierCV) or len(getattr(model, "calibrated_classifiers_", ())) != 1:
            return None
        calibrated = model.calibrated_classifiers_[0]
        if calibrated.method != "sigmoid":
            return None
        n_classes = len(calibrated.classes)
        # Where each of the estimator's classes sits among the calibrated ones (LabelEncoder: sorted order).
        positions = np.searchsorted(np.sort(calibrated.classes), calibrated.estimator.classes_)
        if n_classes == 2:
            # One response column, for the second class; scikit-learn pairs it with the first position, plus 1.
            positions = positions[:1] + 1
        sigmoids = [(calibrator.a_, calibrator.b_) for calibrator in calibrated.calibrators]
        if len(sigmoids) != len(positions):
            return None
        slopes, offsets = np.array([a for a, _ in sigmoids]), np.array([b for _, b in sigmoids])
        return cls(positions, slopes, offsets, n_classes)

    def proba(
        self, scores: np.ndarray, slopes: np.ndarray | None = None, offsets: np.ndarray | None = None
    ) -> np.ndarray:
        """`_CalibratedClassifier.predict_proba` on response values (..., messages, columns), all at once;
        a vote passes its members' slopes and offsets stacked (members x 1 x columns)."""
        slopes = self.slopes if slopes is None else slopes
        offsets = self.offsets if offsets is None else offsets
        calibrated = expit(-(slopes * scores + offsets))
        if self.in_order:
            proba = calibrated
        else:
            proba = np.zeros((*scores.shape[:-1], self.n_classes))
            proba[..., self.positions] = calibrated
        if self.n_classes == 2:
            proba[..., 0] = 1.0 - proba[..., 1]
        else:
            denominator = proba.sum(axis=-1, keepdims=True)
            if denominator.all():
                proba = proba / denominator
            else:
                proba = np.divide(
                    proba, denominator, out=np.full_like(proba, 1 / self.n_classes), where=denominator != 0
                )
        # Scikit-learn's clip of rounding errors above 1; the mask is built only when some value is above 1.
        above = proba > 1.0
        if above.any():
            proba[above & (proba <= 1.0 + 1e-5)] = 1.0
        return proba


@dataclass(eq=False)
class _Part:
    """What one sigmoid-calibrated model adds to a product that several models may share."""

    weights: np.ndarray  # features x response columns
    naive_bayes: bool  # the columns are log-probabilities to normalise, not decision values
    intercept: np.ndarray
    calibration: _Calibration

    def response(self, product: np.ndarray) -> np.ndarray:
        if not self.naive_bayes:
            return product + self.intercept
        proba = np.exp(product - _log_sum_exp(product)[:, np.newaxis])
        return _response_columns(proba)


def _response_columns(proba: np.ndarray) -> np.ndarray:
    """As scikit-learn's response values of a classifier's probabilities: a binary one's second column only."""
    return proba[:, 1:] if proba.shape[1] == 2 else proba


def _log_sum_exp(array: np.ndarray) -> np.ndarray:
    """Row-wise log-sum-exp with the operations of the one scikit-learn's naive Bayes uses (its array-API
    checks cost more than the sums on one message)."""
    array_max = array.max(axis=1, keepdims=True)
    index_max = array == array_max
    array = np.array(array, copy=True)
    array[index_max] = -np.inf
    m = index_max.astype(array.dtype).sum(axis=1, keepdims=True, dtype=array.dtype)
    shift = np.where(np.isfinite(array_max), array_max, 0)
    exp = np.exp(array - shift)
    s = exp.sum(axis=1, keepdims=True, dtype=exp.dtype)
    s = np.where(s == 0, s, s / m)
    return np.asarray(np.squeeze(np.log1p(s) + np.log(m) + array_max, axis=1))


def _part(model: Any) -> _Part | None:
    """The weights and the arithmetic of one sigmoid-calibrated model, or None.

    A linear model's decision values are one product, and so are complement naive Bayes's log-probabilities.
    """
    calibration = _Calibration.of(model)
    if calibration is None:
        return None
    estimator = model.calibrated_classifiers_[0].estimator
    if isinstance(estimator, ComplementNB) and len(estimator.classes_) > 1:
        return _Part(estimator.feature_log_prob_.T, True, np.zeros(0), calibration)
    if hasattr(estimator, "decision_function") and hasattr(estimator, "coef_"):
        return _Part(estimator.coef_.T, False, estimator.intercept_, calibration)
    return None


def _twin(model: Any, ignore: np.ndarray) -> Predict | None:
    """A NumPy twin of `model.predict_proba`, or None: for a sigmoid-calibrated linear or naive Bayes model,
    an unweighted soft vote of them, or a sigmoid-calibrated soft vote.

    A vote's members are worked out together: their weights side by side in one sparse product (one per
    weight dtype, so that a float32 model's sums stay in float32 as in scikit-learn), their calibration and
    normalisation as one array (members x messages x classes). Each value goes through the same operations
    as in scikit-learn, only more of them at a time. Columns in `ignore` get zero weight: the same scores as
    zeroing them in the input, without a copy.
    """
    outer = _Calibration.of(model)
    if outer is not None and isinstance(model.calibrated_classifiers_[0].estimator, VotingClassifier):
        vote = _twin(model.calibrated_classifiers_[0].estimator, ignore)
        if vote is None:
            return None

        def calibrated_vote(matrix: Any) -> np.ndarray:
            return outer.proba(_response_columns(vote(matrix)))

        return calibrated_vote
    is_vote = isinstance(model, VotingClassifier)
    if is_vote and (model.voting != "soft" or model.weights is not None):
        return None
    found = [_part(member) for member in (getattr(model, "estimators_", []) if is_vote else [model])]
    parts = [part for part in found if part is not None]
    if not parts or len(parts) != len(found):
        return None
    calibration = parts[0].calibration
    if any(
        p.calibration.n_classes != calibration.n_classes
        or not np.array_equal(p.calibration.positions, calibration.positions)
        for p in parts
    ):
        return None
    blocks: dict[str, list[np.ndarray]] = {}
    columns = []
    for part in parts:
        block = blocks.setdefault(part.weights.dtype.str, [])
        start = sum(w.shape[1] for w in block)
        columns.append((part.weights.dtype.str, slice(start, start + part.weights.shape[1])))
        block.append(part.weights)
    # C-ordered copies: scipy would copy a transposed (Fortran-ordered) matrix on every product.
    weights = {dtype: np.ascontiguousarray(np.hstack(block)) for dtype, block in blocks.items()}
    for w in weights.values():
        w[ignore] = 0.0
    slopes = np.stack([p.calibration.slopes for p in parts])[:, np.newaxis, :]
    offsets = np.stack([p.calibration.offsets for p in parts])[:, np.newaxis, :]

    def predict_proba(matrix: Any) -> np.ndarray:
        products = {dtype: np.asarray(matrix @ w) for dtype, w in weights.items()}
        scores = np.stack([p.response(products[d][:, c]) for p, (d, c) in zip(parts, columns, strict=True)])
        proba = calibration.proba(scores, slopes, offsets)
        return np.asarray(proba.mean(axis=0)) if is_vote else proba[0]  # np.average's own sum, without its checks

    return predict_proba


def fast_predict_proba(
    model: Any, n_features: int, *, seed: int = 0, ignore: Sequence[int] | np.ndarray = ()
) -> Predict:
    """The fastest `predict_proba` of `model` that agrees with its own on a random sparse probe.

    `ignore` names input columns the model was trained without (they were zeroed): the returned function
    takes the full matrix and leaves them out itself.
    """
    columns = np.asarray(ignore, dtype=np.int64)
    fast = _twin(model, columns)
    if fast is None:
        return model.predict_proba if not len(columns) else lambda matrix: model.predict_proba(_zeroed(matrix, columns))
    probe = sp.random(8, n_features, density=min(1.0, 40 / max(n_features, 1)), format="csr", random_state=seed)
    # The ignored columns are set in the probe, so that leaving them out is checked too.
    marks = sp.csr_matrix((np.ones(len(columns)), (np.zeros(len(columns), dtype=int), columns)), shape=probe.shape)
    probe = sp.csr_matrix(probe + marks, dtype=np.float32)
    if np.array_equal(fast(probe), model.predict_proba(_zeroed(probe, columns))):
        return fast
    return lambda matrix: model.predict_proba(_zeroed(matrix, columns))


def _zeroed(matrix: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    if not len(columns):
        return matrix
    rows = sp.csr_matrix(matrix, copy=True)
    rows.data[np.isin(rows.indices, columns)] = 0.0
    rows.eliminate_zeros()
    return rows
