"""Topic features: content lemmas and their character n-grams, reduced by truncated SVD and L2-normalised."""

from __future__ import annotations

from functools import cache

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from webcare_nlp.features.packing import PacksVocabularies
from webcare_nlp.features.vocabulary import capped_tfidf
from webcare_nlp.text.normalize import fold_diacritics
from webcare_nlp.text.pipeline import ProcessedText

# Greetings, thanks and chat filler say nothing about what a message is about; spaCy's lists lack them.
_CHAT_TEXT = (
    "hoi hallo hey hee hi hello dag goedemorgen goedemiddag goedenavond groet groeten mvg gr thanks thank thx "
    "dank bedankt merci please pls plz aub svp graag alvast ff even toch echt gewoon nou hoor jullie jou "
    "iemand weet vraag vragen help helpen hulp ok oke okay ja nee "
    # Flemish function words and the verbs of every request ("ik krijg", "laat weten", "I need").
    "da dat gij ge gene geen nie ne nen wa kunde hebde zijde zijt "
    "krijg krijgen kreeg laat laten need want get got doen gaan willen moeten kunnen zitten staan komen"
)
_CHAT_WORDS = frozenset(_CHAT_TEXT.split())


@cache
def stop_words() -> frozenset[str]:
    """Dutch and English stop words (diacritics folded, as the tokens are) plus chat filler."""
    from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH
    from spacy.lang.nl.stop_words import STOP_WORDS as DUTCH

    return frozenset(fold_diacritics(word.lower()) for word in DUTCH | ENGLISH) | _CHAT_WORDS


def content_terms(processed: ProcessedText) -> list[str]:
    """The lemmas that can say what a message is about: no stop words, symbols, handles or placeholders.

    Example:
        >>> from webcare_nlp.text.pipeline import TextPipeline
        >>> content_terms(TextPipeline().process("@SkyHop waar is mijn koffer? Boeking K7PQ2R", lang="nl"))
        ['koffer', 'boeking']
    """
    stop = stop_words()
    return [
        lemma
        for lemma in processed.lemmas
        if len(lemma) > 1
        and lemma not in stop
        and lemma[0].isalnum()  # not a placeholder, handle, hashtag, "'n" or a typed "\n"
        and any(char.isalpha() for char in lemma)
    ]


def _identity(items: list[str]) -> list[str]:
    return items


class TopicVectorizer(PacksVocabularies, TransformerMixin, BaseEstimator):
    """Turns processed texts into sparse, L2-normalised TF-IDF rows whose dot product is cosine similarity.

    Content lemmas plus their character n-grams: the n-grams catch typos, inflections and compounds
    ("pakketbezorger" and "pakket") that separate lemmas miss.

    Args:
        char_ngram_range: character n-gram sizes, within words, over the content lemmas.
        char_weight: weight of the character block against the lemma block (2.0 measured best on the
            project's corpus, see benchmarks/topics_eval.py).
        min_df: minimum document frequency of a character n-gram (1 for tiny archives).
        max_features: cap on each TF-IDF block, which bounds memory on large archives.

    Example:
        >>> from webcare_nlp.text.pipeline import TextPipeline
        >>> processed = TextPipeline().process_many(["Waar is mijn pakket?", "Pakket kwijt", "App doet het niet"])
        >>> TopicVectorizer().fit_transform(processed).shape[0]
        3
    """

    def __init__(
        self,
        *,
        char_ngram_range: tuple[int, int] = (3, 5),
        char_weight: float = 2.0,
        min_df: int = 2,
        max_features: int = 100_000,
    ) -> None:
        self.char_ngram_range = char_ngram_range
        self.char_weight = char_weight
        self.min_df = min_df
        self.max_features = max_features

    def fit(self, processed: list[ProcessedText], y: object = None) -> TopicVectorizer:
        terms = [content_terms(p) for p in processed]
        # An archive without a single content word still gets a (useless but valid) vocabulary.
        self.word_vectorizer_ = capped_tfidf(
            [*terms, ["-"]], self.max_features, analyzer=_identity, sublinear_tf=True, dtype=np.float32
        )
        self.char_vectorizer_ = capped_tfidf(
            [*(" ".join(t) for t in terms), "-"],
            self.max_features,
            analyzer="char_wb",
            ngram_range=self.char_ngram_range,
            min_df=self.min_df if len(processed) >= 4 * self.min_df else 1,
            sublinear_tf=True,
            dtype=np.float32,
        )
        return self

    def transform(self, processed: list[ProcessedText]) -> sp.csr_matrix:
        """Rows of unit length; a message without content words is a row of zeros."""
        check_is_fitted(self, "char_vectorizer_")
        if not processed:
            width = len(self.word_vectorizer_.vocabulary_) + len(self.char_vectorizer_.vocabulary_)
            return sp.csr_matrix((0, width), dtype=np.float32)
        terms = [content_terms(p) for p in processed]
        blocks = [
            self.word_vectorizer_.transform(terms),
            self.char_vectorizer_.transform([" ".join(t) for t in terms]) * self.char_weight,
        ]
        return normalize(sp.hstack(blocks, format="csr", dtype=np.float32))

    def terms(self, processed: list[ProcessedText]) -> list[list[str]]:
        """The content lemmas of each text (what c-TF-IDF labels are made of)."""
        return [content_terms(p) for p in processed]
