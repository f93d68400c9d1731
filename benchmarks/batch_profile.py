"""Where the time of `webcare score` goes: a pyinstrument profile of `score_file` on sampled messages.

Prints the call tree (CPU and wall time) and the share of the batch layer (reading, validation, JSON
output, counts) against the engine. Usage: python -m benchmarks.batch_profile [--n 3000] [--html out.html]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.batch_throughput import make_archive
from webcare_nlp.batch import ScoreSettings, score_file
from webcare_nlp.batch.chunks import analyse, cached_engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--html", type=Path, default=None)
    parser.add_argument("--model", default=None, help="model folder (default: models/CURRENT)")
    args = parser.parse_args()
    from pyinstrument import Profiler

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "archive.jsonl"
        make_archive(source, args.n, args.seed)
        settings = ScoreSettings(model=args.model, suggest=True)
        engine = cached_engine(settings)
        analyse(engine, [{"id": "w", "text": "Waar blijft mijn pakket?"}], settings)  # build lazy parts first
        profiler = Profiler(interval=0.001)
        cpu = time.process_time()
        profiler.start()
        summary = score_file(str(source), str(Path(folder) / "out.jsonl"), engine=engine, settings=settings)
        profiler.stop()
        cpu = time.process_time() - cpu
    ranked = "with" if engine.rankers is not None else "without (the model has no ranker)"
    print(f"suggestions: {ranked}")
    print(f"{summary.lines:,} messages: {summary.seconds:.2f} s wall, {cpu:.2f} s CPU of this process")
    print(f"{summary.lines / cpu:,.0f} messages per CPU-second; {summary.rate:,.0f} messages/s wall\n")
    print(profiler.output_text(unicode=False, color=False, show_all=False))
    if args.html:
        args.html.write_text(profiler.output_html(), encoding="utf-8")


if __name__ == "__main__":
    main()
