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
from types import SimpleNamespace
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


def _rows_of(vectorizer: TfidfVectorizer, distinct: list[str], cache: WordRows) -> list[tuple[np.ndarray, np.ndarray]]:
    """The n-gram rows of distinct words, from `cache` or made and remembered there."""
    if len(cache) > CACHE_LIMIT:
        cache.clear()
    cached = list(map(cache.get, distinct))
    if None in cached:
        analyzer = vectorizer.build_analyzer()
        for i, row in enumerate(cached):
            if row is None:
                cached[i] = cache[distinct[i]] = _word_row(vectorizer.vocabulary_, analyzer(distinct[i]))
    return cast(list[tuple[np.ndarray, np.ndarray]], cached)


def char_wb_counts(vectorizer: TfidfVectorizer, texts: Sequence[str], cache: WordRows) -> sp.csr_matrix:
    """The n-gram counts of an `analyzer="char_wb"` vectoriser: whitespace-split words, each padded alone.

    `cache` keeps each word's row between calls; pass the same dict for the same fitted vectoriser.
    """
    n_columns = len(vectorizer.vocabulary_)
    if len(texts) == 1:
        columns, counts = char_wb_row(vectorizer, texts[0], cache)
        return sp.csr_matrix((counts, columns, np.array([0, len(columns)])), shape=(1, n_columns))
    splits = [text.split() for text in texts]
    words_in_order = list(chain.from_iterable(splits))
    distinct = list(dict.fromkeys(words_in_order))  # the batch's word matrix has one row per distinct word
    local = {word: row for row, word in enumerate(distinct)}
    word_ids = list(map(local.__getitem__, words_in_order))
    indptr = np.cumsum(np.fromiter(chain((0,), map(len, splits)), dtype=np.int64))
    rows = _rows_of(vectorizer, distinct, cache)
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


def _summed(rows: list[tuple[np.ndarray, np.ndarray]], word_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """One message's counts summed by numpy, as sorted columns and float32 counts: the sparse product's three
    matrices cost more than the sum itself for the single message of an agent's request. The counts are
    whole numbers, so the sum is exact."""
    if not word_ids:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
    columns = np.concatenate([rows[i][0] for i in word_ids])
    counts = np.concatenate([rows[i][1] for i in word_ids])
    distinct, position = np.unique(columns, return_inverse=True)
    return distinct, np.bincount(position, weights=counts, minlength=len(distinct)).astype(np.float32)


def char_wb_row(vectorizer: TfidfVectorizer, text: str, cache: WordRows) -> tuple[np.ndarray, np.ndarray]:
    """`char_wb_counts` of one text as its sorted columns and float32 counts, without a scipy matrix."""
    words = text.split()
    distinct = list(dict.fromkeys(words))
    local = {word: row for row, word in enumerate(distinct)}
    return _summed(_rows_of(vectorizer, distinct, cache), list(map(local.__getitem__, words)))


def term_row(vectorizer: TfidfVectorizer, terms: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """`term_counts` of one document as its sorted columns and float32 counts, without a scipy matrix."""
    columns = np.fromiter(filter(partial(is_not, None), map(vectorizer.vocabulary_.get, terms)), dtype=np.int32)
    distinct, counts = np.unique(columns, return_counts=True)
    return distinct, counts.astype(np.float32)


def tfidf_weight_row(
    vectorizer: TfidfVectorizer, columns: np.ndarray, counts: np.ndarray, *, dtype: type = np.float32
) -> np.ndarray:
    """`tfidf_weight` of one row given as sorted columns and counts, in `dtype`: the same operations on the
    same values in the same order (the l2 norm by the very routine `tfidf_weight` calls), so the same floats."""
    data: np.ndarray = np.array(counts, dtype=dtype)
    if vectorizer.sublinear_tf:
        np.log(data, data)
        data += 1.0
    if vectorizer.use_idf:
        data *= vectorizer.idf_[columns]
    if vectorizer.norm == "l2":
        # The routine reads only these four attributes of a CSR matrix; a scipy matrix of one row would cost
        # more in its checks than the norm itself.
        row = SimpleNamespace(data=data, shape=(1, len(vectorizer.vocabulary_)), indices=columns)
        row.indptr = np.array([0, len(columns)], dtype=columns.dtype)
        inplace_csr_row_normalize_l2(row)
    elif vectorizer.norm is not None:
        matrix = sp.csr_matrix((data, columns, [0, len(columns)]), shape=(1, len(vectorizer.vocabulary_)))
        data = normalize(matrix, norm=vectorizer.norm, copy=False).data
    return data


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
