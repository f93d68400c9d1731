"""Calibrated probabilities of the linear label models in plain NumPy, for the per-message path.

scikit-learn's `CalibratedClassifierCV.predict_proba` validates its input and refits a label encoder on
every call, about a millisecond each: most of a single message's time. `fast_predict_proba` does the
same arithmetic in the same order, and is used only when it gives scikit-learn's answer to the bit on
a probe (else the model's own `predict_proba` is used).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV

Predict = Callable[[Any], np.ndarray]


def _calibrated_linear(model: CalibratedClassifierCV) -> Predict | None:
    """A NumPy twin of `model.predict_proba` for one sigmoid-calibrated linear model, or None."""
    if not isinstance(model, CalibratedClassifierCV) or len(getattr(model, "calibrated_classifiers_", ())) != 1:
        return None
    calibrated = model.calibrated_classifiers_[0]
    estimator = calibrated.estimator
    if calibrated.method != "sigmoid" or not hasattr(estimator, "coef_") or not hasattr(estimator, "decision_function"):
        return None
    coef_t = estimator.coef_.T
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


def fast_predict_proba(model: Any, n_features: int, *, seed: int = 0) -> Predict:
    """The fastest `predict_proba` of `model` that agrees with its own on a random sparse probe."""
    fast = _calibrated_linear(model)
    if fast is None:
        return model.predict_proba
    probe = sp.random(8, n_features, density=min(1.0, 40 / max(n_features, 1)), format="csr", random_state=seed)
    probe = sp.csr_matrix(probe, dtype=np.float32)
    if np.array_equal(fast(probe), model.predict_proba(probe)):
        return fast
    return model.predict_proba
