"""Agreement between the corpus's labels and a second annotator's, per label: raw agreement and Cohen's kappa.

Usage: python scripts/agreement.py [training_data/agreement/second_annotator.jsonl]

The second annotator's file holds lines {"id", "intent", "sentiment", "reactive"} for corpus messages, labelled
blind (text, channel, platform and where it was posted; not the corpus's labels). Prints, per label, the
share of messages both gave the same label, Cohen's kappa, and the pairs they most often disagree on.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

from webcare_nlp.dataset import TRAINING_DATA, load_labelled
from webcare_nlp.records import read_jsonl_records

LABELS = ("intent", "sentiment", "reactive")


def agreement(second: list[dict], corpus: dict[str, dict]) -> dict[str, dict]:
    """Per label: n, raw agreement, kappa and the most frequent (corpus, second) disagreements."""
    missing = [row.get("id") for row in second if row.get("id") not in corpus]
    if missing:
        raise SystemExit(f"ids not in the corpus: {missing[:10]}")
    unlabelled = [row["id"] for row in second if any(label not in row for label in LABELS)]
    if unlabelled:
        raise SystemExit(f"lines without all of {', '.join(LABELS)}: {unlabelled[:10]}")
    out = {}
    for label in LABELS:
        first = [str(corpus[row["id"]][label]) for row in second]
        other = [str(row[label]) for row in second]
        pairs = Counter((a, b) for a, b in zip(first, other, strict=True) if a != b)
        out[label] = {
            "n": len(first),
            "agreement": sum(a == b for a, b in zip(first, other, strict=True)) / len(first),
            "kappa": float(cohen_kappa_score(first, other)),
            "disagreements": pairs.most_common(4),
        }
    return out


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else TRAINING_DATA / "agreement" / "second_annotator.jsonl"
    if not path.is_file():
        raise SystemExit(f"{path}: no such file")
    second = read_jsonl_records(path)
    if not second:
        raise SystemExit(f"{path} holds no labelled lines")
    corpus = {str(r["id"]): r for r in load_labelled(TRAINING_DATA)}
    for label, figures in agreement(second, corpus).items():
        worst = ", ".join(f"{a} / {b} {n}" for (a, b), n in figures["disagreements"])
        print(
            f"{label:<9} n {figures['n']}  agreement {figures['agreement']:.3f}  kappa {figures['kappa']:.3f}"
            f"  (corpus / second: {worst})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
