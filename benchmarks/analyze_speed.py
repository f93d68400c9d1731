"""Speed of `analyze`: messages per second on 10,000 messages, and single-message latency in process.

The baseline in the same run is the floor: spaCy's blank tokenizer alone on the same texts. Rates are
given per wall-clock second and per CPU second of this process (steadier on a shared machine).
Usage: python -m benchmarks.analyze_speed [--n 10000] [--single 1000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from webcare_nlp import schema
from webcare_nlp.dataset import TRAINING_DATA, load_labelled
from webcare_nlp.engine import Engine
from webcare_nlp.text.pipeline import build_nlp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--single", type=int, default=1_000)
    parser.add_argument("--chunk", type=int, default=1_000)
    args = parser.parse_args()
    rng = random.Random(7)
    corpus = load_labelled(TRAINING_DATA)
    sample = [r["text"] for r in rng.choices(corpus, k=args.n)]
    messages = [schema.check_message({"text": t}, default_id=str(i)) for i, t in enumerate(sample)]
    engine = Engine.load()
    engine.analyze_many(messages[:100])  # build spaCy and lingua once, outside the timing

    tokenizer = build_nlp("nl").tokenizer
    started, started_cpu = time.perf_counter(), time.process_time()
    for text in sample:
        tokenizer(text)
    floor = args.n / (time.perf_counter() - started)
    floor_cpu = args.n / (time.process_time() - started_cpu)

    started, started_cpu = time.perf_counter(), time.process_time()
    for i in range(0, args.n, args.chunk):
        engine.analyze_many(messages[i : i + args.chunk])
    batch = args.n / (time.perf_counter() - started)
    batch_cpu = args.n / (time.process_time() - started_cpu)

    latencies = []
    for text in sample[: args.single]:
        started = time.perf_counter()
        engine.analyze(text)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    mean_chars = sum(map(len, sample)) / len(sample)
    print(f"{args.n} messages sampled with replacement from the corpus (mean {mean_chars:.0f} characters)")
    print("| figure | per wall second | per CPU second |")
    print("|---|---:|---:|")
    print(f"| floor: spaCy tokenizer alone, msgs/s | {floor:,.0f} | {floor_cpu:,.0f} |")
    print(f"| analyze_many (chunks of {args.chunk}), msgs/s | {batch:,.0f} | {batch_cpu:,.0f} |")
    print(f"| ratio to the floor | {batch / floor:.2f} | {batch_cpu / floor_cpu:.2f} |")
    print(f"| single-message analyze latency p50 | {p50:.2f} ms | |")
    print(f"| single-message analyze latency p99 | {p99:.2f} ms | |")


if __name__ == "__main__":
    main()
