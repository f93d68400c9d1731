"""Shared helpers for the benchmark scripts: where the evaluation data is, and how to read it."""

from __future__ import annotations

import json
from pathlib import Path

from webcare_nlp.dataset import PROJECT_ROOT

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
DEVSET = SHARED_DATA / "devset" / "messages.jsonl"
REAL = SHARED_DATA / "real"


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def require(path: Path) -> bool:
    if not path.exists():
        print(f"skipped: {path} is not here (evaluation data lives in ../shared/data/)")
        return False
    return True
