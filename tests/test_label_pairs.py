"""Intent and sentiment decided together (classify.pairs)."""

import numpy as np

from webcare_nlp.classify.pairs import joint_marginals, pair_weights
from webcare_nlp.engine import Engine

INTENTS = ["complaint", "compliment", "question"]
SENTIMENTS = ["negative", "neutral", "positive"]
# Complaints are negative, compliments positive, questions mostly neutral: as in labels.md's definitions.
LABELS = [("complaint", "negative")] * 8 + [("compliment", "positive")] * 8 + [("question", "neutral")] * 6
LABELS += [("question", "negative")] * 2


def test_a_pair_that_never_occurs_is_weighed_down_and_a_common_one_up():
    weights = pair_weights(*zip(*LABELS, strict=True), INTENTS, SENTIMENTS, strength=1.0)
    assert weights[INTENTS.index("compliment"), SENTIMENTS.index("negative")] < 1
    assert weights[INTENTS.index("compliment"), SENTIMENTS.index("positive")] > 1
    assert np.allclose(pair_weights(*zip(*LABELS, strict=True), INTENTS, SENTIMENTS, strength=0.0), 1.0)


def test_joint_marginals_are_distributions_and_pull_an_unlikely_pair_apart():
    weights = pair_weights(*zip(*LABELS, strict=True), INTENTS, SENTIMENTS, strength=1.0)
    # The intent model is torn between complaint and compliment; the sentiment model is sure it is negative.
    p_intent = np.array([[0.45, 0.5, 0.05]])
    p_sentiment = np.array([[0.9, 0.05, 0.05]])
    intent, sentiment = joint_marginals(p_intent, p_sentiment, weights)
    assert np.allclose(intent.sum(axis=1), 1) and np.allclose(sentiment.sum(axis=1), 1)
    assert INTENTS[int(intent.argmax())] == "complaint"
    assert SENTIMENTS[int(sentiment.argmax())] == "negative"
    # Without weights (strength 0) the product's marginals are the two models' own probabilities.
    plain = pair_weights(*zip(*LABELS, strict=True), INTENTS, SENTIMENTS, strength=0.0)
    same_intent, same_sentiment = joint_marginals(p_intent, p_sentiment, plain)
    assert np.allclose(same_intent, p_intent) and np.allclose(same_sentiment, p_sentiment)


def test_trained_model_keeps_its_pairs_and_an_older_one_decides_apart(tiny_model):
    engine = Engine.load(tiny_model)
    assert engine.label_pairs is not None
    assert engine.label_pairs.shape == (len(engine.models["intent"].classes_), len(engine.models["sentiment"].classes_))
    result = engine.analyze("Waar blijft mijn pakket nou?")
    assert abs(sum(result["intent_scores"].values()) - 1) < 1e-3
    engine.label_pairs = None  # a model trained before the pairs existed
    assert engine.analyze("Waar blijft mijn pakket nou?")["intent"] in engine.models["intent"].classes_


def test_weights_that_do_not_fit_the_label_models_are_refused(tiny_model):
    import pytest

    from webcare_nlp.errors import ModelError

    engine = Engine.load(tiny_model)
    with pytest.raises(ModelError, match="inconsistent"):
        Engine(
            text_pipeline=engine.text_pipeline,
            vectorizer=engine.vectorizer,
            models=engine.models,
            label_pairs=np.ones((2, 2)),
        )
