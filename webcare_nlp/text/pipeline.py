"""The text pipeline: mask PII, identify the language, normalise, and run spaCy once per message."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter
from typing import Any, cast

from spacy.attrs import ORTH
from spacy.tokens import Doc

from webcare_nlp.text.language import LanguageIdentifier
from webcare_nlp.text.normalize import fold_diacritics, normalize
from webcare_nlp.text.pii import PLACEHOLDERS, Entity, find_entities, mask

SPACY_LANGS = ("nl", "en")
# Whitespace-separated chunks whose tokens spaCy's tokenizer remembers. It stops adding at its default of
# 10,000, which an archive fills in its first few thousand messages; a chunk it remembers costs a lookup
# instead of the affix regexes. About 60 bytes a chunk, so some 6 MB at most.
TOKENIZER_CACHE = 100_000
HANDLE, URL, NUMBER = "<handle>", "<url>", "<num>"


@dataclass
class ProcessedText:
    """What the text layer hands to the feature layer for one message.

    `tokens` are lower-cased surface forms and `lemmas` their lemmas; both map handles, URLs and
    numbers to one symbol each, so that a different name or handle does not change the features.
    """

    text: str
    masked: str
    lang: str
    tokens: list[str]
    lemmas: list[str]
    entities: list[Entity] = field(default_factory=list)
    n_handles: int = 0
    n_hashtags: int = 0
    n_urls: int = 0
    n_upper_words: int = 0

    @property
    def feature_text(self) -> str:
        """Space-joined tokens (already without diacritics): the input of the character n-grams."""
        return " ".join(self.tokens)


def _social_tokenizer(nlp: Any) -> Any:
    """spaCy's default tokenizer of the language (its `create_tokenizer`), except that hashtags stay whole
    ("#fail" is one token), so they can be told apart from a stray "#". Built with that prefix rule from the
    start: setting `prefix_search` on a built tokenizer validates its thousands of special cases again,
    which was a quarter of a second of every process's start."""
    from spacy.tokenizer import Tokenizer
    from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

    defaults = nlp.Defaults
    prefixes = [prefix for prefix in defaults.prefixes or () if prefix != "#"]
    return Tokenizer(
        nlp.vocab,
        rules=defaults.tokenizer_exceptions,
        prefix_search=compile_prefix_regex(prefixes).search,
        suffix_search=compile_suffix_regex(defaults.suffixes).search if defaults.suffixes else None,
        infix_finditer=compile_infix_regex(defaults.infixes).finditer if defaults.infixes else None,
        token_match=defaults.token_match,
        url_match=defaults.url_match,
    )


@cache
def _register_tokenizer() -> str:
    import spacy

    name = "webcare_nlp.social_tokenizer.v1"
    spacy.registry.tokenizers.register(name, func=lambda: _social_tokenizer)
    return name


@cache
def build_nlp(lang: str) -> Any:
    """A blank spaCy pipeline with the lookup lemmatizer and tokenizer rules for social media."""
    import spacy

    nlp = spacy.blank(lang, config={"nlp": {"tokenizer": {"@tokenizers": _register_tokenizer()}}})
    tokenizer: Any = nlp.tokenizer
    tokenizer.max_cache_size = TOKENIZER_CACHE
    for placeholder in PLACEHOLDERS.values():
        tokenizer.add_special_case(placeholder, [{"ORTH": placeholder}])
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


class TextPipeline:
    """Turns raw message texts into ProcessedText, in batches.

    Args:
        default_lang: the language assumed when a post is too short to tell.
        batch_size: spaCy's `nlp.pipe` batch size.

    Example:
        >>> processed = TextPipeline().process("Mijn koffer is kwijt @SkyHop, boeking K7PQ2R")
        >>> processed.masked
        'Mijn koffer is kwijt @SkyHop, boeking {boekingscode}'
    """

    def __init__(self, *, default_lang: str = "nl", batch_size: int = 512) -> None:
        self.default_lang = default_lang
        self.batch_size = batch_size
        self.language_identifier = LanguageIdentifier(default=default_lang)

    def process(self, text: str, *, lang: str | None = None) -> ProcessedText:
        """Process one text."""
        return self.process_many([text], langs=[lang])[0]

    def process_many(self, texts: list[str], *, langs: list[str | None] | None = None) -> list[ProcessedText]:
        """Process many texts; a given `lang` is trusted, a missing one is detected."""
        entities = [find_entities(text) for text in texts]
        masked = [mask(text, found) for text, found in zip(texts, entities, strict=True)]
        given = langs if langs is not None else [None] * len(texts)
        missing = [i for i, lang in enumerate(given) if not lang]
        detected = self.language_identifier.detect_many([masked[i] for i in missing]) if missing else []
        final_langs = [str(lang) if lang else "" for lang in given]
        for i, lang in zip(missing, detected, strict=True):
            final_langs[i] = lang
        results: list[ProcessedText | None] = [None] * len(texts)
        for spacy_lang in SPACY_LANGS:
            idx = [i for i, lang in enumerate(final_langs) if (lang if lang in SPACY_LANGS else "nl") == spacy_lang]
            if not idx:
                continue
            # Folding diacritics before spaCy makes "financiele" and "financiële" one token everywhere.
            prepared = [fold_diacritics(normalize(masked[i], spacy_lang)) for i in idx]
            # Only the tokenizer runs in spaCy: the lookup lemmas are read per distinct token from a cache
            # (see `_token_forms`), which is what the lookup lemmatizer would set, without a Token per word.
            nlp = build_nlp(spacy_lang)
            docs = nlp.pipe(prepared, batch_size=self.batch_size, disable=["lemmatizer"])
            for i, doc in zip(idx, docs, strict=True):
                results[i] = self._from_doc(doc, spacy_lang, texts[i], masked[i], final_langs[i], entities[i])
        return [result for result in results if result is not None]

    @staticmethod
    def _from_doc(
        doc: Any, spacy_lang: str, text: str, masked: str, lang: str, entities: list[Entity]
    ) -> ProcessedText:
        orths = doc.to_array(ORTH).tolist()
        found = list(map(_token_forms(spacy_lang).get, orths))
        entries: list[tuple[int, str, str]] = (
            [entry or _token_form(spacy_lang, orth) for entry, orth in zip(found, orths, strict=True)]
            if None in found
            else cast(list[tuple[int, str, str]], found)
        )
        kinds = list(map(_KIND, entries))
        return ProcessedText(
            text=text,
            masked=masked,
            lang=lang,
            tokens=list(map(_TOKEN, entries)),
            lemmas=list(map(_LEMMA, entries)),
            entities=entities,
            n_handles=kinds.count(_HANDLE),
            n_hashtags=kinds.count(_HASHTAG),
            n_urls=kinds.count(_URL),
            n_upper_words=kinds.count(_UPPER),
        )


# What one distinct token becomes: (kind, token, lemma). Keyed by spaCy's orth hash per language,
# bounded so that memory stays flat on an archive of any size.
_WORD, _UPPER, _HANDLE, _URL, _HASHTAG, _NUMBER = range(6)
_KIND, _TOKEN, _LEMMA = itemgetter(0), itemgetter(1), itemgetter(2)
_FORMS_LIMIT = 300_000
_FORMS: dict[str, dict[int, tuple[int, str, str]]] = {}


def _token_forms(spacy_lang: str) -> dict[int, tuple[int, str, str]]:
    forms = _FORMS.setdefault(spacy_lang, {})
    if len(forms) > _FORMS_LIMIT:
        forms.clear()
    return forms


def _token_form(spacy_lang: str, orth: int) -> tuple[int, str, str]:
    """The kind, token and lemma of one token, as the rules below and the lookup lemmatizer give them."""
    nlp = build_nlp(spacy_lang)
    lexeme = nlp.vocab[orth]
    surface = lexeme.orth_
    if surface.startswith("@") and len(surface) > 1:
        form = (_HANDLE, HANDLE, HANDLE)
    elif lexeme.like_url:
        form = (_URL, URL, URL)
    elif surface.startswith("#") and len(surface) > 1:
        word = surface[1:].lower()
        form = (_HASHTAG, word, word)
    # Only digits make a number: spaCy's like_num also takes number words, and "een" (a, an) is the
    # most frequent Dutch word.
    elif lexeme.like_num and not surface.startswith("{") and any(c.isdigit() for c in surface):
        form = (_NUMBER, NUMBER, NUMBER)
    else:
        lower = surface.lower()
        # The language's own lookup rule (the Dutch one lower-cases first), on a one-token Doc.
        token = Doc(nlp.vocab, words=[surface])[0]
        lemma = nlp.get_pipe("lemmatizer").lookup_lemmatize(token)[0].lower() or lower
        form = (_UPPER if surface.isupper() and len(surface) > 2 else _WORD, lower, lemma)
    _token_forms(spacy_lang)[orth] = form
    return form
