"""Does a corpus supplement help the rest of the corpus? Same-fold cross-validation on training data only.

The messages outside the supplement are split into stratified folds (by intent); every fold's model is
trained once without and once with the whole supplement added to its training rows, and both are scored
on the same held-out rows, which never include the supplement. The NB-scaled SVM (the shipped family for
sentiment, reactive and platform) at fixed C values, so that only the data differs. This is how the corpus
supplements are adopted: on training data, never on the evaluation sets.

Usage: python -m benchmarks.supplement_contrast --prefix dining_ [more prefixes] [--seeds 13 14] [--folds 5]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from webcare_nlp.classify.models import model_families
from webcare_nlp.dataset import TRAINING_DATA, load_labelled
from webcare_nlp.text.pipeline import TextPipeline
from webcare_nlp.training import TrainingConfig, make_observations, targets


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--prefix", required=True, nargs="+", help="file names of the supplement start with this (or one of these)"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[13, 14])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--sentiment-c", type=float, nargs="+", default=[0.3, 1.0])
    parser.add_argument("--intent-c", type=float, nargs="+", default=[1.0])
    args = parser.parse_args()

    config = TrainingConfig()
    records = load_labelled(TRAINING_DATA)
    inside = np.array([r["_source"].startswith(tuple(args.prefix)) for r in records])
    if not inside.any():
        raise SystemExit(f"no message file under {TRAINING_DATA} starts with {args.prefix!r}")
    rest, supplement = np.flatnonzero(~inside), np.flatnonzero(inside)
    print(f"{len(supplement)} supplement messages, {len(rest)} others; folds {args.folds}, seeds {args.seeds}")
    started = time.perf_counter()
    processed = TextPipeline().process_many([r["text"] for r in records])
    observations = make_observations(processed, records, np.random.default_rng(config.seed), config.metadata_dropout)
    nb_svc = model_families(config.seed)["nb_svc"].estimator
    grid = {"sentiment": args.sentiment_c, "intent": args.intent_c}
    labels = {task: targets(records, task) for task in grid}

    def score(task: str, C: float, train: np.ndarray, held_out: np.ndarray, x_train, x_held_out) -> float:
        model = clone(nb_svc).set_params(C=C).fit(x_train, labels[task][train])
        return float(f1_score(labels[task][held_out], model.predict(x_held_out), average="macro"))

    jobs = []
    with ThreadPoolExecutor(max_workers=config.n_jobs) as pool:
        for seed in args.seeds:
            folds = StratifiedKFold(args.folds, shuffle=True, random_state=seed)
            for train_part, held_part in folds.split(np.zeros(len(rest)), labels["intent"][rest]):
                held_out = rest[held_part]
                for added in (False, True):
                    train = np.concatenate([rest[train_part], supplement]) if added else rest[train_part]
                    vectorizer = config.vectorizer().fit([observations[i] for i in train])
                    x_train = vectorizer.transform([observations[i] for i in train])
                    x_held_out = vectorizer.transform([observations[i] for i in held_out])
                    for task, values in grid.items():
                        for C in values:
                            future = pool.submit(score, task, C, train, held_out, x_train, x_held_out)
                            jobs.append(((task, C, added), future))
        results: dict[tuple[str, float, bool], list[float]] = {}
        for key, future in jobs:
            results.setdefault(key, []).append(future.result())
    print(f"macro-F1 on the held-out other messages, mean over {len(args.seeds) * args.folds} folds:")
    for task, values in grid.items():
        for C in values:
            without, added = results[task, C, False], results[task, C, True]
            print(
                f"  {task:<9} C {C:<4} without {np.mean(without):.4f} (sd {np.std(without):.4f})  "
                f"with {np.mean(added):.4f} (sd {np.std(added):.4f})"
            )
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
