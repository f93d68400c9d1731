"""Calibrated probabilities of the linear label models in plain NumPy, for the per-message path.

scikit-learn's `CalibratedClassifierCV.predict_proba` validates its input and refits a label encoder on
every call, about a millisecond each: most of a single message's time. `fast_predict_proba` does the
same arithmetic in the same order, and is used only when it gives scikit-learn's answer to the bit on
a probe (else the model's own `predict_proba` is used).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV

Predict = Callable[[Any], np.ndarray]


def _calibrated_linear(model: CalibratedClassifierCV, ignore: np.ndarray) -> Predict | None:
    """A NumPy twin of `model.predict_proba` for one sigmoid-calibrated linear model, or None.

    Columns in `ignore` get zero weight: the same scores as zeroing them in the input, without a copy.
    """
    if not isinstance(model, CalibratedClassifierCV) or len(getattr(model, "calibrated_classifiers_", ())) != 1:
        return None
    calibrated = model.calibrated_classifiers_[0]
    estimator = calibrated.estimator
    if calibrated.method != "sigmoid" or not hasattr(estimator, "coef_") or not hasattr(estimator, "decision_function"):
        return None
    coef_t = estimator.coef_.T.copy()
    coef_t[ignore] = 0.0
    intercept = estimator.intercept_
    n_classes = len(calibrated.classes)
    # Where each of the estimator's classes sits among the calibrated ones (LabelEncoder: sorted order).
    positions = np.searchsorted(np.sort(calibrated.classes), estimator.classes_)
    if n_classes == 2:
        # One decision column, for the second class; scikit-learn pairs it with the first position, plus one.
        positions = positions[:1] + 1
    sigmoids = [(calibrator.a_, calibrator.b_) for calibrator in calibrated.calibrators]

    def predict_proba(matrix: Any) -> np.ndarray:
        scores = matrix @ coef_t + intercept
        proba = np.zeros((matrix.shape[0], n_classes))
        for position, column, (a, b) in zip(positions, scores.T, sigmoids, strict=False):
            proba[:, position] = expit(-(a * column + b))
        if n_classes == 2:
            proba[:, 0] = 1.0 - proba[:, 1]
        else:
            denominator = np.sum(proba, axis=1)[:, np.newaxis]
            proba = np.divide(proba, denominator, out=np.full_like(proba, 1 / n_classes), where=denominator != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba

    return predict_proba


def fast_predict_proba(
    model: Any, n_features: int, *, seed: int = 0, ignore: Sequence[int] | np.ndarray = ()
) -> Predict:
    """The fastest `predict_proba` of `model` that agrees with its own on a random sparse probe.

    `ignore` names input columns the model was trained without (they were zeroed): the returned function
    takes the full matrix and leaves them out itself.
    """
    columns = np.asarray(ignore, dtype=np.int64)
    fast = _calibrated_linear(model, columns)
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
