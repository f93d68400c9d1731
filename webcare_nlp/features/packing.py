"""Fitted vocabularies stored compactly in model artefacts, so that a model loads in a fraction of a second.

joblib unpickles with Python's pure-Python unpickler (it must, to read its NumPy arrays from the stream).
A TF-IDF vocabulary of 90,000 terms is a dict of 90,000 strings and numbers, which took that unpickler half
a second, in every process that loads the engine: a command, a batch worker, a Dask worker, a server
worker. Packed as one string and one array it loads in milliseconds, and the dict is rebuilt from them.
"""

from __future__ import annotations

import copy
from typing import Any, cast

import numpy as np

# Terms are words and n-grams of message text, which never holds a NUL once it has been read; a vocabulary
# that somehow holds one is stored as a plain dict.
SEPARATOR = "\x00"


class PackedVocabulary:
    """A vocabulary (term -> column) as the terms joined into one string and the columns as one array."""

    def __init__(self, vocabulary: dict[str, int]) -> None:
        self.terms = SEPARATOR.join(vocabulary)
        self.columns = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary))

    def unpack(self) -> dict[str, int]:
        terms = self.terms.split(SEPARATOR) if len(self.columns) else []
        return dict(zip(terms, self.columns.tolist(), strict=True))


def _packable(vocabulary: Any) -> bool:
    return isinstance(vocabulary, dict) and not any(SEPARATOR in term for term in vocabulary)


class PacksVocabularies:
    """Mixin for estimators that hold fitted TfidfVectorizers in the attributes `VOCABULARY_HOLDERS`: they are
    pickled with packed vocabularies (copies; the estimator in memory keeps its dicts) and unpacked on load.
    Artefacts written before (plain dicts) load as they are."""

    VOCABULARY_HOLDERS: tuple[str, ...] = ("word_vectorizer_", "char_vectorizer_")

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = dict(cast(Any, super()).__getstate__())
        for name in self.VOCABULARY_HOLDERS:
            vectorizer = state.get(name)
            if vectorizer is not None and _packable(getattr(vectorizer, "vocabulary_", None)):
                packed = copy.copy(vectorizer)
                packed.vocabulary_ = PackedVocabulary(vectorizer.vocabulary_)
                state[name] = packed
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        cast(Any, super()).__setstate__(state)
        for name in self.VOCABULARY_HOLDERS:
            vectorizer: Any = self.__dict__.get(name)
            if isinstance(getattr(vectorizer, "vocabulary_", None), PackedVocabulary):
                vectorizer.vocabulary_ = vectorizer.vocabulary_.unpack()
