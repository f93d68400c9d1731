"""The NB-scaled SVM is the SVM on scaled features, folded into one linear model."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from webcare_nlp.classify.fast import fast_predict_proba
from webcare_nlp.classify.models import calibrated
from webcare_nlp.classify.nbsvm import NBScaledSVC, log_count_ratio

WORDS = np.array(
    [
        [3, 0, 1, 0],  # "top", -, "dank", -
        [2, 0, 1, 1],
        [0, 2, 0, 1],  # -, "kwijt", -, "pakket"
        [0, 3, 0, 1],
        [0, 0, 0, 2],
        [1, 0, 0, 3],
    ],
    dtype=float,
)
LABELS = np.array(["positive", "positive", "negative", "negative", "neutral", "neutral"])


def test_a_word_seen_mostly_in_a_class_gets_a_positive_ratio_for_it():
    ratio = log_count_ratio(sp.csr_matrix(WORDS), LABELS == "positive", alpha=1.0)
    assert ratio[0] > 0 and ratio[2] > 0
    assert ratio[1] < 0 and ratio[3] < 0


@pytest.mark.parametrize("labels", [LABELS, LABELS == "negative"])
def test_the_folded_weights_give_the_svm_on_scaled_features(labels):
    x = sp.csr_matrix(WORDS)
    model = NBScaledSVC(C=1.0, svm=LinearSVC(C=5.0, tol=1e-6, random_state=0)).fit(x, labels)
    targets = model.classes_[1:] if len(model.classes_) == 2 else model.classes_
    assert model.coef_.shape == (len(targets), WORDS.shape[1])
    for row, target in enumerate(targets):
        ratio = log_count_ratio(x, labels == target, alpha=1.0)
        svm = LinearSVC(C=1.0, tol=1e-6, random_state=0).fit(x @ sp.diags(ratio), labels == target)
        expected = svm.decision_function(x @ sp.diags(ratio))
        scores = model.decision_function(x)
        assert np.allclose(scores if scores.ndim == 1 else scores[:, row], expected)
    assert (model.predict(x) == labels).mean() == 1.0


def test_one_class_is_refused_by_name():
    with pytest.raises(ValueError, match="two classes"):
        NBScaledSVC().fit(sp.csr_matrix(WORDS), ["positive"] * len(WORDS))


def test_the_calibrated_model_gets_the_exact_numpy_twin():
    rng = np.random.default_rng(5)
    x = sp.csr_matrix(rng.random((60, 20)) * (rng.random((60, 20)) < 0.3), dtype=np.float32)
    y = np.array(["vraag", "klacht", "compliment"] * 20)
    for labels in (y, y == "klacht"):
        model = calibrated(NBScaledSVC(C=0.3), folds=3).fit(x, labels)
        predict = fast_predict_proba(model, 20)
        assert predict != model.predict_proba
        assert np.array_equal(predict(x), model.predict_proba(x))


def _liblinear_limits(estimator):  # type: ignore[no-untyped-def]
    # liblinear's own: LinearSVC fails these two checks the same way.
    reason = "liblinear: sample weights are not equivalent to repeated rows"
    return {
        name: reason
        for name in ("check_sample_weight_equivalence_on_dense_data", "check_sample_weight_equivalence_on_sparse_data")
    }


@parametrize_with_checks([NBScaledSVC()], expected_failed_checks=_liblinear_limits)
def test_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def test_sample_weights_count_in_the_ratio():
    x = sp.csr_matrix(WORDS)
    positive = LABELS == "positive"
    doubled = log_count_ratio(sp.csr_matrix(np.vstack([WORDS, WORDS[:1]])), np.append(positive, True), alpha=1.0)
    weighted = log_count_ratio(x, positive, alpha=1.0, sample_weight=np.array([2.0, 1, 1, 1, 1, 1]))
    assert np.allclose(doubled, weighted)
