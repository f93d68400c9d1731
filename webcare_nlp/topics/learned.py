"""What makes two questions the same FAQ topic, learned from labelled topics, for archives of other topics.

Two messages about a damaged parcel may share no word ("kapot aangekomen", "scherm gebarsten"). A
classifier over the labelled FAQ topics of the corpus (or a team's own) learns which words point to the
same topic; a new message's scores against those known topics place it near messages with the same
need, even when the archive's topics are new. The topic features are the lexical rows plus these
scores, so a word the space never saw still counts.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from webcare_nlp.text.pipeline import ProcessedText
from webcare_nlp.topics.vectorize import TopicVectorizer

MIN_TOPICS = 5


class TopicSpace(TransformerMixin, BaseEstimator):
    """Scores of a message against the known FAQ topics: centred, L2-normalised logistic decision values.

    Args:
        C: inverse regularisation of the logistic regression.
        keep_per_topic: the largest weights kept per topic (the rest set to 0), which keeps the stored
            model near 1 MB; 1,000 loses little (see benchmarks/topics_eval.py).
        random_state: seed of the solver.

    Example:
        >>> from webcare_nlp.text.pipeline import TextPipeline
        >>> texts = ["koffer kwijt", "bagage zoek", "app werkt niet", "inloggen lukt niet", "geld terug", "refund"]
        >>> processed = TextPipeline().process_many(texts * 2, langs=["nl"] * 12)
        >>> space = TopicSpace().fit(processed, ["bagage", "bagage", "app", "app", "geld", "geld"] * 2)
        >>> space.transform(processed[:1]).shape
        (1, 3)
    """

    def __init__(self, *, C: float = 10.0, keep_per_topic: int = 1000, random_state: int = 0) -> None:
        self.C = C
        self.keep_per_topic = keep_per_topic
        self.random_state = random_state

    def fit(self, processed: list[ProcessedText], topics: list[str]) -> TopicSpace:
        self.vectorizer_ = TopicVectorizer().fit(processed)
        classifier = LogisticRegression(C=self.C, max_iter=300, random_state=self.random_state)
        classifier.fit(self.vectorizer_.transform(processed), topics)
        weights = classifier.coef_
        if weights.shape[0] == 1:  # two topics: one row of weights, the other topic its negative
            weights = np.vstack([-weights, weights])
        if weights.shape[1] > self.keep_per_topic:
            kept = np.argpartition(-np.abs(weights), self.keep_per_topic - 1, axis=1)[:, : self.keep_per_topic]
            mask = np.zeros(weights.shape, dtype=bool)
            np.put_along_axis(mask, kept, True, axis=1)
            weights = np.where(mask, weights, 0.0)
        self.weights_ = sp.csr_matrix(weights.T, dtype=np.float32)
        self.topics_ = [str(t) for t in classifier.classes_]
        return self

    def __sklearn_clone__(self) -> TopicSpace:
        # A fitted space is a trained resource: cloning a TopicModel or vectorizer that uses it keeps it.
        return self if hasattr(self, "weights_") else super().__sklearn_clone__()

    def transform(self, processed: list[ProcessedText]) -> np.ndarray:
        check_is_fitted(self, "weights_")
        scores = np.asarray((self.vectorizer_.transform(processed) @ self.weights_).todense(), dtype=np.float32)
        return normalize(scores - scores.mean(axis=1, keepdims=True))


class GuidedTopicVectorizer(TopicVectorizer):
    """TopicVectorizer rows joined with a TopicSpace's scores: `1 - weight` lexical, `weight` learned.

    Args:
        topic_space: a fitted TopicSpace (None: the lexical rows alone).
        weight: the learned part's share (0.35 chosen on the corpus with each sector's topics held out,
            see benchmarks/topics_eval.py).
        char_ngram_range, char_weight, min_df, max_features: as TopicVectorizer.
    """

    def __init__(
        self,
        topic_space: TopicSpace | None = None,
        *,
        weight: float = 0.35,
        char_ngram_range: tuple[int, int] = (3, 5),
        char_weight: float = 2.0,
        min_df: int = 2,
        max_features: int = 100_000,
    ) -> None:
        super().__init__(
            char_ngram_range=char_ngram_range, char_weight=char_weight, min_df=min_df, max_features=max_features
        )
        self.topic_space = topic_space
        self.weight = weight

    def transform(self, processed: list[ProcessedText]) -> sp.csr_matrix:
        lexical = super().transform(processed)
        if self.topic_space is None:
            return lexical
        if not processed:
            return sp.csr_matrix((0, lexical.shape[1] + len(self.topic_space.topics_)), dtype=np.float32)
        learned = sp.csr_matrix(self.topic_space.transform(processed))
        return normalize(sp.hstack([lexical * (1 - self.weight), learned * self.weight], format="csr"))


def fit_topic_space(processed: list[ProcessedText], records: list[dict[str, Any]]) -> TopicSpace | None:
    """A TopicSpace over the records' `faq_topic` labels (those of two messages or more), or None with fewer
    than MIN_TOPICS such topics."""
    counts = Counter(str(r["faq_topic"]) for r in records if r.get("faq_topic"))
    # A topic of one message teaches nothing about what its messages share (and a few rows spread over
    # many such topics make scikit-learn warn that this looks like regression).
    rows = [i for i, r in enumerate(records) if r.get("faq_topic") and counts[str(r["faq_topic"])] >= 2]
    topics = [str(records[i]["faq_topic"]) for i in rows]
    if len(set(topics)) < MIN_TOPICS:
        return None
    return TopicSpace().fit([processed[i] for i in rows], topics)
