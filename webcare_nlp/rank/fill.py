"""Filling a template in for one message, and checking it against the channel's length limit."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from webcare_nlp.rank.library import PLACEHOLDER
from webcare_nlp.text.pii import PLACEHOLDER_KIND, find_entities

# Public replies have hard limits; a DM or e-mail has room. Instagram and Facebook comments allow
# more than anyone reads, so a soft limit keeps public replies short (seed 001: link, don't lecture).
CHANNEL_LIMITS: dict[str, int] = {
    "twitter": 280,
    "instagram": 2200,
    "facebook": 8000,
    "messenger": 2000,
    "whatsapp": 4096,
    "review": 4000,
    "forum": 10000,
    "blog_comment": 5000,
    "email": 20000,
    "other": 2000,
}
# Where a long reply can go instead of the public thread.
DM_CHANNEL = {"twitter": "DM", "instagram": "DM", "facebook": "Messenger", "review": "e-mail", "forum": "DM"}
# One-to-one channels: only there does a reply repeat the customer's personal data (phone, e-mail, IBAN,
# BSN, address, customer or policy number); case data (order, booking, tracking codes) goes anywhere.
PRIVATE_CHANNELS = frozenset({"messenger", "whatsapp", "email"})
PERSONAL_KINDS = frozenset({"email", "iban", "phone", "bsn", "postcode", "customer_number", "policy_number"})

# Each entity kind's placeholder (the first, should two name one kind), looked up per entity.
_PLACEHOLDER_OF: dict[str | None, str] = {kind: placeholder for placeholder, kind in reversed(PLACEHOLDER_KIND.items())}


@dataclass(frozen=True)
class Filled:
    """A template's text with what could be filled in, and the placeholders an agent must still fill."""

    text: str
    needs_input: tuple[str, ...]
    length: int
    limit: int | None
    fits_channel: bool
    channel: str | None = None
    link: str | None = None
    # Placeholders left open because their value is personal data and the reply is public.
    withheld: tuple[str, ...] = ()

    @property
    def where(self) -> str | None:
        """Where a reply too long for the public thread can go instead (a DM, Messenger, e-mail)."""
        return None if self.fits_channel else DM_CHANNEL.get(self.channel or "")

    @property
    def advice(self) -> str | None:
        """What to do with a reply over the channel's limit, in words; None when it fits."""
        if self.fits_channel:
            return None
        advice = f"{self.length} characters, over the {self.limit} of {self.channel}: "
        if self.channel in PRIVATE_CHANNELS:  # already one to one: there is nowhere more private to go
            return advice + (f"shorten it, or send the link {self.link}" if self.link else "shorten or split it")
        advice += f"send it as a {self.where or 'private message'}"
        return advice + (f" or reply briefly with the link {self.link}" if self.link else ", or shorten it")

    def as_dict(self) -> dict[str, Any]:
        advice = self.advice
        return {
            "text": self.text,
            "needs_input": list(self.needs_input),
            "length": self.length,
            "limit": self.limit,
            "fits_channel": self.fits_channel,
            **({"advice": advice} if advice else {}),
            **({"withheld": list(self.withheld)} if self.withheld else {}),
        }

    def advice_parts(self) -> dict[str, Any]:
        """The advice as data, for a page that words it in its own language."""
        return {
            "length": self.length,
            "limit": self.limit,
            "channel": self.channel,
            "where": self.where,
            "link": self.link,
        }


def _value(given: str | None) -> str:
    """A name or initials as they go into a reply: without braces, which would read as a placeholder left
    open ("{initialen}" as a display name), and without spaces around; "" when nothing is left."""
    return (given or "").replace("{", "").replace("}", "").strip()


# Words before a first name, which a greeting does not start with ("Hoi Dhr." reads wrong).
_TITLES = frozenset({"dhr", "mr", "mw", "mevr", "mevrouw", "meneer", "mrs", "ms", "dr", "ir", "prof"})


def _name(author: str | None) -> str:
    """The name to greet: the first name of a display name ("Sanne de Vries" gives "Sanne", as webcare
    teams greet), the author without "@" and emoji or symbols around it; "" for an author that is an e-mail
    address or a phone number (WhatsApp's), which a reply must not repeat.

    Example:
        >>> [_name(a) for a in ("Pieter de Vries", "@richard_b", "Mw. J. Jansen", "🌸 Sanne 🌸", "+31612345678")]
        ['Pieter', 'richard_b', 'Mw. J. Jansen', 'Sanne', '']
    """
    name = _value(author).lstrip("@")
    if not name or find_entities(name):
        return ""
    start, end = 0, len(name)
    while start < end and not name[start].isalnum():
        start += 1
    while end > start and not name[end - 1].isalnum() and name[end - 1] not in ".)":
        end -= 1
    name = name[start:end]
    first = name.split()[0] if name.split() else ""
    # A written-out first name only: an initial ("J.") or a title keeps the name as it was given.
    if len(name.split()) > 1 and first.isalpha() and len(first) > 1 and first.casefold() not in _TITLES:
        return first
    return name


# X counts a link as 23 characters and an emoji, flag or joined emoji sequence as 2; every other character
# outside the Latin, Cyrillic and similar ranges counts 2 (twitter-text's "weighted length", config v3).
# The twitter-text-parser package computes the same, at about 1 ms a reply: too slow for `webcare score`.
_X_URL = re.compile(
    r"(?i)https?://\S+|www\.\S+|(?<![\w@.-])(?:[a-z0-9-]+\.)+(?:com|nl|be|org|net|eu|de|fr|io|info|shop)\b(?:/\S*)?"
)
_X_TLD = re.compile(r"(?i)\.(?:com|nl|be|org|net|eu|de|fr|io|info|shop)\b")
_EMOJI = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2190-\u21ff\u2300-\u23ff\u3030\u303d\u3297\u3299"
_X_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}"  # a flag: two regional indicators
    f"|[{_EMOJI}][\ufe0f\U0001f3fb-\U0001f3ff]*(?:\u200d[{_EMOJI}][\ufe0f\U0001f3fb-\U0001f3ff]*)*"
    "|[#*0-9]\ufe0f?\u20e3"  # a keycap
)

# The characters that count 2: all but code points 0-4351, 8192-8205, 8208-8223 and 8242-8247.
_X_WIDE = re.compile("[^\u0000-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]")


def x_length(text: str) -> int:
    """A reply's length as X counts it against its 280.

    Example:
        >>> x_length("Top 👍 https://www.voorbeeld.nl/help/een-heel-lange-pagina")
        30
    """
    text = unicodedata.normalize("NFC", text)
    links = 0
    if "://" in text or "www." in text or _X_TLD.search(text):  # the link pattern is slow to try everywhere
        text, links = _X_URL.subn("", text)
    if text.isascii():
        return 23 * links + len(text)
    text, emoji = _X_EMOJI.subn("", text)
    return 23 * links + 2 * emoji + len(text) + len(_X_WIDE.findall(text))


def fill_template(
    text: str,
    *,
    name: str | None = None,
    initials: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    channel: str | None = None,
    link: str | None = None,
) -> Filled:
    """Fill {naam}, {initialen} and case data found in the message; leave the rest for the agent.

    Args:
        text: the template text.
        name: the customer's name (author or display name).
        initials: the agent's initials, for the signature.
        entities: what the text pipeline found in the message, as `{"kind", "text"}` dicts.
        channel: the channel the reply goes to, for its length limit.
        link: an article url to offer when the reply is too long for the channel.

    Example:
        >>> filled = fill_template("Hoi {naam}, we zoeken {ordernummer} op. ^{initialen}", name="Sanne",
        ...                        initials="JV", entities=[{"kind": "order_number", "text": "KJ-40815523"}])
        >>> filled.text, filled.needs_input
        ('Hoi Sanne, we zoeken KJ-40815523 op. ^JV', ())
    """
    values: dict[str, str] = {}
    if _name(name):
        values["naam"] = _name(name)
    if _value(initials).lstrip("^"):  # "^IB" as the help shows it: the template writes the caret itself
        values["initialen"] = _value(initials).lstrip("^")
    withheld_keys: set[str] = set()
    for entity in entities or ():
        kind = entity.get("kind")
        placeholder = _PLACEHOLDER_OF.get(kind)
        if not placeholder or placeholder in values or not entity.get("text"):
            continue
        if kind in PERSONAL_KINDS and channel not in PRIVATE_CHANNELS:
            withheld_keys.add(placeholder)
            continue
        values[placeholder] = str(entity["text"])
    missing: list[str] = []

    def substitute(match: Any) -> str:
        key = match.group(1)
        if key in values:
            return values[key]
        if key not in missing:
            missing.append(key)
        return match.group(0)

    filled = PLACEHOLDER.sub(substitute, text)
    limit = CHANNEL_LIMITS.get(channel or "")
    length = x_length(filled) if channel == "twitter" else len(filled)
    fits = limit is None or length <= limit
    withheld = tuple(key for key in missing if key in withheld_keys)
    return Filled(filled, tuple(missing), length, limit, fits, channel, link, withheld)
