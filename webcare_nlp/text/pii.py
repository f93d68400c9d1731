"""Find and mask personal and case data: e-mail, phone, IBAN, BSN, postcode, order and booking codes.

The engine works on the masked text, so models never learn from a customer's number, and an agent can
see (and a template can reuse) what was found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Each kind masks to the placeholder a template uses for the same value, so "{ordernummer}" in a
# template can be filled from what was found in the message.
PLACEHOLDERS = {
    "email": "{email}",
    "iban": "{iban}",
    "phone": "{telefoon}",
    "bsn": "{bsn}",
    "postcode": "{postcode}",
    "order_number": "{ordernummer}",
    "booking_code": "{boekingscode}",
    "customer_number": "{klantnummer}",
    "policy_number": "{polisnummer}",
    "tracking_code": "{trackingcode}",
    "reference": "{referentie}",
}
PLACEHOLDER_KIND = {placeholder.strip("{}"): kind for kind, placeholder in PLACEHOLDERS.items()}


@dataclass(frozen=True)
class Entity:
    """One piece of personal or case data found in a text, with its span in the original text."""

    kind: str
    text: str
    start: int
    end: int

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "text": self.text, "start": self.start, "end": self.end}


_CODE = r"[A-Za-z]{0,4}[-/]?\d[\dA-Za-z-]{3,18}\d"
_CONTEXT_CODES: list[tuple[str, str]] = [
    (
        "customer_number",
        r"(?:klant|relatie|abonnee|contract|lid|pas)(?:nummer|nr\.?)|customer\s*(?:number|no\.?|id)"
        r"|account\s*(?:number|no\.?)",
    ),
    (
        "policy_number",
        r"polis(?:nummer|nr\.?)?|policy\s*(?:number|no\.?)?|schade(?:nummer|nr\.?)|dossier(?:nummer|nr\.?)",
    ),
    (
        "tracking_code",
        r"track\s*(?:&|and|en)?\s*trace(?:\s*code)?|tracking\s*(?:code|number|nr\.?|nummer)?|trackingcode"
        r"|zending(?:s)?(?:nummer|nr\.?|code)|pakket(?:nummer|nr\.?|code)|verzendcode|barcode|parcel\s*(?:number|id)",
    ),
    (
        "booking_code",
        r"boekings?(?:code|nummer|nr\.?|referentie)|reserverings?(?:code|nummer|nr\.?)|booking(?:\s*(?:code|ref(?:erence)?|"
        r"number|nr\.?))?|pnr|ticket\s*(?:nummer|number|nr\.?)|ticketnummer|reis(?:nummer|nr\.?)"
        r"|ref(?:erentie|erence)?(?:nummer|nr)?\.?",
    ),
    (
        "order_number",
        r"order\s*(?:nummer|number|nr\.?|no\.?|id)?|ordernummer|bestel(?:ling|nummer|nr\.?)(?:\s*nummer)?"
        r"|factuur(?:nummer|nr\.?)|invoice",
    ),
]
# Words one of which every match of a keyword pattern contains (in lower case): a pattern runs only when
# its text has one of them, since most posts name no order, policy or booking.
_NEEDLES = {
    "customer_number": ("klant", "relatie", "abonnee", "contract", "lid", "pas", "customer", "account"),
    "policy_number": ("polis", "policy", "schade", "dossier"),
    "tracking_code": ("track", "zending", "pakket", "verzendcode", "barcode", "parcel"),
    "booking_code": ("boeking", "reservering", "booking", "pnr", "ticket", "reis", "ref"),
    "order_number": ("order", "bestel", "factuur", "invoice"),
    "bsn": ("bsn", "burgerservicenummer", "sofinummer"),
}
# Letters that a case-insensitive pattern matches to "i" or "s" but that do not lower-case to them.
_ODD_CASE = re.compile("[\u0130\u0131\u017f]")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?!\w|\.\w)")
_ORDER_CODE = re.compile(
    r"(?<![\w&])#\s?[A-Za-z]{0,4}-?\d{5,14}(?![\w-])|(?<![\w-])[A-Z]{2,4}-\d{5,12}(?![\w-])"
    r"|(?<![\w-])\d{3,5}-\d{3}-\d{3}(?![\w-])"
)
# Between digit groups people type a space, a hyphen, a dot or a slash, or " - " ("06 - 12345678",
# "06.12.34.56.78", the Belgian "0470/12.34.56"); the area code may stand in brackets ("(020) 123 45 67").
_GAP = r"(?: ?[-./] ?| )?"
_PHONE = re.compile(
    rf"(?<![\w+./-])(?:(?:\+|00)3[12]{_GAP}(?:\(0\){_GAP})?\d|\(0\d{{1,3}}\) ?\d|0\d)(?:{_GAP}\d){{7,9}}"
    r"(?![\w-]|[.:/]\d)"
)
# A date ("01-12-2024", "1/12/2024 14") has the digits of a phone number but not its shape.
_DATE = re.compile(r"(?:\d{4}-\d{2}-\d{2}|\d{1,2}([-./])\d{1,2}\1\d{4})(?!\d)")
_POSTCODE = re.compile(
    r"(?<![\w-])[1-9]\d{3}[ ]?(?!SA|SD|SS)[A-Z]{2}(?:[ ,]{1,2}\d{1,5}(?:[ -]?[a-zA-Z](?![\w]))?)?(?![\w-])"
    # In lower case only written together and with a house number ("1234ab 5"): "2000 km 5" is a distance.
    r"|(?<![\w-])[1-9]\d{3}(?!sa|sd|ss)[a-z]{2}[ ,]{1,2}\d{1,5}(?:[ -]?[a-zA-Z](?![\w]))?(?![\w-])"
)
_LETTERS_DIGITS = re.compile(r"(?<![\w-])[A-Z]{2,4}\d{6,12}(?![\w-])")
_REFERENCE = re.compile(
    r"(?<![\w-])(?=[A-Z0-9]{8,24}(?![\w-]))(?=(?:[A-Z]*\d){3})(?=(?:\d*[A-Z]){2})[A-Z0-9]{8,24}(?![\w-])"
)
# An IBAN of the Netherlands or Belgium by its shape alone: a mistyped one is still someone's account.
_IBAN_SHAPE = re.compile(r"(?i)NL\d{2}[A-Z]{4}\d{10}|BE\d{14}")
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", _EMAIL),
    # Compact ("NL91ABNA0417164300") or printed in groups of four ("NL91 ABNA 0417 1643 00").
    (
        "iban",
        re.compile(
            r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,3})?)"
            r"(?![A-Za-z0-9])"
        ),
    ),
    *[
        (kind, re.compile(rf"(?i)\b(?:{words})\s*(?:is|=|:|#|\.)?\s*[:#]?\s*(?P<value>{_CODE}|\d{{5,}})(?![\w-])"))
        for kind, words in _CONTEXT_CODES
    ],
    ("phone", _PHONE),
    (
        "bsn",
        re.compile(
            r"(?i)\b(?:bsn|burgerservicenummer|sofinummer)(?:[- ]?(?:nummer|nr\.?))?\s*(?:is|:)?\s*"
            r"(?P<value>\d{3}[. ]?\d{2}[. ]?\d{2}[. ]?\d{2}|\d{9})\b"
        ),
    ),
    ("postcode", _POSTCODE),
    # Hash-prefixed or letter-prefixed codes are order numbers even without a keyword: "#SH-4482913",
    # "MM7824417".
    ("order_number", _ORDER_CODE),
    ("order_number", _LETTERS_DIGITS),
    # A bare six-character code of capitals and digits is what airlines and tour operators print.
    (
        "booking_code",
        re.compile(r"(?<![\w-])(?=[A-Z0-9]{6}(?![\w-]))(?=[A-Z]*\d)(?=(?:\d*[A-Z]){3})[A-Z0-9]{6}(?![\w-])"),
    ),
    # Any other code of eight or more capitals and digits, three digits at least, is some reference: a
    # parcel's ("ZP482019334127NL", "BB9X3L7MP2"), a case's or an account's.
    ("reference", _REFERENCE),
]


_KEYWORD_PATTERNS = frozenset(
    pattern for kind, pattern in _PATTERNS if "value" in pattern.groupindex and kind in _NEEDLES
)
_DIGIT = re.compile(r"\d")
# What every match of a pattern contains: one of these characters, and at least this many digits (a
# phone number nine; every pattern not named here one, but the e-mail one none). A text without them skips
# the pattern, and a text with neither a digit nor an "@" (most posts) skips them all.
_SIGNS = {_EMAIL: ("@",), _ORDER_CODE: ("#", "-")}
_MIN_DIGITS = {_EMAIL: 0, _PHONE: 9, _ORDER_CODE: 5, _POSTCODE: 4, _REFERENCE: 3, _LETTERS_DIGITS: 6}
# Both code patterns match only where a capital and a digit meet: one scan decides whether to try them.
_CAPITAL_BY_DIGIT = re.compile(r"[A-Z]\d|\d[A-Z]")
_NEEDS_CAPITAL_BY_DIGIT = frozenset({_REFERENCE, _LETTERS_DIGITS})


# Kinds whose pattern can take a date for a number ("Bestelling 2024-12-01", "01-12-2024 14:30").
_DATED = frozenset(
    {"phone", "order_number", "customer_number", "policy_number", "tracking_code", "booking_code", "reference"}
)
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")


def _valid_iban_prefix(value: str) -> str:
    """The longest run of `value`'s leading groups that is a valid IBAN, or ""."""
    groups = value.split(" ")
    for size in range(len(groups) - 1, 0, -1):
        candidate = " ".join(groups[:size])
        if len(candidate.replace(" ", "")) >= 15 and _iban_valid(candidate):
            return candidate
    return ""


def _elfproef(digits: str) -> bool:
    weights = [9, 8, 7, 6, 5, 4, 3, 2, -1]
    return len(digits) == 9 and sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0


def _iban_valid(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return 15 <= len(compact) <= 34 and int(digits) % 97 == 1


def find_entities(text: str) -> list[Entity]:
    """All personal and case data in `text`, left to right, never overlapping.

    Earlier patterns win overlaps, so a phone number inside an e-mail address is not found twice.

    Example:
        >>> [e.kind for e in find_entities("Bel me op 06-12345678 over order #SH-4482913")]
        ['phone', 'order_number']
    """
    taken: list[tuple[int, int]] = []
    found: list[Entity] = []
    digits = len(_DIGIT.findall(text))
    if not digits and "@" not in text:
        return found
    lowered = text.lower() if _ODD_CASE.search(text) is None else None
    capital_by_digit = _CAPITAL_BY_DIGIT.search(text) is not None
    urls = [m.span() for m in _URL.finditer(text)] if "/" in text else []
    for kind, pattern in _PATTERNS:
        if digits < _MIN_DIGITS.get(pattern, 1):
            continue
        if (
            lowered is not None
            and pattern in _KEYWORD_PATTERNS
            and not any(needle in lowered for needle in _NEEDLES[kind])
        ):
            continue
        signs = _SIGNS.get(pattern)
        if signs is not None and not any(sign in text for sign in signs):
            continue
        if pattern in _NEEDS_CAPITAL_BY_DIGIT and not capital_by_digit:
            continue
        for match in pattern.finditer(text):
            group = "value" if "value" in pattern.groupindex and match.group("value") else 0
            start, end = match.span(group)
            if start > 0 and text[start - 1] == "#":
                start -= 1  # "#SH-4482913": the hash belongs to the code
            value = text[start:end]
            if kind == "iban" and not _iban_valid(value) and not _IBAN_SHAPE.fullmatch(value.replace(" ", "")):
                # "BE68 5390 0754 7034 op naam van": the last group may have taken the next word.
                value = _valid_iban_prefix(value)
                if not value:
                    continue
                end = start + len(value)
            if kind == "bsn" and not _elfproef(re.sub(r"[. ]", "", value)):
                continue
            if kind in _DATED and _DATE.match(value):
                continue
            if kind != "email" and any(a <= start < b for a, b in urls):
                continue  # a number in a link's path is part of the link, which masking would break
            if any(start < b and a < end for a, b in taken):
                continue
            taken.append((start, end))
            found.append(Entity(kind, value, start, end))
    return sorted(found, key=lambda entity: entity.start)


def mask(text: str, entities: list[Entity]) -> str:
    """Replace every entity with its placeholder.

    Example:
        >>> mask("mail me: an@voorbeeld.nl", find_entities("mail me: an@voorbeeld.nl"))
        'mail me: {email}'
    """
    parts: list[str] = []
    position = 0
    for entity in entities:
        parts.append(text[position : entity.start])
        parts.append(PLACEHOLDERS[entity.kind])
        position = entity.end
    parts.append(text[position:])
    return "".join(parts)
