"""MessageVectorizer: lemma n-grams, character n-grams, cues, channel and platform in one sparse matrix."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from webcare_nlp.errors import ModelError
from webcare_nlp.features.cues import CUE_NAMES, NEGATION_WINDOW, NEGATIONS, cue_matrix
from webcare_nlp.features.fast_tfidf import (
    WordRows,
    char_wb_counts,
    char_wb_row,
    term_counts,
    term_row,
    tfidf_weight,
    tfidf_weight_row,
)
from webcare_nlp.features.packing import PacksVocabularies
from webcare_nlp.features.vocabulary import capped_tfidf
from webcare_nlp.schema import CHANNELS, PLATFORMS
from webcare_nlp.text.pipeline import ProcessedText

_SKIP_IN_NGRAMS = frozenset({",", ".", ":", ";", "(", ")", '"', "'", "-"})
# A negation's scope: up to NEGATION_WINDOW words, ended early by punctuation or a contrast or conjunction.
_ENDS_SCOPE = _SKIP_IN_NGRAMS | {"!", "?", "maar", "but", "en", "and", "want", "because"}
NEGATED = "NEG_"


@dataclass
class Observation:
    """One message as the feature layer sees it: the processed text plus optional metadata."""

    processed: ProcessedText
    channel: str | None = None
    platform: str | None = None


def lemma_ngrams(processed: ProcessedText) -> list[str]:
    """Lemma unigrams and bigrams, punctuation left out; a unigram in a negation's scope is marked.

    Example:
        >>> from webcare_nlp.text.pipeline import TextPipeline
        >>> lemma_ngrams(TextPipeline().process_many(["niet slecht, wel duur"])[0])[:5]
        ['niet', 'NEG_slecht', 'wel', 'duur', 'niet slecht']
    """
    lemmas, unigrams = [], []
    scope = 0
    for lemma in processed.lemmas:
        if lemma in _ENDS_SCOPE:
            scope = 0
            if lemma in _SKIP_IN_NGRAMS:
                continue
            unigrams.append(lemma)
        elif lemma in NEGATIONS:
            scope = NEGATION_WINDOW
            unigrams.append(lemma)
        elif scope:
            # "niet slecht" is not "slecht": without the mark the word's weight is a mix of both. With the
            # share cues, 5-fold CV on the corpus (two fold seeds): sentiment and intent macro-F1 +0.002-0.005.
            unigrams.append(NEGATED + lemma)
            scope -= 1
        else:
            unigrams.append(lemma)
        lemmas.append(lemma)
    return unigrams + list(map(" ".join, pairwise(lemmas)))


def _identity(items: list[str]) -> list[str]:
    return items


class MessageVectorizer(PacksVocabularies, TransformerMixin, BaseEstimator):
    """Vectorises Observations for the classifiers, the ranker and the topic model.

    Args:
        char_ngram_range: character n-gram sizes (within word boundaries) on the folded tokens.
        max_char_features: cap on character n-grams, to keep the artefact small.
        max_word_features: cap on lemma unigrams and bigrams.
        min_df: minimum document frequency of an n-gram.
        word_weight: scale of the lemma n-gram block against the character n-gram block (both L2-normalised).
        cue_weight: scale of the cue block against the TF-IDF blocks.
        meta_weight: scale of the channel and platform one-hot block.

    Example:
        >>> from webcare_nlp.text.pipeline import TextPipeline
        >>> texts = ["Waar is mijn pakket?", "Top geholpen, dank!"]
        >>> obs = [Observation(p) for p in TextPipeline().process_many(texts)]
        >>> MessageVectorizer(min_df=1).fit_transform(obs).shape[0]
        2
    """

    def __init__(
        self,
        *,
        char_ngram_range: tuple[int, int] = (2, 5),
        max_char_features: int = 60_000,
        max_word_features: int = 30_000,
        min_df: int = 2,
        word_weight: float = 1.0,
        cue_weight: float = 1.0,
        meta_weight: float = 1.0,
    ) -> None:
        self.char_ngram_range = char_ngram_range
        self.max_char_features = max_char_features
        self.max_word_features = max_word_features
        self.min_df = min_df
        self.word_weight = word_weight
        self.cue_weight = cue_weight
        self.meta_weight = meta_weight

    def fit(self, observations: list[Observation], y: object = None) -> MessageVectorizer:
        self.word_vectorizer_ = capped_tfidf(
            [lemma_ngrams(o.processed) for o in observations],
            self.max_word_features,
            analyzer=_identity,
            min_df=self.min_df,
            sublinear_tf=True,
            dtype=np.float32,
        )
        self.char_vectorizer_ = capped_tfidf(
            [o.processed.feature_text for o in observations],
            self.max_char_features,
            analyzer="char_wb",
            ngram_range=self.char_ngram_range,
            min_df=self.min_df,
            sublinear_tf=True,
            dtype=np.float32,
        )
        self.meta_names_ = [f"channel={c}" for c in CHANNELS] + [f"platform={p}" for p in PLATFORMS]
        self.cue_names_ = list(CUE_NAMES)
        n_text = len(self.word_vectorizer_.vocabulary_) + len(self.char_vectorizer_.vocabulary_) + len(CUE_NAMES)
        # Columns the platform model must not see, since it predicts exactly that.
        self.platform_columns_ = np.arange(n_text + len(CHANNELS), n_text + len(CHANNELS) + len(PLATFORMS))
        self.n_features_out_ = n_text + len(self.meta_names_)
        return self

    def _meta(self, observations: list[Observation]) -> _Entries:
        index = {name: i for i, name in enumerate(self.meta_names_)}  # once per batch, 13 entries
        rows, cols = [], []
        for row, o in enumerate(observations):
            for name in (f"channel={o.channel}", f"platform={o.platform}"):
                if name in index:
                    rows.append(row)
                    cols.append(index[name])
        data = np.full(len(rows), self.meta_weight, dtype=np.float32)
        return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), data

    def transform(self, observations: list[Observation]) -> sp.csr_matrix:
        check_is_fitted(self, "char_vectorizer_")
        if self.cue_names_ != list(CUE_NAMES):
            raise ModelError(
                "This model was trained with other feature cues than this version of webcare-nlp computes; "
                "retrain it with 'webcare train'."
            )
        words, chars = self.word_vectorizer_, self.char_vectorizer_
        if not hasattr(self, "_char_rows"):
            self._char_rows: WordRows = {}
        if len(observations) == 1:
            return self._transform_one(observations[0])
        processed = [o.processed for o in observations]
        cues = cue_matrix(processed).astype(np.float32) * self.cue_weight
        word_rows = tfidf_weight(words, term_counts(words, (lemma_ngrams(p) for p in processed)))
        if self.word_weight != 1.0:
            word_rows.data *= np.float32(self.word_weight)
        blocks = [
            (_entries(word_rows), len(words.vocabulary_)),
            (
                _entries(
                    tfidf_weight(chars, char_wb_counts(chars, [p.feature_text for p in processed], self._char_rows))
                ),
                len(chars.vocabulary_),
            ),
            (_dense_entries(cues), len(CUE_NAMES)),
            (self._meta(observations), len(self.meta_names_)),
        ]
        return _side_by_side(blocks, len(observations))

    def _transform_one(self, observation: Observation) -> sp.csr_matrix:
        """`transform` of one message (an agent's request) on plain arrays: for one row, the batch path's scipy
        matrices cost more in checks than its arithmetic. The same operations on the same values, block by
        block in the same column order, so the same matrix to the bit (`tests/test_fast_paths.py`)."""
        processed = observation.processed
        words, chars = self.word_vectorizer_, self.char_vectorizer_
        word_columns, word_counts = term_row(words, lemma_ngrams(processed))
        word_values = tfidf_weight_row(words, word_columns, word_counts)
        if self.word_weight != 1.0:
            word_values *= np.float32(self.word_weight)
        char_columns, char_counts = char_wb_row(chars, processed.feature_text, self._char_rows)
        cues = cue_matrix([processed]).astype(np.float32)[0] * self.cue_weight
        cue_columns = np.flatnonzero(cues)
        _, meta_columns, meta_values = self._meta([observation])
        n_words, n_chars = len(words.vocabulary_), len(chars.vocabulary_)
        columns = np.concatenate(
            [
                word_columns,
                char_columns + n_words,
                cue_columns + (n_words + n_chars),
                meta_columns + (n_words + n_chars + len(CUE_NAMES)),
            ]
        ).astype(np.int32)
        values = np.concatenate(
            [word_values, tfidf_weight_row(chars, char_columns, char_counts), cues[cue_columns], meta_values]
        )
        width = n_words + n_chars + len(CUE_NAMES) + len(self.meta_names_)
        return sp.csr_matrix((values, columns, np.array([0, len(columns)], dtype=np.int32)), shape=(1, width))

    def __getstate__(self) -> dict[str, Any]:
        # The per-word n-gram cache is rebuilt where the model is used, never saved with it.
        state = dict(super().__getstate__())
        state.pop("_char_rows", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("word_weight", 1.0)  # models saved before the setting existed weighed the blocks alike
        super().__setstate__(state)

    def without_platform(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        """A copy of `matrix` with the platform columns zeroed, for the platform model."""
        check_is_fitted(self, "platform_columns_")
        rows = sp.csr_matrix(matrix, copy=True)
        rows.data[np.isin(rows.indices, self.platform_columns_)] = 0.0
        rows.eliminate_zeros()
        return rows


# A block's stored values as (rows, columns, values), rows ascending and columns ascending within a row.
_Entries = tuple[np.ndarray, np.ndarray, np.ndarray]


def _entries(matrix: sp.csr_matrix) -> _Entries:
    return np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr)), matrix.indices, matrix.data


def _dense_entries(matrix: np.ndarray) -> _Entries:
    rows, columns = np.nonzero(matrix)
    return rows, columns, matrix[rows, columns]


def _side_by_side(blocks: list[tuple[_Entries, int]], n_rows: int) -> sp.csr_matrix:
    """`sp.hstack` of the blocks as float32 CSR, with the same layout (each row: the blocks' values in turn),
    built by numpy in one go: scipy's per-block checks and conversions were most of a single message's time."""
    counts = [np.bincount(entries[0], minlength=n_rows) for entries, _ in blocks]
    indptr = np.concatenate([[0], np.cumsum(np.sum(counts, axis=0))])
    nnz = int(indptr[-1])
    index_dtype = np.int32 if nnz < np.iinfo(np.int32).max else np.int64
    columns, values = np.empty(nnz, dtype=index_dtype), np.empty(nnz, dtype=np.float32)
    row_start, offset = indptr[:-1].copy(), 0
    for ((rows, cols, vals), width), count in zip(blocks, counts, strict=True):
        # An entry lands after the row's earlier blocks, at its own rank within its row in this block.
        first_in_block = np.cumsum(count) - count
        position = row_start[rows] + np.arange(len(rows)) - first_in_block[rows]
        columns[position], values[position] = cols + offset, vals
        row_start += count
        offset += width
    return sp.csr_matrix((values, columns, indptr.astype(index_dtype)), shape=(n_rows, offset))
