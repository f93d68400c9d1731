"""Label sets and the message record of labels.md, with validation of one input record."""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence
from typing import Any

from webcare_nlp import errors

INTENTS = ("question", "complaint", "request", "compliment", "feedback", "other")
SENTIMENTS = ("negative", "neutral", "positive")
PLATFORMS = ("brand", "consumer")
CHANNELS = (
    "twitter",
    "facebook",
    "instagram",
    "messenger",
    "whatsapp",
    "review",
    "forum",
    "blog_comment",
    "email",
    "other",
)
LABEL_FIELDS = ("intent", "sentiment", "reactive", "reply_expected")

# C0 controls except tab, newline and carriage return mark binary input.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Half of a character: JSON's "\ud83d" without its partner, as an export that cut an emoji in two writes.
# No file can hold it as UTF-8, so the output could not be written.
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
# Something to read: a character that is neither white space nor an invisible format mark (zero-width
# space and joiners, the byte-order mark, the word joiner), which str.strip() keeps.
_VISIBLE = re.compile("[^\\s\u200b-\u200f\u2060-\u2064\ufeff]")


def check_text(text: Any) -> str:
    """Return `text` when it is a usable message text, else raise an InputError.

    Example:
        >>> check_text("Waar blijft mijn pakket?")
        'Waar blijft mijn pakket?'
    """
    if not isinstance(text, str):
        raise errors.InputError(f"The message text must be a string, not {type(text).__name__}.")
    if not _VISIBLE.search(text):
        raise errors.empty_text()
    if len(text) > errors.MAX_TEXT_CHARS:
        raise errors.text_too_long(len(text))
    if _CONTROL.search(text):
        raise errors.binary_text()
    broken = _SURROGATE.search(text)
    if broken:
        raise errors.InputError(
            f"The message text holds half of a character ({broken.group()!r} at {broken.start()}): an emoji cut in"
            " two, or a byte that is not UTF-8; repair or remove it."
        )
    return text


def text_flaw(text: str) -> str | None:
    """What makes `text` unfit to reach a reply or an output file, in words, or None when it is fine.

    Example:
        >>> text_flaw("Hoi \\ud83d"), text_flaw("Hoi")
        ("half of a character ('\\\\ud83d' at 4)", None)
    """
    if _CONTROL.search(text):
        return "control characters (binary data)"
    broken = _SURROGATE.search(text)
    return f"half of a character ({broken.group()!r} at {broken.start()})" if broken else None


class CheckedMessage(dict[str, Any]):
    """A message as `check_message` returns it: the engine takes it without checking it again. A copy
    made with `dict(...)` or `{**message}` is a plain dict again and is checked again."""


def check_message(record: Any, *, default_id: str) -> dict[str, Any]:
    """Validate one input record (a parsed JSON line or CSV row) and return a clean copy.

    Only `text` is required; a missing `id` becomes `default_id` (the line number).
    Unknown `channel` or `platform` values are rejected rather than guessed.
    """
    if not isinstance(record, dict):
        raise errors.InputError(f"A message must be a JSON object with a 'text' field, not {type(record).__name__}.")
    if "text" not in record or record["text"] is None:
        raise errors.InputError("The message has no 'text' field.")
    message = CheckedMessage(record)
    message["text"] = check_text(record["text"])
    raw_id = record.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | numbers.Number | None):
        raise errors.InputError(f"The id must be a string or a number, not {type(raw_id).__name__}.")
    message["id"] = default_id if raw_id is None or raw_id == "" else str(raw_id)
    for field, allowed in (("channel", CHANNELS), ("platform", PLATFORMS)):
        value = message.get(field)
        if value is None or value == "":
            message[field] = None
        elif value not in allowed:
            raise errors.InputError(f"Unknown {field} {value!r}; use one of: {', '.join(allowed)}.")
    for field in ("company", "author", "name", "lang", "initials"):
        value = message.get(field)
        if value == "":
            message[field] = None
        elif value is not None:
            message[field] = check_field(field, value)
    check_field("id", message["id"])
    return message


def check_field(name: str, value: Any) -> str:
    """A short string field (an id, a name): a string without control characters or half characters, which
    would otherwise end up in a filled-in reply or make the output unwritable."""
    if not isinstance(value, str):
        raise errors.InputError(f"The field {name!r} must be a string, not {type(value).__name__}.")
    if _UNPRINTABLE.search(value):
        raise errors.InputError(f"The field {name!r} holds control characters or half a character: {value!r}.")
    return value


def check_messages(messages: Sequence[Any]) -> Sequence[dict[str, Any]]:
    """Messages given to the Python API: as they are when `check_message` made every one (the batch
    layer and the API check theirs first); else each goes through `check_message`, its position (from 1)
    the default id, and a bad one raises an InputError that names it.

    Example:
        >>> [m["id"] for m in check_messages([{"text": "hoi"}, {"id": "m2", "text": "dag"}])]
        ['1', 'm2']
    """
    if not isinstance(messages, (list, tuple)):
        # A generator or other iterable of dicts is read in full; a pandas Series or DataFrame (whose
        # iteration gives its index or column names), a string or one dict is a mistake to name.
        table = hasattr(messages, "to_dict")
        if isinstance(messages, (str, bytes, dict)) or table or not hasattr(messages, "__iter__"):
            hint = ': use frame.to_dict("records")' if table else ""
            raise errors.InputError(f"Give the messages as a list of dicts, not {type(messages).__name__}{hint}.")
        messages = list(messages)
    if all(type(m) is CheckedMessage for m in messages):
        return messages
    checked = []
    for position, message in enumerate(messages, start=1):
        try:
            checked.append(check_message(message, default_id=str(position)))
        except errors.InputError as error:
            raise errors.InputError(f"message {position}: {error}") from None
    return checked


def check_top_k(value: Any) -> int:
    """The number of suggestions asked for per kind: a whole number of 0 or more (0: labels only)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
        raise errors.InputError(f"top_k must be a whole number of 0 or more, not {value!r}.")
    return int(value)


def reply_rule(*, intent: str, reactive: bool, platform: str) -> bool:
    """Seed 002's decision: only a proactive message on a consumer platform, or spam, gets no reply."""
    if intent == "other":
        return False
    return platform == "brand" or reactive


def company_key(company: Any) -> str | None:
    """A company as the company rule compares it: "NoordWind " and "noordwind" are one company.

    Example:
        >>> company_key(" NoordWind"), company_key("  "), company_key(None)
        ('noordwind', None, None)
    """
    return (company.strip().casefold() or None) if isinstance(company, str) else None
