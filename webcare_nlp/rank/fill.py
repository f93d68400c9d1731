"""Filling a template in for one message, and checking it against the channel's length limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webcare_nlp.rank.library import PLACEHOLDER
from webcare_nlp.text.pii import PLACEHOLDER_KIND

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
    if _value(name).lstrip("@"):
        values["naam"] = _value(name).lstrip("@")
    if _value(initials):
        values["initialen"] = _value(initials)
    for entity in entities or ():
        placeholder = _PLACEHOLDER_OF.get(entity.get("kind"))
        if placeholder and placeholder not in values and entity.get("text"):
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
    fits = limit is None or len(filled) <= limit
    return Filled(filled, tuple(missing), len(filled), limit, fits, channel, link)
