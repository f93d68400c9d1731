"""Hand-picked cues that n-grams see poorly: a question, a tag of the company, emojis, negation, shouting."""

from __future__ import annotations

from collections import Counter
from functools import cache
from importlib import resources

import numpy as np

from webcare_nlp.text.pipeline import HANDLE, ProcessedText

POSITIVE_EMOJI = frozenset("😀😃😄😁😆😊🙂😍🥰😘❤💕💖💙💚💛🧡💜👍👏🙏🎉🥳😎🤩✨💯🌟⭐🙌☺🤗😇💪🍀🌞😌") | {
    ":)",
    ":-)",
    ":D",
    ":-D",
    ";)",
    ";-)",
    "<3",
    ":p",
    ":P",
}
NEGATIVE_EMOJI = frozenset("😡😠🤬😤😢😭😞😔😟😩😫🙄😒💩👎😑🤦😱😓😖😣💔😕🤯😬🥵🤢🤮😪⚠🥶") | {
    ":(",
    ":-(",
    ":'(",
    ":/",
    ":-/",
    ">:(",
}
NEGATIONS = frozenset(
    [
        "niet",
        "geen",
        "nooit",
        "nergens",
        "niks",
        "niets",
        "noch",
        "nimmer",
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "none",
        "cannot",
        "can't",
        "won't",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "wasn't",
        "aren't",
        "haven't",
        "hasn't",
        "n't",
    ]
)
SECOND_PERSON = frozenset(["jullie", "u", "uw", "je", "jij", "jou", "your", "you", "you're", "julle", "gij", "ge"])
FIRST_PERSON = frozenset(
    ["ik", "mijn", "me", "mij", "mn", "m'n", "we", "wij", "ons", "onze", "i", "my", "me", "mine", "we", "our", "us"]
)

NEGATION_WINDOW = 3

# Degree words that are polar on their own ("Super!") but only strengthen the word after them
# ("super slecht", "amai wat traag"): before another lexicon word they do not count themselves.
INTENSIFIERS = frozenset(
    ["super", "mega", "amai", "vreselijk", "verschrikkelijk", "ontzettend", "enorm", "really", "so", "very"]
)


@cache
def polarity_lexicon() -> dict[str, int]:
    """The shipped polarity lexicon: word or phrase (folded, lower case) to +1 or -1."""
    text = resources.files("webcare_nlp.features").joinpath("data/polarity.txt").read_text(encoding="utf-8")
    lexicon = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            sign, phrase = line.split(" ", 1)
            lexicon[phrase.strip()] = 1 if sign == "+" else -1
    return lexicon


@cache
def _first_words() -> frozenset[str]:
    return frozenset(phrase.split(" ")[0] for phrase in polarity_lexicon())


def polarity_counts(tokens: list[str]) -> tuple[int, int]:
    """Positive and negative lexicon hits; a negation up to three tokens before a hit flips it, an
    intensifier right before another hit is not a hit itself, and a hit right after one of the other sign
    is not counted."""
    lexicon, first_words = polarity_lexicon(), _first_words()
    # A phrase can only start at a token that is its first word (or at a token with a space in it).
    spaced = " " in "".join(tokens)
    if first_words.isdisjoint(tokens) and not spaced:
        return 0, 0
    positive = negative = 0
    last = len(tokens) - 1
    previous_end, previous_sign = -1, 0
    for i, token in enumerate(tokens):
        if token not in first_words and not (spaced and " " in token):
            continue
        if token in INTENSIFIERS and i < last and tokens[i + 1] in first_words:
            continue
        for n in (3, 2, 1):
            phrase = " ".join(tokens[i : i + n])
            sign = lexicon.get(phrase)
            if sign is None:
                continue
            if any(t in NEGATIONS for t in tokens[max(0, i - NEGATION_WINDOW) : i]):
                sign = -sign
            # Right after a hit of the other sign, a word is what that hit says of it ("slecht geholpen").
            if i == previous_end and sign != previous_sign:
                break
            previous_end, previous_sign = i + n, sign
            if sign > 0:
                positive += 1
            else:
                negative += 1
            break
    return positive, negative


# No message-length cue: it added nothing in cross-validation for any label, and it carried a corpus
# habit (complaints are written longer than praise) into every prediction: short complaints read as praise.
CUE_NAMES = (
    "question_mark",
    "exclamations",
    "handle",
    "starts_with_handle",
    "hashtag",
    "url",
    "positive_emoji",
    "negative_emoji",
    "negation",
    "shouting",
    "case_data",
    "second_person",
    "first_person",
    "english",
    "signature",
    "positive_words",
    "negative_words",
    "positive_share",
    "negative_share",
)


def cue_vector(processed: ProcessedText) -> list[float]:
    """The cue values of one message, each scaled to about [0, 1]."""
    tokens = processed.tokens
    n_tokens = max(len(tokens), 1)
    # The cue word sets do not overlap, so set operations on the token counts give the per-token tally.
    counts = Counter(tokens)
    questions, exclaims = counts["?"], counts["!"]
    positive = sum(counts[token] for token in POSITIVE_EMOJI.intersection(counts))
    negative = sum(counts[token] for token in NEGATIVE_EMOJI.intersection(counts))
    negation = not NEGATIONS.isdisjoint(counts)
    second = not SECOND_PERSON.isdisjoint(counts)
    first = not FIRST_PERSON.isdisjoint(counts)
    signature = any(token.startswith("^") and 2 <= len(token) <= 5 for token in counts if token[:1] == "^")
    positive_words, negative_words = polarity_counts(tokens)
    n_words = max(sum(token.isalpha() for token in tokens), 1)
    return [
        min(questions, 2) / 2,
        min(exclaims, 3) / 3,
        min(processed.n_handles, 2) / 2,
        1.0 if tokens and tokens[0] == HANDLE else 0.0,
        min(processed.n_hashtags, 2) / 2,
        min(processed.n_urls, 1),
        min(positive, 3) / 3,
        min(negative, 3) / 3,
        float(negation),
        min(processed.n_upper_words / n_tokens * 3, 1.0),
        1.0 if processed.entities else 0.0,
        float(second),
        float(first),
        1.0 if processed.lang == "en" else 0.0,
        float(signature),
        # Presence, not a count: on a one-line verdict ("Slechte service") a single lexicon word is all the
        # evidence there is, and a count scaled by three gave it a third of the weight of a rant's.
        float(positive_words > 0),
        float(negative_words > 0),
        # How much of the message the verdict words are: in "Super slecht geholpen!" one of three words, in a
        # long story that praises one thing among complaints one of fifty. Presence alone weighed both alike,
        # so a corpus with many mixed messages taught it little (5-fold CV: sentiment +0.002, intent +0.0015).
        min(positive_words / n_words * 3, 1.0),
        min(negative_words / n_words * 3, 1.0),
    ]


def cue_matrix(processed: list[ProcessedText]) -> np.ndarray:
    """The cue values of many messages as a dense (n_messages, n_cues) array."""
    if not processed:
        return np.zeros((0, len(CUE_NAMES)))
    return np.asarray([cue_vector(item) for item in processed], dtype=np.float64)
