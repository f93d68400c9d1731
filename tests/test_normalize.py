import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from webcare_nlp.text.normalize import expand_abbreviations, fold_diacritics, normalize, squeeze_repeats


def test_examples():
    assert squeeze_repeats("heeeeel lang!!!!!") == "heel lang!!!"
    assert expand_abbreviations("kan je ff kijken, tnx") == "kan je even kijken, thanks"
    assert fold_diacritics("financiële ideeën") == "financiele ideeen"
    assert normalize("👍🏻 tnx", "en") == "👍 thanks"


def test_dutch_abbreviations_are_not_applied_to_english():
    assert normalize("k thx", "en") == "k thanks"
    assert normalize("k thx", "nl") == "ik thanks"


@given(st.text(max_size=300))
def test_squeeze_is_idempotent_and_leaves_no_long_letter_runs(text):
    once = squeeze_repeats(text)
    assert squeeze_repeats(once) == once
    assert not re.search(r"([^\W\d_])\1{2,}", once)


@given(st.text(max_size=300))
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@given(st.text(max_size=40))
def test_fold_diacritics_drops_exactly_the_combining_marks(text):
    decomposed = unicodedata.normalize("NFKD", text)
    assert fold_diacritics(text) == "".join(ch for ch in decomposed if not unicodedata.combining(ch))
