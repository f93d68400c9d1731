"""The shipped engine on the real public data sets in ../shared/data/real/ (evaluation only).

- SemEval-2016 Dutch restaurant sentences: accuracy on the positive and negative sentences, both as
  the three-way prediction and as the positive-versus-negative decision (the higher of the two scores).
- Dutch political tweets: three-way sentiment accuracy and macro-F1 (off-domain).
- English complaint tweets: how often a complaint (is_complaint) is labelled complaint or request.
Usage: python -m benchmarks.real_data
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

from benchmarks._common import REAL, read_jsonl, require
from webcare_nlp import schema
from webcare_nlp.engine import Engine


def analyse(engine: Engine, records: list[dict]) -> list[dict]:
    # The sets' own channel and platform are passed as an inbox would give them.
    fields = ("text", "channel", "platform")
    messages = [
        schema.check_message({k: r[k] for k in fields if k in r}, default_id=str(i)) for i, r in enumerate(records)
    ]
    return engine.analyze_many(messages)


def main() -> None:
    engine = Engine.load()
    path = REAL / "semeval16-nl-sentiment.jsonl"
    if require(path):
        records = [r for r in read_jsonl(path) if r["sentiment"] in {"positive", "negative"}]
        results = analyse(engine, records)
        three_way = np.mean([o["sentiment"] == r["sentiment"] for o, r in zip(results, records, strict=True)])
        decided = np.asarray(
            [
                "positive" if o["sentiment_scores"]["positive"] >= o["sentiment_scores"]["negative"] else "negative"
                for o in results
            ]
        )
        gold = np.asarray([r["sentiment"] for r in records])
        binary = np.mean(decided == gold)
        # Recall per class shows whether the errors lean one way (a prior learned from webcare inboxes).
        recall = {label: np.mean(decided[gold == label] == label) for label in ("positive", "negative")}
        print(f"SemEval-16 NL ({len(records)} positive/negative sentences):")
        print(f"  accuracy, three-way prediction        {three_way:.3f}")
        print(f"  accuracy, positive-vs-negative decision {binary:.3f}")
        counts = {label: int(np.sum(gold == label)) for label in recall}
        print(
            "  recall of that decision: "
            + ", ".join(f"{label} {recall[label]:.3f} (of {counts[label]})" for label in recall)
        )
    path = REAL / "dutch-political-tweets-sentiment.jsonl"
    if require(path):
        records = read_jsonl(path)
        results = analyse(engine, records)
        truth = [r["sentiment"] for r in records]
        predicted = [o["sentiment"] for o in results]
        accuracy = np.mean([t == p for t, p in zip(truth, predicted, strict=True)])
        print(
            f"Dutch political tweets ({len(records)}): accuracy {accuracy:.3f}, "
            f"macro-F1 {f1_score(truth, predicted, average='macro'):.3f}"
        )
    path = REAL / "complaints-twitter-en.jsonl"
    if require(path):
        records = read_jsonl(path)
        results = analyse(engine, records)
        truth = np.asarray([r["is_complaint"] for r in records])
        flagged = np.asarray([o["intent"] in {"complaint", "request"} for o in results])
        print(
            f"English complaint tweets ({len(records)}): complaint-or-request recall on complaints "
            f"{flagged[truth].mean():.3f}, on non-complaints {flagged[~truth].mean():.3f}, "
            f"macro-F1 {f1_score(truth, flagged, average='macro'):.3f}"
        )


if __name__ == "__main__":
    main()
