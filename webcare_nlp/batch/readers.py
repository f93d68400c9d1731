"""Reading JSONL, CSV and Parquet input in chunks, with a position after every chunk to resume from.

JSON Lines are passed on raw (they are parsed where they are scored). CSV is read with the standard
`csv` module over the raw bytes, because a reject must carry its line number and its raw line, which
pandas' reader cannot give; Parquet is read batch by batch with pyarrow.
"""

from __future__ import annotations

import base64
import csv
import datetime
import decimal
import json
import math
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from webcare_nlp.batch.chunks import Item, validated
from webcare_nlp.batch.formats import STDIO, detect_format, require_pyarrow
from webcare_nlp.errors import InputError
from webcare_nlp.records import CSV_DELIMITERS, MAX_LINE_BYTES, UTF8_BOM, Reject, csv_columns


@dataclass
class Position:
    """How far a run got: `offset` is bytes for JSONL and CSV, rows for Parquet; `line` the last line read."""

    offset: int = 0
    line: int = 0
    blank: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"offset": self.offset, "line": self.line, "blank": self.blank, **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Position:
        known = {"offset", "line", "blank"}
        return cls(data["offset"], data["line"], data["blank"], {k: v for k, v in data.items() if k not in known})


Chunks = Iterator[tuple[list[Item], Position]]


def input_size(source: str, fmt: str) -> int | None:
    """The total the positions count towards (bytes, or Parquet rows), for a progress bar."""
    if source == STDIO:
        return None
    if fmt == "parquet":
        return sum(_parquet_file(path).metadata.num_rows for path in parquet_files(source))
    return Path(source).stat().st_size


def read_chunks(source: str, fmt: str, *, chunk_size: int, start: Position | None = None) -> Chunks:
    """(items, position after them) for the whole input, from `start` on; the last chunk may be empty."""
    start = start or Position()
    if fmt == "parquet":
        return _parquet_chunks(source, chunk_size, start)
    if source == STDIO:
        if start.offset:
            raise InputError("Cannot resume reading standard input; score a file to be able to resume.")
        return _jsonl_chunks(sys.stdin.buffer, chunk_size, start)
    return _file_chunks(Path(source), fmt, chunk_size, start)


def read_records(source: str) -> Iterator[tuple[int, dict[str, Any] | Reject]]:
    """(line, message or Reject) for every message line of a JSONL, CSV or Parquet input, or "-" (JSONL).

    For the commands that read a whole archive at once (topics, review). Each message is checked as
    `webcare score` checks it. A missing file or an unknown format is refused now, not at the first line.
    """
    if source != STDIO and not Path(source).exists():
        raise InputError(f"No such input file: {source}.")
    return _records(read_chunks(source, detect_format(source, role="input"), chunk_size=10_000))


def message_ids(source: str, fmt: str, *, through: int) -> Iterator[tuple[int, str]]:
    """(line, id) of every message up to line `through` that scoring accepts (rejected lines have no id in
    the output), with the same default ids; a resumed run learns from these the ids it scored before."""
    for line, parsed in _records(read_chunks(source, fmt, chunk_size=10_000)):
        if line > through:
            return  # the rest is left unread (the reader closes its file as it is dropped)
        if not isinstance(parsed, Reject):
            yield line, parsed["id"]


def _records(chunks: Chunks) -> Iterator[tuple[int, dict[str, Any] | Reject]]:
    for items, _ in chunks:
        for item in items:
            yield item[0], validated(item)


# What a file that is not UTF-8 text starts with, and what to do about it.
_NOT_UTF8 = {
    b"\xff\xfe": "is UTF-16 text (it starts with UTF-16's byte-order mark): save it as UTF-8",
    b"\xfe\xff": "is UTF-16 text (it starts with UTF-16's byte-order mark): save it as UTF-8",
    b"\x1f\x8b": "is gzip-compressed: unpack it first (gunzip), or pipe it in with `gunzip -c FILE | webcare ... -`",
    b"PK\x03\x04": "is a zip archive: unpack it first",
}


def _check_text_file(path: Path, stream: IO[bytes]) -> None:
    """Refuse a file that is not UTF-8 text at once, rather than reject every one of its lines as unreadable."""
    head = stream.read(4)
    stream.seek(0)
    for sign, problem in _NOT_UTF8.items():
        if head.startswith(sign):
            raise InputError(f"The input {path} {problem}.")


def _file_chunks(path: Path, fmt: str, chunk_size: int, start: Position) -> Chunks:
    with path.open("rb") as stream:
        _check_text_file(path, stream)
        if fmt == "csv":
            yield from _csv_chunks(stream, chunk_size, start)
        else:
            stream.seek(start.offset)
            yield from _jsonl_chunks(stream, chunk_size, start)


def _jsonl_chunks(stream: IO[bytes], chunk_size: int, start: Position) -> Chunks:
    offset, line, blank = start.offset, start.line, start.blank
    items: list[Item] = []
    for raw in stream:
        line += 1
        offset += len(raw)
        if line == 1:
            raw = raw.removeprefix(UTF8_BOM)  # files saved by Excel and Notepad start with one
        if not raw.strip():
            blank += 1
            continue
        items.append((line, raw, None))
        if len(items) >= chunk_size:
            yield items, Position(offset, line, blank)
            items = []
    yield items, Position(offset, line, blank)


# -- CSV ----------------------------------------------------------------------------------------------
class _RawLines:
    """Feeds decoded lines to csv.reader and remembers the raw text and bytes of the current record."""

    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = iter(stream)
        self.buffer: list[str] = []
        self.bytes = 0
        self.lines = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = next(self._stream)
        self.bytes += len(raw)
        self.lines += 1
        # surrogateescape keeps bytes that are not UTF-8, so the row can be rejected with its raw line.
        text = raw.decode("utf-8", errors="surrogateescape")
        self.buffer.append(text)
        return text

    def take(self) -> str:
        text = "".join(self.buffer)
        self.buffer = []
        return text


def _printable(text: str) -> str:
    """Raw text for a reject: undecodable bytes as \\x escapes, like JSONL rejects, without the newline."""
    return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace").rstrip("\r\n")


def _csv_header(stream: IO[bytes]) -> tuple[list[str], str, int]:
    raw = stream.readline()
    if not raw.strip():
        raise InputError("The CSV file is empty or starts with a blank line: its first line must be the header.")
    try:
        header_line = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("The CSV header is not valid UTF-8: save the file as UTF-8.") from exc
    if "\r" in header_line.rstrip("\r\n"):
        raise InputError(
            "The CSV file's lines end in a bare carriage return (old Mac line ends), so it reads as one line: "
            "save it with \\n or \\r\\n line ends."
        )
    try:
        columns = csv_columns(header_line)
        found = next(csv.reader([header_line]))
    except csv.Error as exc:
        raise InputError(f"The CSV header cannot be read: {exc}.") from None
    except InputError as exc:
        raise InputError(f"The CSV file: {exc}") from None
    if columns is not None:
        return columns[0], columns[1], len(raw)
    raise InputError(
        f"The CSV file has no 'text' column (header: {', '.join(found)[:200]}). Name the message column "
        f"'text'; the delimiter may be one of {' '.join(repr(d) for d in CSV_DELIMITERS)}."
    )


def _csv_row(names: list[str], row: list[str], line: int, raw: str) -> dict[str, Any] | Reject:
    if len(row) != len(names):
        return Reject(line, f"the row has {len(row)} fields, the header has {len(names)}", _printable(raw))
    if any(_has_surrogates(value) for value in row):
        return Reject(line, "not valid UTF-8: save the file as UTF-8", _printable(raw))
    if len(raw) > MAX_LINE_BYTES:
        return Reject(line, f"the row is over the {MAX_LINE_BYTES:,}-byte limit", _printable(raw))
    # An empty CSV cell means "not given", as a missing JSON field does; an empty text is kept, so that its
    # reject says the text is empty rather than that the row has no text column.
    return {name: value for name, value in zip(names, row, strict=True) if value != "" or name == "text"}


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _csv_chunks(stream: IO[bytes], chunk_size: int, start: Position) -> Chunks:
    names, delimiter, header_bytes = _csv_header(stream)
    offset = max(start.offset, header_bytes)
    base_line = start.line or 1
    line = base_line
    stream.seek(offset)
    lines = _RawLines(stream)
    reader = csv.reader(lines, delimiter=delimiter)
    blank = start.blank
    items: list[Item] = []
    while True:
        first_line = line + 1
        problem = ""
        try:
            row: list[str] | None = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row, problem = None, f"not a valid CSV row: {exc}"
        raw = lines.take()
        line = base_line + lines.lines
        if row is not None and not any(cell.strip() for cell in row):
            blank += 1
            continue
        record: dict[str, Any] | Reject = (
            Reject(first_line, problem, _printable(raw)) if row is None else _csv_row(names, row, first_line, raw)
        )
        items.append((first_line, _printable(raw), record))
        if len(items) >= chunk_size:
            yield items, Position(offset + lines.bytes, line, blank)
            items = []
    yield items, Position(offset + lines.bytes, line, blank)


# -- Parquet ------------------------------------------------------------------------------------------
def parquet_files(source: str) -> list[Path]:
    """A Parquet file, or the .parquet files of a partitioned data set (a folder), in a stable order."""
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
        if not files:
            raise InputError(f"The folder {source} holds no .parquet files.")
        return files
    return [path]


def _parquet_file(path: Path) -> Any:
    require_pyarrow()
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several kinds for a file that is not Parquet
        raise InputError(f"{path} is not a readable Parquet file: {exc}") from exc


def _check_schema(path: Path, schema: Any) -> None:
    import pyarrow as pa

    doubled = sorted({name for name in schema.names if schema.names.count(name) > 1})
    if doubled:
        raise InputError(f"The Parquet file {path} has more than one column named {', '.join(map(repr, doubled))}.")
    if "text" not in schema.names:
        raise InputError(f"The Parquet file {path} has no 'text' column (columns: {', '.join(schema.names)[:200]}).")
    kind = schema.field("text").type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise InputError(f"The 'text' column of {path} is {kind}, not a string column.")


def _parquet_chunks(source: str, chunk_size: int, start: Position) -> Chunks:
    row = 0
    blank = start.blank
    files = parquet_files(source)
    for path in files:  # every file of a data set before the first row: a bad one must not stop a run halfway
        _check_schema(path, _parquet_file(path).schema_arrow)
    for path in files:
        handle = _parquet_file(path)
        rows = handle.metadata.num_rows
        if row + rows <= start.offset:
            row += rows
            continue
        for batch in handle.iter_batches(batch_size=chunk_size):
            if row + batch.num_rows <= start.offset:
                row += batch.num_rows
                continue
            skip = max(0, start.offset - row)
            records = batch.slice(skip).to_pylist()
            row += skip
            items: list[Item] = []
            for record in records:
                row += 1
                items.append((row, None, _parquet_record(record, row)))
            yield items, Position(row, row, blank)
    yield [], Position(row, row, blank)


def _parquet_record(record: dict[str, Any], row: int) -> dict[str, Any] | Reject:
    # Parquet nulls are missing fields; check_message then says what is missing.
    kept = {key: _json_value(value) for key, value in record.items() if value is not None}
    return {key: value for key, value in kept.items() if value is not None} or Reject(
        row, "the row is empty", json.dumps(record, default=str)
    )


def _json_value(value: Any) -> Any:
    """A Parquet value as JSON holds it: a timestamp as ISO 8601 text (as `created_at` is read), a decimal as
    its digits, bytes as base64, and a float that is not a number (NaN, infinity) as missing.

    Example:
        >>> import datetime, decimal
        >>> _json_value(datetime.datetime(2026, 1, 6, 23, 41)), _json_value(decimal.Decimal("1.50"))
        ('2026-01-06T23:41:00', '1.50')
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return value
