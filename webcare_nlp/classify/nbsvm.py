"""A linear SVM on naive-Bayes-scaled features (NBSVM), one binary SVM per class.

Wang and Manning (2012), "Baselines and bigrams": scaling each feature by its log-count ratio between
a class and the rest lets the SVM start from what naive Bayes knows about short texts, and it beats
both on sentiment. Once fitted, the scaling folds into the weights (w . (r * x) = (w * r) . x), so the
model is an ordinary linear classifier: `coef_`, `intercept_` and `decision_function` as scikit-learn's
own, and the engine's NumPy twin treats it like any linear model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.svm import LinearSVC
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data


def log_count_ratio(
    X: sp.csr_matrix, positive: np.ndarray, alpha: float, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """log((p / |p|) / (q / |q|)) per feature, p and q the smoothed (weighted) feature sums in and out of the class.

    Example:
        >>> X = sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
        >>> log_count_ratio(X, np.array([True, True, False]), alpha=1.0).round(3).tolist()
        [0.811, -0.981]
    """
    # Negative values (none in the engine's features) would make the sums meaningless: they count as 0.
    counts = X.maximum(0) if X.min() < 0 else X
    inside, outside = counts[positive], counts[~positive]
    if sample_weight is None:
        sums_in, sums_out = inside.sum(axis=0), outside.sum(axis=0)
    else:
        weights = np.asarray(sample_weight, dtype=float)
        sums_in, sums_out = inside.T @ weights[positive], outside.T @ weights[~positive]
    p = alpha + np.asarray(sums_in).ravel()
    q = alpha + np.asarray(sums_out).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


class NBScaledSVC(ClassifierMixin, BaseEstimator):
    """One-vs-rest linear SVMs, each on the features scaled by that class's log-count ratio.

    Args:
        C: the SVMs' inverse regularisation strength.
        alpha: additive smoothing of the feature sums.
        svm: the binary SVM to scale for (default: LinearSVC with balanced class weights, tol 1e-3, seed 0);
            it must have `coef_` and `intercept_` once fitted.

    Example:
        >>> X = sp.csr_matrix(np.array([[2.0, 0, 0], [1.0, 0, 1], [0, 2.0, 0], [0, 1.0, 1], [0, 0, 2.0], [1.0, 0, 2]]))
        >>> NBScaledSVC(C=1.0).fit(X, ["a", "a", "b", "b", "c", "c"]).predict(X).tolist()
        ['a', 'a', 'b', 'b', 'c', 'c']
    """

    def __init__(self, *, C: float = 1.0, alpha: float = 1.0, svm: Any = None) -> None:
        self.C = C
        self.alpha = alpha
        self.svm = svm

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _svm(self) -> Any:
        if self.svm is not None:
            return clone(self.svm).set_params(C=self.C)
        return LinearSVC(C=self.C, class_weight="balanced", tol=1e-3, random_state=0)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> NBScaledSVC:
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.shape != (X.shape[0],):
                raise ValueError(f"sample_weight has shape {sample_weight.shape}; expected ({X.shape[0]},)")
            if not sample_weight.any():
                raise ValueError("every sample weight is zero: there is nothing to learn from")
        # A class whose rows all weigh 0 is not there to learn (its balanced weight would divide by 0).
        weighed = self.classes_ if sample_weight is None else np.unique(y[sample_weight > 0])
        if len(weighed) < 2:
            raise ValueError(f"NBScaledSVC needs at least two classes; the labels have one class: {weighed.tolist()}")
        X = sp.csr_matrix(X)
        # Two classes: one SVM for the second, as scikit-learn's binary linear models have one row.
        targets = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        coef, intercept = [], []
        for target in targets:
            positive = y == target
            ratio = log_count_ratio(X, positive, self.alpha, sample_weight)
            svm = self._svm().fit(X @ sp.diags(ratio), positive.astype(int), sample_weight=sample_weight)
            coef.append(svm.coef_[0] * ratio)
            intercept.append(float(svm.intercept_[0]))
        self.coef_ = np.vstack(coef)
        self.intercept_ = np.asarray(intercept)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Scikit-learn's linear decision values: one column per class, or one for two classes."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        scores = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> np.ndarray:
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]
