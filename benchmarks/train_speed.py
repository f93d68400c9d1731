"""Time of training on the corpus, phase by phase (text, cross-validation, calibrated fit), wall and CPU.

The baseline in the same run is the text layer alone (masking, language, spaCy) on the same messages,
which every training needs; `--serial` also times cross-validation on one thread, to show what the
thread pool gains. Ranker fitting (suggestions) is left out: it has its own benchmark.
Usage: python -m benchmarks.train_speed [--data training_data] [--serial]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

from webcare_nlp.dataset import TRAINING_DATA, load_labelled
from webcare_nlp.text.pipeline import TextPipeline
from webcare_nlp.training import TrainingConfig, cross_validate, fit_engine, make_observations


class Clock:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        lap = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return lap


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=TRAINING_DATA)
    parser.add_argument("--serial", action="store_true", help="Also cross-validate on one thread.")
    args = parser.parse_args()
    fields = {f.name for f in dataclasses.fields(TrainingConfig)}
    config = TrainingConfig(**({"rank_folds": 0} if "rank_folds" in fields else {}))
    records = load_labelled(args.data)
    rows = []
    clock = Clock()
    text_pipeline = TextPipeline()
    processed = text_pipeline.process_many([r["text"] for r in records])
    rows.append(("text layer (the baseline)", *clock.lap()))
    observations = make_observations(processed, records, np.random.default_rng(config.seed), config.metadata_dropout)
    reports = cross_validate(observations, records, config)
    rows.append((f"cross-validation, {config.n_jobs} threads", *clock.lap()))
    fit_engine(processed, records, reports, config, text_pipeline)
    rows.append(("calibrated fit of the four label models", *clock.lap()))
    total_wall, total_cpu = sum(r[1] for r in rows), sum(r[2] for r in rows)
    if args.serial:
        cross_validate(observations, records, dataclasses.replace(config, n_jobs=1))
        rows.append(("cross-validation, 1 thread (for comparison)", *clock.lap()))
    print(f"{len(records)} messages from {args.data}")
    print("| phase | wall s | CPU s |")
    print("|---|---:|---:|")
    for name, wall, cpu in rows:
        print(f"| {name} | {wall:.1f} | {cpu:.1f} |")
    print(f"| training (text + CV + fit) | {total_wall:.1f} | {total_cpu:.1f} |")
    print(f"| ratio to the text layer | {total_wall / rows[0][1]:.1f}x | {total_cpu / rows[0][2]:.1f}x |")
    for task, report in reports.items():
        family = report.families[report.chosen]
        print(f"{task}: {report.chosen} {report.chosen_params} CV macro-F1 {family['macro_f1']:.4f}")


if __name__ == "__main__":
    main()
