"""Check a new file of labelled messages before it joins the training corpus (the writers' checker).

Usage: python scripts/check_messages.py NEW.jsonl [--corpus training_data/messages]

Reports, each with its line: unreadable JSON, missing fields, unknown labels, a `reply_expected` that breaks
the reply rule, ids used twice or already used in the corpus, and near-duplicates (character 5-gram
Jaccard similarity of 0.8 or more) of another message in the file or the corpus; very short posts ("dm",
"??") may repeat, as they do in real inboxes. Then prints the file's label counts. Exits 1 on any problem.
The corpus supplements were checked batch by batch with these checks (training_data/README.md).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from webcare_nlp.dataset import CORPUS_FIELDS, TRAINING_DATA, near_duplicate_pairs, validate_labelled
from webcare_nlp.records import load_json_line, read_jsonl_records

SHORT = 25  # characters; shorter posts may repeat
COUNTED = ("intent", "sentiment", "reactive", "reply_expected", "platform", "channel", "lang", "company")


def read_new(path: Path) -> tuple[list[dict], list[str]]:
    """The file's records, each with its `_source` line, and the lines that are not a JSON object."""
    records, problems = [], []
    # The project's own line reader: a byte-order mark, NaN and JSON nested too deep are read as everywhere else.
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = load_json_line(line)
        except ValueError as exc:
            problems.append(f"{path.name}:{number}: {exc}")
            continue
        if not isinstance(record, dict):
            problems.append(f"{path.name}:{number}: not a JSON object")
            continue
        records.append({**record, "_source": f"{path.name}:{number}"})
    return records, problems


def check(path: Path, corpus: Path) -> tuple[list[str], list[dict]]:
    """Every problem of the new file against the corpus folder (the file itself left out of it)."""
    records, problems = read_new(path)
    for record in records:
        missing = [field for field in CORPUS_FIELDS if field not in record]
        if missing:
            problems.append(f"{record['_source']}: missing {', '.join(missing)}")
    problems += [str(problem) for problem in validate_labelled(records)]
    others = [
        record
        for other in sorted(corpus.glob("*.jsonl"))
        if other.resolve() != path.resolve()
        for record in read_jsonl_records(other)
    ]
    used = {str(record.get("id")) for record in others}
    for record in records:
        if str(record.get("id")) in used:
            problems.append(f"{record['_source']}: id {record.get('id')!r} is already used in the corpus")
    texts = [str(r.get("text", "")) for r in others] + [str(r.get("text", "")) for r in records]
    start = len(others)
    for i, j, similarity in near_duplicate_pairs(texts):
        if j >= start and len(texts[j]) > SHORT:
            twin = records[i - start]["_source"] if i >= start else "the corpus"
            problems.append(
                f"{records[j - start]['_source']}: near-duplicate ({similarity}) of {twin}: {texts[i][:60]!r}"
            )
    return problems, records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--corpus", type=Path, default=TRAINING_DATA / "messages")
    args = parser.parse_args()
    if not args.file.is_file():
        print(f"{args.file}: no such file")
        return 1
    try:
        problems, records = check(args.file, args.corpus)
    except UnicodeDecodeError as exc:
        print(f"{args.file}: not UTF-8 ({exc.reason} at byte {exc.start})")
        return 1
    for problem in problems:
        print(problem)
    print(f"{len(records)} messages; {len(problems)} problem(s)")
    for field in COUNTED:
        counts = Counter(str(record.get(field)) for record in records)
        print(f"  {field}: " + ", ".join(f"{label} {n}" for label, n in counts.most_common()))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
