"""Intent and sentiment decided together: the two models' probabilities reweighted by how the labels pair up.

The models are trained apart, so nothing stops them from calling a message a negative compliment, a pair
that labels.md's definitions all but rule out (a compliment is praise). The training labels say which
pairs occur: each pair's lift (how much more often it occurs than the two labels would by chance) raised
to a small power reweights the product of the two distributions, and its marginals are the new
probabilities. In 5-fold cross-validation on the corpus (strength 0.25) this kept intent macro-F1 and
raised sentiment's by 0.004, and the expected calibration error fell from 0.056 to 0.023 for intent and
from 0.029 to 0.018 for sentiment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def pair_weights(
    intents: Sequence[str],
    sentiments: Sequence[str],
    intent_classes: Sequence[str],
    sentiment_classes: Sequence[str],
    *,
    strength: float,
    smoothing: float = 1.0,
) -> np.ndarray:
    """(intent classes x sentiment classes) weights: each pair's lift in the training labels, to `strength`.

    Example:
        >>> w = pair_weights(["praise", "praise", "gripe"], ["pos", "pos", "neg"], ["gripe", "praise"],
        ...                  ["neg", "pos"], strength=1.0)
        >>> bool(w[1, 1] > 1 > w[1, 0])
        True
    """
    row = {label: k for k, label in enumerate(intent_classes)}
    column = {label: k for k, label in enumerate(sentiment_classes)}
    counts = np.full((len(intent_classes), len(sentiment_classes)), smoothing, dtype=np.float64)
    for intent, sentiment in zip(intents, sentiments, strict=True):
        counts[row[intent], column[sentiment]] += 1
    joint = counts / counts.sum()
    lift = joint / (joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True))
    return np.asarray(lift**strength)


def label_pair_weights(
    records: Sequence[dict[str, Any]], intent_model: Any, sentiment_model: Any, *, strength: float
) -> np.ndarray | None:
    """`pair_weights` of labelled records in the columns of two fitted models; None when `strength` is 0."""
    if not strength:
        return None
    return pair_weights(
        [str(r["intent"]) for r in records],
        [str(r["sentiment"]) for r in records],
        [str(c) for c in intent_model.classes_],
        [str(c) for c in sentiment_model.classes_],
        strength=strength,
    )


def joint_marginals(
    p_intent: np.ndarray, p_sentiment: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The intent and sentiment probabilities of the reweighted joint distribution, row by row."""
    joint = p_intent[:, :, None] * p_sentiment[:, None, :] * weights[None, :, :]
    joint /= joint.sum(axis=(1, 2), keepdims=True)
    return joint.sum(axis=2), joint.sum(axis=1)
