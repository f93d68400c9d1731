"""Shared helpers for the benchmark scripts: where the evaluation data is, and how to read it."""

from __future__ import annotations

from pathlib import Path

from webcare_nlp.dataset import PROJECT_ROOT
from webcare_nlp.records import read_jsonl_records

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
DEVSET = SHARED_DATA / "devset" / "messages.jsonl"
REAL = SHARED_DATA / "real"


def read_jsonl(path: Path) -> list[dict]:
    return read_jsonl_records(path)


def require(path: Path) -> bool:
    if not path.exists():
        print(f"skipped: {path} is not here (evaluation data lives in ../shared/data/)")
        return False
    return True
