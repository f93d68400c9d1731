import pytest

from webcare_nlp.text.language import LanguageIdentifier
from webcare_nlp.text.pipeline import HANDLE, NUMBER, PLACEHOLDERS, URL, TextPipeline, build_nlp


def test_social_media_tokens():
    processed = TextPipeline().process("@SkyHop koffer kwijt #fail https://skyhop.example/x 😡 :-( boeking K7PQ2R")
    assert processed.tokens[0] == HANDLE
    assert "fail" in processed.tokens and URL in processed.tokens
    assert "😡" in processed.tokens and ":-(" in processed.tokens
    assert "{boekingscode}" in processed.tokens
    assert processed.masked.endswith("boeking {boekingscode}")
    assert [e.kind for e in processed.entities] == ["booking_code"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_tokenizer_is_spacys_own_but_for_the_hashtag_prefix(lang):
    import spacy
    from spacy.util import compile_prefix_regex

    # What the pipeline's tokenizer factory must equal: spaCy's default, with "#" taken out of the prefixes.
    expected = spacy.blank(lang)
    prefixes = [prefix for prefix in expected.Defaults.prefixes if prefix != "#"]
    expected.tokenizer.prefix_search = compile_prefix_regex(prefixes).search
    for placeholder in PLACEHOLDERS.values():
        expected.tokenizer.add_special_case(placeholder, [{"ORTH": placeholder}])
    assert build_nlp(lang).tokenizer.to_bytes(exclude=["vocab"]) == expected.tokenizer.to_bytes(exclude=["vocab"])
    assert [t.text for t in build_nlp(lang)("#fail en #")] == ["#fail", "en", "#"]


def test_only_digits_make_a_number():
    # spaCy's like_num also takes number words; "een" is the Dutch article as often as the number.
    processed = TextPipeline().process("Wat een slechte service, 3 keer gebeld en twee uur gewacht")
    assert processed.tokens[:2] == ["wat", "een"]
    assert processed.tokens.count(NUMBER) == 1 and "twee" in processed.tokens


def test_lemmas_and_language():
    processed = TextPipeline().process("Mijn koffers zijn niet aangekomen en niemand helpt")
    assert processed.lang == "nl"
    assert "koffer" in processed.lemmas and "aankomen" in processed.lemmas
    english = TextPipeline().process("My bags were lost and the flights got cancelled")
    assert english.lang == "en" and "cancel" in english.lemmas


def test_short_posts_fall_back_to_dutch():
    identifier = LanguageIdentifier()
    assert identifier.detect("??") == "nl"
    assert identifier.detect("👍👍") == "nl"
    assert identifier.detect_many(["??", "Where is my parcel, it has been a week", "Waar blijft mijn pakket nou?"]) == [
        "nl",
        "en",
        "nl",
    ]


def test_spacy_runs_once_per_message(monkeypatch):
    from webcare_nlp.text import pipeline

    calls = []
    nlp = pipeline.build_nlp("nl")
    original = type(nlp).pipe

    def counting_pipe(self, texts, **kwargs):
        texts = list(texts)
        calls.append(len(texts))
        return original(self, texts, **kwargs)

    monkeypatch.setattr(type(nlp), "pipe", counting_pipe)
    TextPipeline().process_many(["hoi", "waar is mijn pakket", "top!"], langs=["nl", "nl", "nl"])
    assert calls == [3]


@pytest.mark.parametrize("run", ["😡" * 150, "😡🤬" * 60 + "!!", ")" * 120, "(" * 60 + "haha" + "😂" * 60])
def test_a_long_run_without_spaces_gives_the_tokens_spacy_would_make(run):
    # spaCy's affix splitting is quadratic on such runs; the pipeline spaces them out first (LONG_RUN).
    processed = TextPipeline().process(f"hoi {run} dag", lang="nl")
    whole = [token.text.lower() for token in build_nlp("nl").make_doc(f"hoi {run} dag")]
    assert processed.tokens == whole and len(processed.tokens) > 100
