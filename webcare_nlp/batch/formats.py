"""File formats of `score` (JSONL, CSV, Parquet, `-`) and the shape of a scored row in each of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from webcare_nlp.errors import InputError

STDIO = "-"
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
# Columns left out of CSV and Parquet output (formats.md): nested score dicts do not fit a table.
TABLE_DROPPED = ("intent_scores", "sentiment_scores")
# Columns that hold lists or dicts; a table stores them as JSON strings.
TABLE_JSON = ("suggestions", "entities")


def detect_format(path: str, *, role: str) -> str:
    """ "jsonl", "csv" or "parquet" from the extension; `-` is JSON Lines on standard input or output.

    A folder is a partitioned Parquet data set (input only).
    """
    if path == STDIO:
        return "jsonl"
    if role == "input" and Path(path).is_dir():
        return "parquet"
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise InputError(f"Cannot tell the format of the {role} {path}: use one of the extensions {known}, or -.")
    return FORMATS[suffix]


def require_pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise InputError("Parquet needs pyarrow: pip install -e '.[io]' in the project's folder.") from exc
    return pyarrow


def add_fields(result: dict[str, Any], message: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """Copy the input columns `fields` into `result`; one whose name the result uses becomes `input_<name>`."""
    for name in fields:
        key = name if name not in result else f"input_{name}"
        result[key] = message.get(name)
    return result


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def table_row(result: dict[str, Any]) -> dict[str, Any]:
    """A scored message as one table row: no score dicts, lists and dicts as JSON strings.

    Example:
        >>> table_row({"id": "m1", "intent_scores": {"request": 1.0}, "entities": []})
        {'id': 'm1', 'entities': '[]'}
    """
    return {
        key: (json.dumps(value, ensure_ascii=False) if key in TABLE_JSON else _cell(value))
        for key, value in result.items()
        if key not in TABLE_DROPPED
    }
