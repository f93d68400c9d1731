"""TF-IDF vocabularies capped at a number of terms, the same on every machine.

scikit-learn's `max_features` keeps the most frequent terms with an unstable sort, and numpy's unstable
sort orders equal keys by the CPU's vector instructions: a machine with AVX-512 and one with AVX2 only kept
different terms of equal frequency at the cut, so `webcare train` on the same data gave different models.
Here the cut breaks ties by the term itself.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

# What decides which terms exist: the rest of a TfidfVectorizer's settings only weigh them.
_COUNTING = ("analyzer", "ngram_range", "min_df", "lowercase", "preprocessor", "tokenizer")


def capped_tfidf(documents: Sequence[Any], max_features: int, **params: Any) -> TfidfVectorizer:
    """A TfidfVectorizer(**params) fitted on `documents`, keeping the `max_features` terms of highest
    frequency over all documents (scikit-learn's rule), of equal frequency the first alphabetically.

    Example:
        >>> vectorizer = capped_tfidf(["bb aa", "cc aa", "dd"], 2, analyzer="word")
        >>> sorted(vectorizer.vocabulary_)
        ['aa', 'bb']
    """
    counter = CountVectorizer(**{key: value for key, value in params.items() if key in _COUNTING})
    counts = counter.fit_transform(documents)
    terms = counter.get_feature_names_out()  # in column order, which is alphabetical
    if len(terms) > max_features:
        frequency = np.asarray(counts.sum(axis=0)).ravel()
        terms = terms[np.sort(np.argsort(-frequency, kind="stable")[:max_features])]
    settings = {key: value for key, value in params.items() if key != "min_df"}  # already applied above
    with warnings.catch_warnings():
        # Given a vocabulary, scikit-learn warns of its upper-case terms ("NEG_" marks a negated lemma) when
        # `lowercase` is on, though a callable analyzer, as the lemma vectorizer's, never lowercases.
        warnings.filterwarnings("ignore", "Upper case characters found in vocabulary", UserWarning)
        vectorizer = TfidfVectorizer(**settings, vocabulary=list(terms)).fit(documents)
    # The fitted vocabulary_ holds the terms; the list given to find them would only double the artefact.
    vectorizer.vocabulary = None
    return vectorizer
