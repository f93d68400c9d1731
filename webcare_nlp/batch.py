"""Batch scoring of message files: streaming in chunks, every line scored or rejected, atomic output."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from webcare_nlp.engine import Engine
from webcare_nlp.errors import InputError
from webcare_nlp.records import Reject, iter_jsonl

STDIO = "-"


@dataclass
class ScoreSummary:
    """What a scoring run did: lines read, scored and rejected, label counts, and the throughput."""

    lines: int = 0
    scored: int = 0
    rejected: int = 0
    seconds: float = 0.0
    counts: dict[str, Counter[str]] = field(
        default_factory=lambda: {k: Counter() for k in ("intent", "sentiment", "reply_expected")}
    )

    @property
    def rate(self) -> float:
        return self.scored / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "scored": self.scored,
            "rejected": self.rejected,
            "seconds": round(self.seconds, 3),
            "messages_per_second": round(self.rate, 1),
            **{k: dict(v) for k, v in self.counts.items()},
        }


def rejects_path(output: str | Path) -> Path:
    return Path(f"{output}.rejects.jsonl")


@contextmanager
def atomic_output(path: Path) -> Iterator[IO[str]]:
    """Write to a temporary file beside `path` and rename it at the end, so a crash leaves no half file."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed only on success
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".part", delete=False
    )
    try:
        with handle:
            yield handle
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def check_output(output: str, *, overwrite: bool) -> None:
    if output == STDIO:
        return
    path = Path(output)
    if not path.parent.exists():
        raise InputError(f"The output folder {path.parent} does not exist; create it first.")
    if path.exists() and not overwrite:
        raise InputError(f"{path} exists already; pass --overwrite to replace it.")


def _chunks(
    records: Iterator[tuple[int, dict[str, Any] | Reject]], size: int
) -> Iterator[list[tuple[int, dict[str, Any] | Reject]]]:
    chunk: list[tuple[int, dict[str, Any] | Reject]] = []
    for item in records:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def score_stream(
    engine: Engine, source: IO[bytes], sink: IO[str], rejects: IO[str], *, chunk_size: int = 1000
) -> ScoreSummary:
    """Score JSON Lines from `source` into `sink`, in input order; unusable lines go to `rejects`."""
    summary = ScoreSummary()
    started = time.perf_counter()
    for chunk in _chunks(iter_jsonl(source), chunk_size):
        summary.lines += len(chunk)
        messages = [item for _, item in chunk if not isinstance(item, Reject)]
        results = iter(engine.analyze_many(messages))
        for _, item in chunk:
            if isinstance(item, Reject):
                rejects.write(json.dumps(item.as_dict(), ensure_ascii=False) + "\n")
                summary.rejected += 1
                continue
            result = next(results)
            sink.write(json.dumps(result, ensure_ascii=False) + "\n")
            summary.scored += 1
            for key in summary.counts:
                summary.counts[key][str(result[key])] += 1
    summary.seconds = time.perf_counter() - started
    return summary


def score_file(
    engine: Engine, source: str, output: str, *, overwrite: bool = False, chunk_size: int = 1000
) -> ScoreSummary:
    """Score a JSONL file (or "-" for standard input) into `output` (or "-" for standard output)."""
    check_output(output, overwrite=overwrite)
    if source != STDIO and not Path(source).is_file():
        raise InputError(f"No such input file: {source}")
    with sys.stdin.buffer if source == STDIO else Path(source).open("rb") as stream:
        if output == STDIO:
            return score_stream(engine, stream, sys.stdout, sys.stderr, chunk_size=chunk_size)
        out_path = Path(output)
        with atomic_output(out_path) as sink, atomic_output(rejects_path(out_path)) as rejects:
            summary = score_stream(engine, stream, sink, rejects, chunk_size=chunk_size)
        if summary.rejected == 0:
            rejects_path(out_path).unlink(missing_ok=True)
        return summary
