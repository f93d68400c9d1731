"""The label features: negation scope in the lemma n-grams, the share of verdict words, the lemma block's weight."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from webcare_nlp.features.cues import CUE_NAMES, cue_vector
from webcare_nlp.features.vectorize import NEGATED, MessageVectorizer, Observation, lemma_ngrams
from webcare_nlp.text.pipeline import TextPipeline


@pytest.fixture(scope="module")
def process():  # type: ignore[no-untyped-def]
    pipeline = TextPipeline()
    return lambda text: pipeline.process_many([text])[0]


def test_a_negation_marks_the_next_words_until_punctuation_or_a_contrast(process) -> None:  # type: ignore[no-untyped-def]
    unigrams = [g for g in lemma_ngrams(process("niet echt snel, maar wel vriendelijk")) if " " not in g]
    assert unigrams == ["niet", NEGATED + "echt", NEGATED + "snel", "maar", "wel", "vriendelijk"]
    unigrams = [g for g in lemma_ngrams(process("ik ben niet blij met de bezorging vandaag")) if " " not in g]
    assert unigrams[2:] == ["niet", NEGATED + "blij", NEGATED + "met", NEGATED + "de", "bezorging", "vandaag"]


def test_bigrams_keep_the_plain_lemmas(process) -> None:  # type: ignore[no-untyped-def]
    assert "niet slecht" in lemma_ngrams(process("niet slecht"))


def test_the_share_of_verdict_words_sets_a_one_liner_apart_from_a_long_story(process) -> None:  # type: ignore[no-untyped-def]
    column = CUE_NAMES.index("negative_share")
    short = cue_vector(process("Super slecht geholpen!"))
    story = cue_vector(
        process(
            "We kwamen om zeven uur aan, kregen een tafel bij het raam, het eten kwam vlot en de wijn "
            "was lekker; alleen het dessert was slecht, verder hebben we van de avond genoten"
        )
    )
    assert short[column] == 1.0 and 0 < story[column] < 0.2
    assert short[CUE_NAMES.index("negative_words")] == story[CUE_NAMES.index("negative_words")] == 1.0


def test_the_word_weight_scales_the_lemma_block_and_nothing_else(process) -> None:  # type: ignore[no-untyped-def]
    observations = [Observation(process(t)) for t in ("waar is mijn pakket?", "pakket kwijt", "top geholpen")]
    plain = MessageVectorizer(min_df=1).fit(observations)
    heavier = MessageVectorizer(min_df=1, word_weight=1.5).fit(observations)
    words = len(plain.word_vectorizer_.vocabulary_)
    a, b = plain.transform(observations).toarray(), heavier.transform(observations).toarray()
    assert a[:, :words].any()
    assert b[:, :words] == pytest.approx(1.5 * a[:, :words])
    assert b[:, words:] == pytest.approx(a[:, words:])


def test_a_model_saved_before_the_word_weight_existed_loads_with_weight_one(process) -> None:  # type: ignore[no-untyped-def]
    observations = [Observation(process(t)) for t in ("waar is mijn pakket?", "pakket kwijt")]
    fitted = MessageVectorizer(min_df=1).fit(observations)
    state = fitted.__getstate__()
    del state["word_weight"]
    old = MessageVectorizer.__new__(MessageVectorizer)
    old.__setstate__(state)
    assert old.word_weight == 1.0
    assert (old.transform(observations) != fitted.transform(observations)).nnz == 0
    assert pickle.loads(pickle.dumps(fitted)).word_weight == 1.0


def test_a_capped_vocabulary_keeps_the_most_frequent_terms_and_breaks_ties_by_the_term():
    # scikit-learn's own cut orders equally frequent terms by the CPU's sort instructions, so two machines
    # trained different models on the same data; this cut is the same everywhere.
    from sklearn.feature_extraction.text import TfidfVectorizer

    from webcare_nlp.features.vocabulary import capped_tfidf

    documents = ["zz yy", "zz xx", "zz ww", "yy vv", "uu"]  # zz 3, yy 2, then xx ww vv uu once each
    vectorizer = capped_tfidf(documents, 4, analyzer="word", sublinear_tf=True)
    assert sorted(vectorizer.vocabulary_) == ["uu", "vv", "yy", "zz"]
    assert vectorizer.get_params()["vocabulary"] is None  # the artefact keeps one copy of the terms
    # Without ties at the cut it is scikit-learn's cut, with the same weights.
    own = TfidfVectorizer(analyzer="word", sublinear_tf=True, max_features=2).fit(documents)
    capped = capped_tfidf(documents, 2, analyzer="word", sublinear_tf=True)
    assert capped.vocabulary_ == own.vocabulary_
    np.testing.assert_array_equal(capped.idf_, own.idf_)
    assert (capped.transform(documents) != own.transform(documents)).nnz == 0
