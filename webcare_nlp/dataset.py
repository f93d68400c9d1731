"""Labelled data: load a corpus folder or file, validate every row against labels.md, hash it."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from webcare_nlp import schema
from webcare_nlp.errors import InputError
from webcare_nlp.records import CSV_DELIMITERS, csv_columns, read_jsonl_records

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TRAINING_DATA = PROJECT_ROOT / "training_data"


# The fields every message of the project's corpus carries: labels.md's, plus where and when it was written.
CORPUS_FIELDS = (
    "id",
    "text",
    "channel",
    "platform",
    "lang",
    "company",
    "sector",
    "author",
    "created_at",
    "intent",
    "sentiment",
    "reactive",
    "reply_expected",
)


@dataclass(frozen=True)
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


Sources = Path | str | Sequence[Path | str]
_LABELLED_SUFFIXES = (".jsonl", ".csv")
_TRUE, _FALSE = ("true", "1", "yes", "ja", "y"), ("false", "0", "no", "nee", "n")


def _as_paths(data: Sources) -> list[Path]:
    return [Path(data)] if isinstance(data, str | Path) else [Path(d) for d in data]


def message_files(data: Sources) -> list[Path]:
    """The message files of one or more corpora: a .jsonl or .csv file, or the files in `data/messages/` or `data/`."""
    files: list[Path] = []
    for source in _as_paths(data):
        if source.is_file():
            files.append(source)
            continue
        for folder in (source / "messages", source):
            found = sorted(f for f in folder.glob("*") if f.suffix.lower() in _LABELLED_SUFFIXES)
            if found:
                files.extend(found)
                break
        else:
            raise InputError(
                f"No labelled messages found at {source}: expected .jsonl or .csv files in {source}/messages/ "
                f"or {source}/, or the path of one such file."
            )
    return files


def _csv_value(field: str, value: str) -> Any:
    """A CSV cell as the JSON value it stands for: booleans for the bool labels, None for an empty cell."""
    value = value.strip()
    if value == "":
        return None
    if field in ("reactive", "reply_expected") and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    return value


def _csv_header(path: Path, header_line: str) -> tuple[list[str], str]:
    """The column names of a labelled CSV file and its delimiter: the first of `CSV_DELIMITERS` whose header has a
    `text` column. Names are matched without case and surrounding spaces, so `Text ; Intent` is `text`, `intent`."""
    try:
        columns = csv_columns(header_line, fold_case=True)
    except InputError as exc:
        raise InputError(f"{path}:1: {exc}") from None
    if columns is not None:
        return columns
    found = header_line.rstrip("\r\n")
    shown = repr(found[:200]) if found.strip() else "an empty line"
    raise InputError(
        f"{path}:1: the header row must name the columns, with at least 'text'; found {shown}, tried the delimiters "
        f"{' '.join(repr(d) for d in CSV_DELIMITERS)}."
    )


def _first_undecodable(path: Path) -> tuple[int, int]:
    """The line (from 1) and the byte within it (from 0) of a file's first byte that is not UTF-8."""
    with Path(path).open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, exc.start
    return 0, 0


def read_labelled_csv(path: Path) -> list[dict[str, Any]]:
    """The rows of a labelled CSV file (header row, UTF-8), each with `_line`, the row's line in the file.

    The delimiter is `,`, `;`, tab or `|`, whichever makes the header name a `text` column; column names are
    matched without case and surrounding spaces.
    """
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            header_line = handle.readline()
            names, delimiter = _csv_header(path, header_line)
            reader = csv.reader(chain([header_line], handle), delimiter=delimiter)
            next(reader)
            records, start = [], reader.line_num + 1
            for row in reader:
                if len(row) > len(names):
                    raise InputError(f"{path}:{start}: the row has more cells than the header has columns.")
                record = {k: _csv_value(k, v) for k, v in zip(names, row, strict=False)}
                record = {k: v for k, v in record.items() if v is not None}
                if record:
                    records.append({**record, "_line": start})
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        # The decoder counts within the block it was given: find the line itself.
        line, column = _first_undecodable(path)
        raise InputError(
            f"{path}:{line}: not valid UTF-8 (byte {column} of the line); save the file as UTF-8."
        ) from exc
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc}).") from exc
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    return records


def load_labelled(data: Sources) -> list[dict[str, Any]]:
    """All records of one or more corpora, each with `_source` ("file:line") for error messages."""
    records = []
    for path in message_files(data):
        rows = read_labelled_csv(path) if path.suffix.lower() == ".csv" else read_jsonl_records(path)
        for record in rows:
            record["_source"] = f"{path.name}:{record.pop('_line')}"
            records.append(record)
    return records


def _found(value: Any) -> str:
    """The value a label has instead of the one it should have, for a problem's message."""
    return "but it is missing" if value is None else f"not {value!r}"


def _label_problems(record: dict[str, Any], intents: tuple[str, ...], *, partial: bool) -> list[str]:
    problems = []
    for field, allowed in (("intent", intents), ("sentiment", schema.SENTIMENTS)):
        value = record.get(field)
        if value is None:
            if not partial:
                problems.append(f"missing {field}; give one of: {', '.join(allowed)}")
        elif not isinstance(value, str) or value not in allowed:
            hint = " (list a new intent with --intents)" if field == "intent" and not partial else ""
            problems.append(f"unknown {field} {value!r}; allowed: {', '.join(allowed)}{hint}")
    reactive, reply = record.get("reactive"), record.get("reply_expected")
    if not isinstance(reactive, bool) and not (partial and reactive is None):
        problems.append(f"reactive must be true or false, {_found(reactive)}")
    if reply is not None and not isinstance(reply, bool):
        problems.append(f"reply_expected must be true or false, {_found(reply)}")
    # A labelled file for evaluation may leave the platform out (the engine infers it); check_message
    # has already refused a platform that is given but unknown.
    if not partial and record.get("platform") not in schema.PLATFORMS:
        problems.append("platform must be 'brand' or 'consumer' in labelled data")
    if isinstance(reply, bool) and isinstance(reactive, bool) and record.get("platform") and "intent" in record:
        want = schema.reply_rule(intent=str(record["intent"]), reactive=reactive, platform=record["platform"])
        if reply is not want:
            problems.append(f"reply_expected is {reply}, the rule says {want}")
    return problems


def validate_labelled(
    records: list[dict[str, Any]], *, intents: tuple[str, ...] = schema.INTENTS, partial: bool = False
) -> list[Problem]:
    """Every problem of a labelled set, each with its file and line.

    Missing text, unknown or missing labels, a broken reply rule, duplicate ids, and the same text twice
    with different labels (identical short messages with the same labels are allowed).

    `partial` is for a file to evaluate on: it may carry only some labels, and the labels it carries are
    checked as for training. Repeated ids and texts are allowed there: they only matter where rows are
    split into folds.
    """
    problems: list[Problem] = []
    seen_ids: dict[str, str] = {}
    seen_texts: dict[str, tuple[str, tuple[Any, ...]]] = {}
    for record in records:
        where = record.get("_source", str(record.get("id")))
        try:
            schema.check_message(record, default_id=where)
        except InputError as exc:
            problems.append(Problem(where, str(exc)))
            continue
        problems += [Problem(where, what) for what in _label_problems(record, intents, partial=partial)]
        if partial:
            continue
        record_id = str(record.get("id") or where)
        if record_id in seen_ids:
            problems.append(Problem(where, f"duplicate id {record_id!r} (first at {seen_ids[record_id]})"))
        seen_ids.setdefault(record_id, where)
        key = " ".join(record["text"].lower().split())
        labels = tuple(record.get(f) for f in ("intent", "sentiment", "reactive", "platform"))
        if key in seen_texts and seen_texts[key][1] != labels:
            problems.append(Problem(where, f"duplicate text with other labels than at {seen_texts[key][0]}"))
        seen_texts.setdefault(key, (where, labels))
    return problems


def refuse_problems(problems: list[Problem], what: str, limit: int = 30) -> None:
    """Raise one InputError that lists the first `limit` problems, each with its file and line."""
    if not problems:
        return
    listed = "\n".join(f"  {p}" for p in problems[:limit])
    more = f"\n  ... and {len(problems) - limit} more" if len(problems) > limit else ""
    raise InputError(f"{what} has {len(problems)} problem(s):\n{listed}{more}")


def data_hash(data: Sources) -> str:
    """SHA-256 over the message files' names and bytes, so a model records exactly what it learned from."""
    digest = hashlib.sha256()
    for path in message_files(data):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _five_grams(text: str) -> set[str]:
    text = text.lower()
    return {text[i : i + 5] for i in range(len(text) - 4)} or {text}


def near_duplicate_pairs(texts: list[str], *, threshold: float = 0.8) -> list[tuple[int, int, float]]:
    """Pairs (i, j, similarity), i < j, whose character 5-gram Jaccard similarity is at least `threshold`.

    One sparse product gives every pair's overlap, so 5,000 messages take about a second.
    """
    import numpy as np
    import scipy.sparse as sp

    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for row, text in enumerate(texts):
        for gram in _five_grams(text):
            rows.append(row)
            cols.append(vocabulary.setdefault(gram, len(vocabulary)))
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(texts), len(vocabulary)))
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    overlap = sp.triu(matrix @ matrix.T, k=1).tocoo()
    union = sizes[overlap.row] + sizes[overlap.col] - overlap.data
    similarity = overlap.data / union
    keep = similarity >= threshold
    return sorted(
        zip(overlap.row[keep].tolist(), overlap.col[keep].tolist(), similarity[keep].round(3).tolist(), strict=True)
    )


def near_duplicate_rate(texts: list[str], *, threshold: float = 0.8) -> float:
    """Share of messages that are a near-duplicate of an earlier message."""
    later = {j for _, j, _ in near_duplicate_pairs(texts, threshold=threshold)}
    return len(later) / max(len(texts), 1)
