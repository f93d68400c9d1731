"""The peer a user would pick instead: spaCy's own textcat (bag-of-words), trained on the same corpus.

Measures, in one run, webcare-nlp's shipped engine and three spaCy textcat models (intent, sentiment,
reactive) on the dev set: macro-F1, reply_expected accuracy, and throughput on the same messages.
Usage: python benchmarks/textcat_peer.py [--epochs 12]
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
import spacy
from sklearn.metrics import f1_score
from spacy.training import Example
from spacy.util import minibatch

from benchmarks._common import DEVSET, read_jsonl, require
from webcare_nlp import schema
from webcare_nlp.dataset import TRAINING_DATA, load_labelled
from webcare_nlp.engine import Engine

TASKS = {"intent": schema.INTENTS, "sentiment": schema.SENTIMENTS, "reactive": ("false", "true")}


def gold(record: dict, task: str) -> str:
    value = record[task]
    return str(value).lower() if isinstance(value, bool) else value


def train_textcat(records: list[dict], task: str, epochs: int, seed: int) -> spacy.language.Language:
    spacy.util.fix_random_seed(seed)
    nlp = spacy.blank("nl")
    textcat = nlp.add_pipe(
        "textcat",
        config={
            "model": {
                "@architectures": "spacy.TextCatBOW.v3",
                "exclusive_classes": True,
                "ngram_size": 2,
                "no_output_layer": False,
            }
        },
    )
    for label in TASKS[task]:
        textcat.add_label(label)
    examples = [
        Example.from_dict(
            nlp.make_doc(r["text"]), {"cats": {label: float(gold(r, task) == label) for label in TASKS[task]}}
        )
        for r in records
    ]
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(examples)
        for batch in minibatch(examples, size=32):
            nlp.update(batch, sgd=optimizer, drop=0.2)
    return nlp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    if not require(DEVSET):
        return
    corpus = load_labelled(TRAINING_DATA)
    dev = read_jsonl(DEVSET)
    texts = [r["text"] for r in dev]

    started = time.perf_counter()
    peers = {task: train_textcat(corpus, task, args.epochs, args.seed) for task in TASKS}
    peer_train = time.perf_counter() - started

    engine = Engine.load()
    messages = [
        schema.check_message(
            {"text": r["text"], "channel": r.get("channel"), "platform": r.get("platform")}, default_id=r["id"]
        )
        for r in dev
    ]
    # Both warmed up on the same messages first: lingua's models and the English pipeline are built on
    # first use, and a one-off cost is not throughput.
    engine.analyze_many(messages)
    for nlp in peers.values():
        list(nlp.pipe(texts[:50]))
    started = time.perf_counter()
    ours = engine.analyze_many(messages)
    ours_seconds = time.perf_counter() - started

    started = time.perf_counter()
    peer_pred = {}
    for task, nlp in peers.items():
        peer_pred[task] = [max(doc.cats, key=doc.cats.get) for doc in nlp.pipe(texts, batch_size=256)]
    peer_seconds = time.perf_counter() - started

    print(f"dev set: {len(dev)} messages; spaCy textcat peer trained {args.epochs} epochs in {peer_train:.1f} s\n")
    print("| figure | webcare-nlp | spaCy textcat (bow) |")
    print("|---|---:|---:|")
    for task in TASKS:
        truth = [gold(r, task) for r in dev]
        mine = [str(o[task]).lower() if task == "reactive" else o[task] for o in ours]
        ours_f1 = f1_score(truth, mine, average="macro")
        peer_f1 = f1_score(truth, peer_pred[task], average="macro")
        print(f"| {task} macro-F1 | {ours_f1:.3f} | {peer_f1:.3f} |")
    truth = [r["reply_expected"] for r in dev]
    mine = np.mean([o["reply_expected"] == t for o, t in zip(ours, truth, strict=True)])
    peer_reply = [
        schema.reply_rule(intent=i, reactive=re == "true", platform=r["platform"])
        for i, re, r in zip(peer_pred["intent"], peer_pred["reactive"], dev, strict=True)
    ]
    peer = np.mean([p == t for p, t in zip(peer_reply, truth, strict=True)])
    print(f"| reply_expected accuracy (platform given) | {mine:.3f} | {peer:.3f} |")
    print(f"| messages/s (all labels, one process) | {len(dev) / ours_seconds:,.0f} | {len(dev) / peer_seconds:,.0f} |")


if __name__ == "__main__":
    main()
