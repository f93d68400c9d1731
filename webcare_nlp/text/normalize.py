"""Normalisation of social-media spelling: repeated letters, chat abbreviations, diacritics folding."""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache

# Emoji presentation selectors and skin tones carry no meaning for the models and split emoji tokens.
_EMOJI_MODIFIERS = re.compile("[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\u200d]")
# Three or more of the same letter is emphasis ("heeeel", "sooo"); Dutch itself never needs more than two.
_REPEATED_LETTERS = re.compile(r"([^\W\d_])\1{2,}")
_REPEATED_PUNCT = re.compile(r"([!?.])\1{2,}")
# Both need some character three times in a row, which few texts have (about 2%); this finds that in a
# fifth of the time the letter pattern alone takes, with its check of every character's Unicode class.
_TRIPLE = re.compile(r"(.)\1\1", re.DOTALL)
_WHITESPACE = re.compile(r"[ \t\r\f\v]+")
# spaCy splits a token's prefixes and suffixes one at a time, searching the rest again each time: on a run of
# thousands of emoji or brackets without a space that is quadratic (5,000 emoji: 5 s; 20,000: a minute, with
# a server's event loop stuck behind it). No post in the corpus has a run of even 80 characters. A longer
# run gets a space around each sign in it, which gives the tokens spaCy would make, in linear time; a URL
# of printable ASCII keeps its shape.
LONG_RUN = 100
_LONG_RUN = re.compile(rf"\S{{{LONG_RUN + 1},}}")
_URL_RUN = re.compile(r"(?:https?://|www\.)[\x21-\x7e]{1,500}\Z")
_SIGN = re.compile(r"([^\w\s])")

# Chat abbreviations whose expansion is unambiguous in Dutch and English webcare messages.
# "btw" is left alone: in Dutch it also means VAT.
SHARED_ABBREVIATIONS = {
    "tnx": "thanks",
    "thx": "thanks",
    "thnx": "thanks",
    "tx": "thanks",
    "ty": "thanks",
    "pls": "please",
    "plz": "please",
    "plez": "please",
    "bc": "because",
    "cuz": "because",
}
CHAT_ABBREVIATIONS = {
    **SHARED_ABBREVIATIONS,
    "ff": "even",
    "fff": "even",
    "idd": "inderdaad",
    "mss": "misschien",
    "wss": "waarschijnlijk",
    "wrs": "waarschijnlijk",
    "ipv": "in plaats van",
    "iig": "in ieder geval",
    "iid": "in ieder geval",
    "aub": "alsjeblieft",
    "svp": "alstublieft",
    "gwn": "gewoon",
    "nx": "niks",
    "nie": "niet",
    "ni": "niet",
    "da's": "dat is",
    "das": "dat is",
    "kheb": "ik heb",
    "'k": "ik",
    "k": "ik",
    "mn": "mijn",
    "m'n": "mijn",
    "zn": "zijn",
    "z'n": "zijn",
    "jlie": "jullie",
    "vd": "van de",
    "nr": "nummer",
    "bvd": "bij voorbaat dank",
}
ABBREVIATIONS_BY_LANG = {"nl": CHAT_ABBREVIATIONS, "en": SHARED_ABBREVIATIONS}
_WORD = re.compile(r"(?<![\w@#'])([\w']+)(?![\w'])")
# Every word `_WORD` finds is also a run of this simpler pattern in the lower-cased text, so a text
# with no run in the table is left alone without a Python call per word (most texts: about 95%).
_RUNS = re.compile(r"[\w']+")


def strip_emoji_modifiers(text: str) -> str:
    """Drop skin tones and presentation selectors so that 👍🏻 and 👍 are one token."""
    return _EMOJI_MODIFIERS.sub("", text)


def squeeze_repeats(text: str) -> str:
    """Shorten letter runs to two and punctuation runs to three.

    Example:
        >>> squeeze_repeats("heeeeel lang!!!!!")
        'heel lang!!!'
    """
    if _TRIPLE.search(text) is None:
        return text
    return _REPEATED_PUNCT.sub(r"\1\1\1", _REPEATED_LETTERS.sub(r"\1\1", text))


def expand_abbreviations(text: str, table: dict[str, str] | None = None) -> str:
    """Replace whole-word chat abbreviations, keeping the rest of the text as it is.

    Example:
        >>> expand_abbreviations("kan je ff kijken, tnx")
        'kan je even kijken, thanks'
    """
    table = CHAT_ABBREVIATIONS if table is None else table
    if table.keys().isdisjoint(_RUNS.findall(text.lower())):
        return text

    def replace(match: re.Match[str]) -> str:
        word = match.group(1)
        return table.get(word.lower(), word)

    return _WORD.sub(replace, text)


@cache
def _combining_marks() -> dict[int, None]:
    # Every code point with a combining class, for str.translate: one C call instead of one per character.
    return {code: None for code in range(sys.maxunicode + 1) if unicodedata.combining(chr(code))}


def fold_diacritics(text: str) -> str:
    """Remove diacritics: "financiële" becomes "financiele"."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).translate(_combining_marks())


def break_long_runs(text: str) -> str:
    """A space around every sign of a run of more than `LONG_RUN` characters without a space.

    Example:
        >>> break_long_runs("ok " + "(" * 101) == "ok " + " ( " * 101
        True
    """
    if len(text) <= LONG_RUN or not _LONG_RUN.search(text):
        return text
    return _LONG_RUN.sub(_spaced, text)


def _spaced(match: re.Match[str]) -> str:
    run = match.group()
    return run if _URL_RUN.match(run) else _SIGN.sub(r" \1 ", run)


def normalize(text: str, lang: str = "nl") -> str:
    """The full normalisation applied before tokenising: modifiers, repeats, abbreviations, spaces."""
    text = break_long_runs(strip_emoji_modifiers(text))
    text = squeeze_repeats(text)
    text = expand_abbreviations(text, ABBREVIATIONS_BY_LANG.get(lang, SHARED_ABBREVIATIONS))
    return _WHITESPACE.sub(" ", text).strip()
