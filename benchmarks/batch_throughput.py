"""Throughput of `webcare score` on an archive sampled with replacement from the corpus, in one run.

Figures: the floor (JSONL read + spaCy tokenisation), `webcare score` (full analysis, top-3 suggestions)
with 1 and 2 worker processes and on a Dask LocalCluster of 2 workers, the spaCy textcat peer (three
textcat models), and the peak memory of each run (the whole process tree). The peer is timed twice: its
three models alone over texts in memory, and as a job like `webcare score`'s (a process that starts, loads
the three models from disk, reads the JSONL archive, labels every message and writes a JSON line each).
Usage: python -m benchmarks.batch_throughput [--n 100000] [--memory-n 10000] [--no-peer] [--no-dask]
       python -m benchmarks.batch_throughput --only-memory --n 1000000
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from webcare_nlp.dataset import TRAINING_DATA
from webcare_nlp.text.pipeline import build_nlp

KEPT = ("text", "channel", "company", "author", "created_at")


def make_archive(path: Path, n: int, seed: int) -> None:
    corpus = [
        json.loads(line)
        for file in sorted((TRAINING_DATA / "messages").glob("*.jsonl"))
        for line in file.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for i, record in enumerate(rng.choices(corpus, k=n)):
            message = {"id": f"m{i}", **{k: record[k] for k in KEPT if record.get(k) is not None}}
            handle.write(json.dumps(message, ensure_ascii=False) + "\n")


def floor(path: Path, *, plain: bool = False) -> float:
    """JSONL read + spaCy tokenisation alone, one process: what no scorer can beat.

    With `plain`, spaCy's own blank Dutch tokenizer (its default cache of 10,000 chunks) instead of the
    engine's: the floor of earlier runs, before the engine's tokenizer remembered more.
    """
    import spacy

    tokenizer = spacy.blank("nl").tokenizer if plain else build_nlp("nl").tokenizer
    started = time.perf_counter()
    n = 0
    with path.open("rb") as handle:
        for raw in handle:
            tokenizer(json.loads(raw)["text"])
            n += 1
    return n / (time.perf_counter() - started)


def run_score(source: Path, output: Path, *args: str) -> tuple[float, float, dict]:
    """Wall seconds, peak memory (MiB, sum over the process tree) and the summary of one `webcare score`."""
    import psutil

    command = [sys.executable, "-c", "from webcare_nlp.cli import app; app()", "score", str(source), "-o", str(output)]
    command += ["--overwrite", "--no-progress", "--summary-json", *args]
    started = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    root, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    stderr = process.stderr.read() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"webcare score failed:\n{stderr}")
    summary = json.loads([line for line in stderr.splitlines() if line.startswith("{")][-1])
    with output.open(encoding="utf-8") as handle:
        head = [json.loads(line) for _, line in zip(range(2000), handle, strict=False)]
    summary["with_suggestions"] = sum(bool(r.get("suggestions")) for r in head) / max(1, len(head))
    return seconds, peak / 2**20, summary


def peer_rate(path: Path, n: int, epochs: int, saved: Path) -> float:
    """Three spaCy textcat models (intent, sentiment, reactive) over the same texts in memory, one process.

    The trained models are saved under `saved`, one folder per label, for `peer_job`."""
    from benchmarks.textcat_peer import TASKS, train_textcat
    from webcare_nlp.dataset import load_labelled

    corpus = load_labelled(TRAINING_DATA)
    peers = [train_textcat(corpus, task, epochs, 13) for task in TASKS]
    for task, nlp in zip(TASKS, peers, strict=True):
        (saved / task).mkdir(parents=True)
        nlp.to_disk(saved / task)
    with path.open("rb") as handle:
        texts = [json.loads(raw)["text"] for _, raw in zip(range(n), handle, strict=False)]
    started = time.perf_counter()
    for nlp in peers:
        for _ in nlp.pipe(texts, batch_size=256):
            pass
    return len(texts) / (time.perf_counter() - started)


def peer_job(saved: Path, source: Path, output: Path, chunk_size: int) -> None:
    """The peer as a scoring job, in this process: load its three models, then read, label and write in chunks."""
    import spacy

    models = {folder.name: spacy.load(folder) for folder in sorted(saved.iterdir())}
    with source.open("rb") as lines, output.open("w", encoding="utf-8") as out:
        while chunk := [json.loads(raw) for _, raw in zip(range(chunk_size), lines, strict=False)]:
            texts = [record["text"] for record in chunk]
            labels = {
                task: [max(doc.cats, key=doc.cats.__getitem__) for doc in nlp.pipe(texts, batch_size=256)]
                for task, nlp in models.items()
            }
            for i, record in enumerate(chunk):
                result = {"id": record.get("id"), **{task: labels[task][i] for task in models}}
                out.write(json.dumps(result, ensure_ascii=False) + "\n")


def peer_job_rate(saved: Path, source: Path, output: Path, n: int, chunk_size: int) -> float:
    """Messages per wall second of `peer_job` in a process of its own, start-up included, as `run_score`."""
    command = [sys.executable, "-m", "benchmarks.batch_throughput", "--peer-job", str(saved), str(source), str(output)]
    started = time.perf_counter()
    subprocess.run([*command, "--chunk-size", str(chunk_size)], check=True)
    seconds = time.perf_counter() - started
    with output.open("rb") as handle:
        assert sum(1 for _ in handle) == n
    return n / seconds


def memory_only(n: int, seed: int, chunk_size: int) -> None:
    """Peak memory and rate of `webcare score --workers 2` alone, for a run too long to repeat (1M)."""
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "archive.jsonl"
        make_archive(archive, n, seed)
        seconds, peak, summary = run_score(
            archive, Path(folder) / "out.jsonl", "--workers", "2", "--chunk-size", str(chunk_size)
        )
    assert summary["lines"] == n == summary["scored"] + summary["rejected"]
    print(f"webcare score --workers 2 on {n:,} messages: {n / seconds:,.0f} msgs/s wall, peak memory {peak:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--memory-n", type=int, default=10_000, help="a smaller run to show memory is flat")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--peer-n", type=int, default=20_000)
    parser.add_argument("--peer-epochs", type=int, default=3)
    parser.add_argument("--only-memory", action="store_true", help="only `score --workers 2` on --n messages")
    parser.add_argument("--peer-job", nargs=3, type=Path, metavar=("MODELS", "IN", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_job:
        peer_job(*args.peer_job, chunk_size=args.chunk_size)
        return
    if args.only_memory:
        memory_only(args.n, args.seed, args.chunk_size)
        return

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        archive, small = work / "archive.jsonl", work / "small.jsonl"
        make_archive(archive, args.n, args.seed)
        make_archive(small, args.memory_n, args.seed)
        chunk = ["--chunk-size", str(args.chunk_size)]
        rows: list[tuple[str, float, float | None, float | None]] = []
        base = floor(archive)
        rows.append(("floor: JSONL read + spaCy tokenizer, 1 process", base, None, None))
        plain = floor(archive, plain=True)
        rows.append(("floor with spacy.blank('nl')'s tokenizer and default cache", plain, None, None))
        if not args.no_peer:
            saved = work / "peer"
            rows.append(
                (
                    "spaCy textcat peer (3 models), 1 process",
                    peer_rate(archive, args.peer_n, args.peer_epochs, saved),
                    None,
                    None,
                )
            )
            rows.append(
                (
                    "spaCy textcat peer as a job (start, load, read, label, write), 1 process",
                    peer_job_rate(saved, archive, work / "peer_out.jsonl", args.n, args.chunk_size),
                    None,
                    None,
                )
            )
        runs = [("webcare score, 1 worker", ["--workers", "1"]), ("webcare score, 2 workers", ["--workers", "2"])]
        # The peer's work alone: the three labels, no suggestions (still reading and writing JSON, with start-up).
        runs.append(
            ("webcare score --top-k 0 (labels only, as the peer), 2 workers", ["--workers", "2", "--top-k", "0"])
        )
        if not args.no_dask:
            runs.append(("webcare score --engine dask, LocalCluster 2 workers", ["--engine", "dask", "--workers", "2"]))
        local_seconds, suggested = None, 0.0
        for label, extra in runs:
            seconds, peak, summary = run_score(archive, work / "out.jsonl", *extra, *chunk)
            assert summary["lines"] == args.n == summary["scored"] + summary["rejected"]
            rows.append((label, args.n / seconds, peak, summary["messages_per_second"]))
            if label == "webcare score, 2 workers":
                local_seconds, suggested = seconds, summary["with_suggestions"]
            if "dask" in label and local_seconds:
                rows.append(
                    ("  Dask overhead against local 2 workers (wall time)", seconds / local_seconds, None, None)
                )
        _, small_peak, _ = run_score(small, work / "small_out.jsonl", "--workers", "2", *chunk)

    print(f"{args.n:,} messages sampled with replacement from training_data/messages (seed {args.seed})\n")
    print("| run | msgs/s (wall, with start-up) | peak memory MiB | msgs/s in the summary | ratio to floor |")
    print("|---|---:|---:|---:|---:|")
    for label, rate, peak, inner in rows:
        if label.strip().startswith("Dask overhead"):
            print(f"| {label} | {rate:.2f}x | | | |")
            continue
        print(
            f"| {label} | {rate:,.0f} | {'' if peak is None else f'{peak:,.0f}'} | "
            f"{'' if inner is None else f'{inner:,.0f}'} | {rate / base:.3f} |"
        )
    two_workers = next(rate for label, rate, _, _ in rows if label == "webcare score, 2 workers")
    print(f"\nratio of 2 workers to the floor with spaCy's default tokenizer: {two_workers / plain:.3f}")
    print(f"peak memory of `webcare score --workers 2` on {args.memory_n:,} messages: {small_peak:,.0f} MiB")
    print(f"share of the first 2,000 scored messages with suggestions: {suggested:.0%}")


if __name__ == "__main__":
    main()
