"""TF-IDF transforms for fitted scikit-learn TfidfVectorizers, without a Python loop per n-gram.

They give the same matrices as `TfidfVectorizer.transform`, to the bit (a test checks it); only the way
the counts are gathered differs: character n-grams are looked up once per distinct word, and a message is
the sum of its words' rows, done by one sparse product.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from itertools import chain
from operator import is_not
from typing import cast

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

# A word's character n-grams as (vocabulary columns, counts); bounded, so memory stays flat on archives.
WordRows = dict[str, tuple[np.ndarray, np.ndarray]]
CACHE_LIMIT = 200_000


def _word_row(vocabulary: dict[str, int], grams: list[str]) -> tuple[np.ndarray, np.ndarray]:
    counts: dict[int, int] = {}
    for gram in grams:
        column = vocabulary.get(gram)
        if column is not None:
            counts[column] = counts.get(column, 0) + 1
    return (
        np.fromiter(counts.keys(), dtype=np.int32, count=len(counts)),
        np.fromiter(counts.values(), dtype=np.float32, count=len(counts)),
    )


def char_wb_counts(vectorizer: TfidfVectorizer, texts: Sequence[str], cache: WordRows) -> sp.csr_matrix:
    """The n-gram counts of an `analyzer="char_wb"` vectoriser: whitespace-split words, each padded alone.

    `cache` keeps each word's row between calls; pass the same dict for the same fitted vectoriser.
    """
    if len(cache) > CACHE_LIMIT:
        cache.clear()
    splits = [text.split() for text in texts]
    words_in_order = list(chain.from_iterable(splits))
    distinct = list(dict.fromkeys(words_in_order))  # the batch's word matrix has one row per distinct word
    local = {word: row for row, word in enumerate(distinct)}
    word_ids = list(map(local.__getitem__, words_in_order))
    indptr = np.cumsum(np.fromiter(chain((0,), map(len, splits)), dtype=np.int64))
    cached = list(map(cache.get, distinct))
    if None in cached:
        analyzer = vectorizer.build_analyzer()
        for i, row in enumerate(cached):
            if row is None:
                cached[i] = cache[distinct[i]] = _word_row(vectorizer.vocabulary_, analyzer(distinct[i]))
    rows = cast(list[tuple[np.ndarray, np.ndarray]], cached)
    n_columns = len(vectorizer.vocabulary_)
    if len(texts) == 1:
        return _one_message(rows, word_ids, n_columns)
    words = sp.csr_matrix(
        (
            np.concatenate([counts for _, counts in rows]) if rows else np.zeros(0, np.float32),
            np.concatenate([columns for columns, _ in rows]) if rows else np.zeros(0, np.int32),
            np.cumsum([0] + [len(columns) for columns, _ in rows]),
        ),
        shape=(len(rows), n_columns),
    )
    messages = sp.csr_matrix(
        (np.ones(len(word_ids), dtype=np.float32), np.asarray(word_ids, dtype=np.int32), indptr),
        shape=(len(texts), len(rows)),
    )
    # The product leaves each row's columns unsorted, and the weighting needs them sorted (its sums run in
    # column order): two transposes, each linear, sort them about three times cheaper than a sort per row.
    return sp.csr_matrix((messages @ words).tocsc().tocsr())


def _one_message(rows: list[tuple[np.ndarray, np.ndarray]], word_ids: list[int], n_columns: int) -> sp.csr_matrix:
    """One message's counts summed by numpy: the sparse product's three matrices cost more than the sum itself
    for the single message of an agent's request. The counts are whole numbers, so the sum is exact."""
    if not word_ids:
        return sp.csr_matrix((1, n_columns), dtype=np.float32)
    columns = np.concatenate([rows[i][0] for i in word_ids])
    counts = np.concatenate([rows[i][1] for i in word_ids])
    distinct, position = np.unique(columns, return_inverse=True)
    summed = np.bincount(position, weights=counts, minlength=len(distinct)).astype(np.float32)
    return sp.csr_matrix((summed, distinct, np.array([0, len(distinct)])), shape=(1, n_columns))


def term_counts(vectorizer: TfidfVectorizer, documents: Iterable[Sequence[str]]) -> sp.csr_matrix:
    """The counts of a vectoriser whose analyzer returns the terms as given (a list per document)."""
    vocabulary = vectorizer.vocabulary_
    columns: list[int] = []
    indptr = [0]
    known = partial(is_not, None)
    for terms in documents:
        columns.extend(filter(known, map(vocabulary.get, terms)))
        indptr.append(len(columns))
    counts = sp.csr_matrix(
        (np.ones(len(columns), dtype=np.float32), np.asarray(columns, dtype=np.int32), np.asarray(indptr)),
        shape=(len(indptr) - 1, len(vocabulary)),
    )
    counts.sum_duplicates()
    return counts


def tfidf_weight(vectorizer: TfidfVectorizer, counts: sp.csr_matrix) -> sp.csr_matrix:
    """TfidfTransformer's arithmetic on float32 counts, in its order: sublinear tf, idf, l2 norm."""
    matrix = sp.csr_matrix(counts, dtype=np.float32)
    matrix.sort_indices()
    if vectorizer.sublinear_tf:
        np.log(matrix.data, matrix.data)
        matrix.data += 1.0
    if vectorizer.use_idf:
        matrix.data *= vectorizer.idf_[matrix.indices]
    if vectorizer.norm == "l2":
        inplace_csr_row_normalize_l2(matrix)  # what `normalize` runs, without its argument checks
    elif vectorizer.norm is not None:
        matrix = normalize(matrix, norm=vectorizer.norm, copy=False)
    return sp.csr_matrix(matrix)
