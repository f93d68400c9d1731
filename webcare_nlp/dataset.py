"""Labelled data: load a corpus folder or file, validate every row against labels.md, hash it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webcare_nlp import schema
from webcare_nlp.errors import InputError
from webcare_nlp.records import read_jsonl_records

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TRAINING_DATA = PROJECT_ROOT / "training_data"


@dataclass(frozen=True)
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def message_files(data: Path) -> list[Path]:
    """The message files of a corpus: a file itself, `data/messages/*.jsonl`, or `data/*.jsonl`."""
    data = Path(data)
    if data.is_file():
        return [data]
    for folder in (data / "messages", data):
        files = sorted(folder.glob("*.jsonl"))
        if files:
            return files
    raise InputError(f"No labelled messages found at {data}: expected .jsonl files in {data}/messages/ or {data}/.")


def load_labelled(data: Path) -> list[dict[str, Any]]:
    """All records of a corpus, each with `_source` ("file:line") for error messages."""
    records = []
    for path in message_files(data):
        for record in read_jsonl_records(path):
            record["_source"] = f"{path.name}:{record.pop('_line')}"
            records.append(record)
    return records


def validate_labelled(records: list[dict[str, Any]], *, intents: tuple[str, ...] = schema.INTENTS) -> list[Problem]:
    """Every problem of a labelled set: missing text, unknown labels, duplicate ids, a broken reply rule."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for record in records:
        where = record.get("_source", str(record.get("id")))
        try:
            schema.check_message(record, default_id=where)
        except InputError as exc:
            problems.append(Problem(where, str(exc)))
            continue
        if record.get("intent") not in intents:
            problems.append(Problem(where, f"unknown intent {record.get('intent')!r}; allowed: {', '.join(intents)}"))
        if record.get("sentiment") not in schema.SENTIMENTS:
            problems.append(Problem(where, f"unknown sentiment {record.get('sentiment')!r}"))
        if not isinstance(record.get("reactive"), bool):
            problems.append(Problem(where, "reactive must be true or false"))
        if record.get("platform") not in schema.PLATFORMS:
            problems.append(Problem(where, "platform must be 'brand' or 'consumer' in labelled data"))
        if "reply_expected" in record and isinstance(record.get("reactive"), bool) and record.get("platform"):
            want = schema.reply_rule(
                intent=str(record.get("intent")), reactive=record["reactive"], platform=record["platform"]
            )
            if record["reply_expected"] is not want:
                problems.append(Problem(where, f"reply_expected is {record['reply_expected']}, the rule says {want}"))
        record_id = str(record.get("id"))
        if record_id in seen:
            problems.append(Problem(where, f"duplicate id {record_id!r} (first at {seen[record_id]})"))
        seen.setdefault(record_id, where)
    return problems


def data_hash(data: Path) -> str:
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
