"""Writing scored chunks to JSONL, CSV or Parquet beside the final path, and moving them into place at the end.

Each writer can say where it stands after a chunk (`checkpoint`), and can be reopened at such a point
(`resume`), so a killed run continues without a duplicated or lost line.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
from pathlib import Path
from typing import IO, Any

from webcare_nlp.batch.chunks import ChunkResult
from webcare_nlp.batch.formats import STDIO, require_pyarrow
from webcare_nlp.errors import InputError

# Column types of the contract's non-text columns in Parquet; every other column is a string.
PARQUET_TYPES = {
    "reactive": "bool_",
    "reactive_probability": "float64",
    "platform_inferred": "bool_",
    "reply_expected": "bool_",
    "needs_review": "bool_",
}
# Parquet parts are closed every this many rows; a resumed run restarts at the last closed part.
PARQUET_PART_ROWS = 50_000


def part_path(path: Path, suffix: str = ".part") -> Path:
    """The hidden working file beside `path`: `.NAME.part`."""
    return path.with_name(f".{path.name}{suffix}")


START_OVER = "run again with --overwrite instead of --resume to start over"


def check_working_file(path: Path, at: int) -> None:
    """Refuse to resume from a working file that is gone or shorter than its checkpoint: lines were lost.

    A killed process leaves what it wrote to the system, so after SIGKILL the file reaches its checkpoint. A
    power cut can leave it shorter, which is refused here; the checkpoints are not fsynced, which cost 2-3 %
    of a run (15 % with chunks of 50)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"Cannot resume: the working file {path} is gone; {START_OVER}.") from None
    if size < at:
        raise InputError(
            f"Cannot resume: the working file {path} holds {size:,} bytes, fewer than the {at:,} of its "
            f"checkpoint, so scored lines were lost; {START_OVER}."
        )


class _TruncatableFile:
    """An append-only binary file that can be cut back to a checkpointed size."""

    def __init__(self, path: Path, *, at: int | None) -> None:
        self.path = path
        if at is None:
            self.handle: IO[bytes] = path.open("wb")
        else:
            check_working_file(path, at)  # truncate() would pad a short file with NUL bytes
            self.handle = path.open("r+b")
            self.handle.truncate(at)
            self.handle.seek(at)

    def write(self, text: str) -> None:
        if text:
            self.handle.write(text.encode("utf-8", errors="surrogateescape"))

    def size(self) -> int:
        self.handle.flush()
        return self.handle.tell()

    def close(self) -> None:
        self.handle.close()


class RejectsWriter:
    """OUT.rejects.jsonl: one JSON line per reject, with the line number, the reason and the raw line."""

    def __init__(self, path: Path | None, *, at: int | None = None) -> None:
        self.path = path
        self.count = 0
        self._file = _TruncatableFile(part_path(path), at=at) if path else None

    def write(self, rejects: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects)
        self.count += len(rejects)
        if self._file is None:
            sys.stderr.write(text)
        else:
            self._file.write(text)

    def checkpoint(self) -> int:
        return self._file.size() if self._file else 0

    def finish(self, *, keep_empty: bool = False) -> None:
        if self._file is None or self.path is None:
            return
        empty = self._file.size() == 0
        self._file.close()
        if empty and not keep_empty:
            self._file.path.unlink(missing_ok=True)
            self.path.unlink(missing_ok=True)
        else:
            os.replace(self._file.path, self.path)

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()


class JsonlWriter:
    def __init__(self, path: Path | None, *, state: dict[str, Any] | None = None) -> None:
        self.path = path
        self._stdout = path is None
        self._file = None if path is None else _TruncatableFile(part_path(path), at=state["bytes"] if state else None)

    def write(self, chunk: ChunkResult) -> None:
        if self._file is None:
            sys.stdout.write(chunk.text)
            sys.stdout.flush()
        else:
            self._file.write(chunk.text)

    def checkpoint(self) -> dict[str, Any] | None:
        return None if self._file is None else {"bytes": self._file.size()}

    def finish(self) -> None:
        if self._file is not None and self.path is not None:
            self._file.close()
            os.replace(self._file.path, self.path)

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()


class CsvWriter:
    def __init__(self, path: Path, *, state: dict[str, Any] | None = None) -> None:
        self.path = path
        self._file = _TruncatableFile(part_path(path), at=state["bytes"] if state else None)
        self.columns: list[str] | None = state["columns"] if state else None

    def write(self, chunk: ChunkResult) -> None:
        if not chunk.columns:
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if self.columns is None:
            self.columns = list(chunk.columns)
            writer.writerow(self.columns)
        n = chunk.scored
        cells = [chunk.columns.get(name, [None] * n) for name in self.columns]
        writer.writerows(zip(*cells, strict=True))
        self._file.write(buffer.getvalue())

    def checkpoint(self) -> dict[str, Any] | None:
        return {"bytes": self._file.size(), "columns": self.columns}

    def finish(self) -> None:
        if self.columns is None:  # nothing scored: still a CSV a reader can open, as the Parquet output is
            self._file.write("id\n")
        self._file.close()
        os.replace(self._file.path, self.path)

    def abort(self) -> None:
        self._file.close()


def parquet_part(folder: Path, index: int) -> Path:
    return folder / f"{index:06d}.parquet"


class ParquetWriter:
    """Parquet cannot be appended to after a crash, so chunks go to numbered part files in a hidden
    folder; `finish` streams them, in order, into one file."""

    def __init__(self, path: Path, *, state: dict[str, Any] | None = None) -> None:
        require_pyarrow()
        self.path = path
        self.folder = part_path(path, ".parts")
        self.closed = state["parts"] if state else 0
        if state is None:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(exist_ok=True)
        for stale in self.folder.glob("*.parquet"):
            if int(stale.stem) >= self.closed:
                stale.unlink()  # written after the last checkpoint: those rows are scored again
        self.names: list[str] | None = None
        self._writer: Any = None
        self._rows = 0

    def write(self, chunk: ChunkResult) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not chunk.columns:
            return
        if self.names is None:
            self.names = list(chunk.columns)
        n = chunk.scored
        columns, types = {}, []
        for name in self.names:
            values, kind = _typed(name, chunk.columns.get(name, [None] * n))
            columns[name] = values
            types.append((name, kind))
        schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in types])
        if self._writer is not None and self._writer.schema != schema:
            self._close_part()  # a kept field's values changed type: the next part has its own schema
        if self._writer is None:
            self._writer = pq.ParquetWriter(parquet_part(self.folder, self.closed), schema)
        self._writer.write_table(pa.Table.from_pydict(columns, schema=schema))
        self._rows += n
        if self._rows >= PARQUET_PART_ROWS:
            self._close_part()

    def _close_part(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self.closed += 1
            self._rows = 0

    def checkpoint(self) -> dict[str, Any] | None:
        # Only a closed part is a file that survives a crash; between parts there is no checkpoint.
        return {"parts": self.closed} if self._writer is None else None

    def finish(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._close_part()
        parts = sorted(self.folder.glob("*.parquet"), key=lambda part: int(part.stem))
        schemas = [pq.ParquetFile(part).schema_arrow for part in parts]
        schema = _unified(schemas) if schemas else pa.schema([("id", pa.string())])
        target = part_path(self.path)
        with pq.ParquetWriter(target, schema) as writer:
            for part in parts:
                for batch in pq.ParquetFile(part).iter_batches():
                    writer.write_batch(batch.cast(schema))
        os.replace(target, self.path)
        shutil.rmtree(self.folder, ignore_errors=True)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()


Writer = JsonlWriter | CsvWriter | ParquetWriter


def _typed(name: str, values: list[Any]) -> tuple[list[Any], str]:
    """A column's values as Parquet can hold them, and the pyarrow type's name.

    The contract's own columns have fixed types (a dict or list as JSON text). A kept input field keeps its
    type when every value of the chunk has it: numbers stay numbers and booleans booleans; anything mixed
    is written as JSON text, as in a JSONL output.
    """
    if name in PARQUET_TYPES:
        return values, PARQUET_TYPES[name]
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return values, "bool_"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        if all(-(2**63) <= v < 2**63 for v in present):
            return values, "int64"
    elif present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return [None if v is None else float(v) for v in values], "float64"
    return [v if v is None or isinstance(v, str) else json.dumps(v) for v in values], "string"


def _unified(schemas: list[Any]) -> Any:
    """One schema for parts whose kept fields may differ in type: a column that is int in one part and
    float in another becomes float, any other mix text (each value cast as Parquet writes it)."""
    import pyarrow as pa

    fields = []
    for column in schemas[0].names:
        kinds = {schema.field(column).type for schema in schemas}
        if len(kinds) == 1:
            kind = kinds.pop()
        elif kinds <= {pa.int64(), pa.float64()}:
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append((column, kind))
    return pa.schema(fields)


def open_writer(output: str, fmt: str, *, state: dict[str, Any] | None = None) -> Writer:
    if output == STDIO:
        return JsonlWriter(None)
    path = Path(output)
    if fmt == "csv":
        return CsvWriter(path, state=state)
    if fmt == "parquet":
        return ParquetWriter(path, state=state)
    return JsonlWriter(path, state=state)


def check_resumable(output: str, fmt: str, state: dict[str, Any]) -> None:
    """Refuse, before any file is touched, to reopen working files that no longer reach their checkpoint."""
    path = Path(output)
    if fmt != "parquet":
        check_working_file(part_path(path), state["bytes"])
        return
    for index in range(state["parts"]):
        check_working_file(parquet_part(part_path(path, ".parts"), index), 0)
