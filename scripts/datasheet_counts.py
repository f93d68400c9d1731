"""Recount the training corpus and write the counts section of training_data/README.md.

Usage: python scripts/datasheet_counts.py [--check]
With --check it only compares, and exits 1 when the datasheet's counts are stale.
"""

from __future__ import annotations

import sys
from collections import Counter

from webcare_nlp.dataset import TRAINING_DATA, load_labelled, near_duplicate_rate
from webcare_nlp.records import read_jsonl_records

START, END = "<!-- counts:start -->", "<!-- counts:end -->"


def table(records: list[dict], field: str) -> str:
    counts = Counter(
        str(r.get(field)).lower() if isinstance(r.get(field), bool) else str(r.get(field)) for r in records
    )
    n = len(records)
    lines = [f"| {field} | n | share |", "|---|---:|---:|"]
    lines += [
        f"| `{k}` | {v} | {100 * v / n:.1f}% |" for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return "\n".join(lines)


def library_counts(folder: str) -> int:
    return sum(len(read_jsonl_records(p)) for p in sorted((TRAINING_DATA / folder).glob("*.jsonl")))


def render() -> str:
    records = load_labelled(TRAINING_DATA)
    topics = Counter(r["faq_topic"] for r in records if r.get("faq_topic"))
    companies = {r["company"] for r in records}
    rate = near_duplicate_rate([r["text"] for r in records])
    sectors = {r["sector"] for r in records}
    parts = [
        f"Messages: **{len(records)}** in {len(sectors)} sectors and {len(companies)} companies; "
        f"{len(topics)} FAQ topics holding {sum(topics.values())} messages "
        f"({min(topics.values())}-{max(topics.values())} per topic).",
        f"Templates: **{library_counts('templates')}**. Articles: **{library_counts('articles')}**. "
        f"History lines: **{library_counts('history')}**.",
        f"Near-duplicate rate: **{100 * rate:.2f}%** of messages have an earlier message with a character "
        "5-gram Jaccard similarity of 0.8 or more.",
    ]
    for field in ("intent", "sentiment", "reactive", "reply_expected", "platform", "lang", "channel", "sector"):
        parts.append(table(records, field))
    return "\n\n".join(parts)


def main() -> int:
    readme = TRAINING_DATA / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    fresh = f"{head}{START}\n{render()}\n{END}{tail}"
    if "--check" in sys.argv:
        if fresh != text:
            print("training_data/README.md counts are stale: run python scripts/datasheet_counts.py")
            return 1
        return 0
    readme.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
