"""Reading message files line by line, where every line ends up as a record or as a reject."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from webcare_nlp import schema
from webcare_nlp.errors import InputError

# A line longer than this is not a social media message; it is rejected without parsing it whole.
MAX_LINE_BYTES = 1_000_000


@dataclass(frozen=True)
class Reject:
    """A line that could not be used: where it was, why, and the whole raw line to fix it."""

    line: int
    reason: str
    raw: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason, "raw": self.raw}


def _raw_text(raw: bytes) -> str:
    """The whole line as text; bytes that are not UTF-8 become \\x escapes, so nothing is lost."""
    return raw.decode("utf-8", errors="backslashreplace").rstrip("\r\n")


def parse_jsonl_line(raw: bytes, line_no: int) -> dict[str, Any] | Reject:
    """One JSON Lines line as a validated message, or a Reject saying what is wrong with it."""
    if len(raw) > MAX_LINE_BYTES:
        return Reject(line_no, f"line is {len(raw):,} bytes, over the {MAX_LINE_BYTES:,}-byte limit", _raw_text(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Reject(line_no, f"not valid UTF-8 (byte {exc.start}): save the file as UTF-8", _raw_text(raw))
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return Reject(line_no, f"not valid JSON: {exc.msg} at column {exc.colno}", _raw_text(raw))
    try:
        return schema.check_message(record, default_id=str(line_no))
    except InputError as exc:
        return Reject(line_no, str(exc), _raw_text(raw))


def iter_jsonl(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | Reject]]:
    """(line number, message or Reject) for every non-blank line of a binary stream."""
    for line_no, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        yield line_no, parse_jsonl_line(raw, line_no)


def read_jsonl_records(path: Path) -> list[dict[str, Any]]:
    """Every JSON object of a JSONL file, unvalidated (for labelled data and libraries).

    Raises an InputError naming the file and line of the first line that is not a JSON object.
    """
    records = []
    try:
        with Path(path).open("rb") as handle:
            for line_no, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise InputError(f"{path}:{line_no}: not a valid UTF-8 JSON line ({exc}).") from exc
                if not isinstance(record, dict):
                    raise InputError(f"{path}:{line_no}: expected a JSON object, got {type(record).__name__}.")
                record["_line"] = line_no
                records.append(record)
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    return records
