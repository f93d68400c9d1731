"""Reading message files line by line, where every line ends up as a record or as a reject."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from webcare_nlp import schema
from webcare_nlp.errors import InputError

# A line longer than this is not a social media message; it is rejected without parsing it whole.
MAX_LINE_BYTES = 1_000_000
# Files saved by Excel and Notepad start with a byte-order mark; it is not part of the first line.
UTF8_BOM = b"\xef\xbb\xbf"


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


# The delimiters a CSV input may use; its header tells which (the first that yields a `text` column).
CSV_DELIMITERS = (",", ";", "\t", "|")


def csv_columns(header_line: str, *, fold_case: bool = False) -> tuple[list[str], str] | None:
    """The column names of a CSV header and its delimiter, or None when no delimiter yields a `text` column.

    Names are stripped (and lower-cased with `fold_case`). A name given twice is refused: a row would keep
    only the last of its cells, and the other would be lost unseen.
    """
    for delimiter in CSV_DELIMITERS:
        names = [name.strip() for name in next(csv.reader([header_line], delimiter=delimiter), [])]
        names = [name.lower() for name in names] if fold_case else names
        if "text" in names:
            repeated = sorted({name for name in names if name and names.count(name) > 1})
            if repeated:
                raise InputError(
                    f"the header names the column(s) {', '.join(map(repr, repeated))} more than once"
                    f"{' (compared without case)' if fold_case else ''}; give every column its own name."
                )
            return names, delimiter
    return None


# Where a line can hold half of a character: a surrogate escape (a whole pair is fine, one half is not).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _writable(record: Any) -> bool:
    """Whether every string of a parsed line can be written as UTF-8 (any field may be kept in the output)."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def load_json_line(text: str) -> Any:
    """`json.loads` of one line, where every way valid-looking JSON can still fail is a ValueError whose
    message says why: a syntax error, nesting deeper than the parser's recursion limit, or an integer of more
    digits than Python converts (4,300).

    NaN and Infinity, which JSON does not have but some exporters write, are read as null: kept in an
    output they would make its line invalid JSON for every other reader.

    Example:
        >>> load_json_line('{"text": "hoi", "score": NaN}')
        {'text': 'hoi', 'score': None}
    """
    try:
        return json.loads(text, parse_constant=_no_number)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise ValueError("not usable JSON: nested deeper than the parser can follow") from None
    except ValueError as exc:  # Python's own guard against converting huge integers
        reason = "a number of more than 4,300 digits" if "digits" in str(exc) else str(exc)
        raise ValueError(f"not usable JSON: {reason}") from None


def _no_number(name: str) -> None:
    return None


def parse_jsonl_line(raw: bytes, line_no: int) -> dict[str, Any] | Reject:
    """One JSON Lines line as a validated message, or a Reject saying what is wrong with it."""
    if len(raw) > MAX_LINE_BYTES:
        return Reject(line_no, f"line is {len(raw):,} bytes, over the {MAX_LINE_BYTES:,}-byte limit", _raw_text(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Reject(line_no, f"not valid UTF-8 (byte {exc.start}): save the file as UTF-8", _raw_text(raw))
    try:
        record = load_json_line(text)
    except ValueError as exc:
        return Reject(line_no, str(exc), _raw_text(raw))
    if _SURROGATE_ESCAPE.search(text) and not _writable(record):
        return Reject(line_no, "holds half of a character (a lone \\ud800-\\udfff escape): repair it", _raw_text(raw))
    try:
        return schema.check_message(record, default_id=str(line_no))
    except InputError as exc:
        return Reject(line_no, str(exc), _raw_text(raw))


def iter_jsonl(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | Reject]]:
    """(line number, message or Reject) for every non-blank line of a binary stream."""
    for line_no, raw in enumerate(stream, start=1):
        if line_no == 1:
            raw = raw.removeprefix(UTF8_BOM)
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
                if line_no == 1:
                    raw = raw.removeprefix(UTF8_BOM)
                if not raw.strip():
                    continue
                try:
                    record = load_json_line(raw.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    raise InputError(f"{path}:{line_no}: not valid UTF-8 (byte {exc.start}).") from None
                except ValueError as exc:
                    raise InputError(f"{path}:{line_no}: {exc}.") from None
                if not isinstance(record, dict):
                    raise InputError(f"{path}:{line_no}: expected a JSON object, got {type(record).__name__}.")
                record["_line"] = line_no
                records.append(record)
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    return records
