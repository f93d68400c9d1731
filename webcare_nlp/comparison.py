"""Two models side by side on one labelled file: F1 per label, calibration and hit@k, with bootstrap CIs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from webcare_nlp.engine import Engine
from webcare_nlp.evaluation import (
    GOLD_LISTS,
    check_records,
    expected_calibration_error,
    gold_intents,
    has_gold_lists,
    label_classes,
    predict,
    with_gold_lists,
)

COMPARED_LABELS = ("intent", "sentiment", "reactive")
# metric name -> function(bootstrap samples of row indices, model key "a" or "b") -> one value per sample
Metrics = dict[str, Callable[[np.ndarray, str], np.ndarray]]


@dataclass(frozen=True)
class Row:
    """One metric for model A and B, B minus A, and the paired bootstrap 95% interval of that difference."""

    metric: str
    a: float
    b: float
    difference: float
    low: float
    high: float


@dataclass
class Comparison:
    a: str
    b: str
    source: str
    n: int
    bootstrap: int
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rows": [asdict(row) for row in self.rows]}


def _confusions(gold: np.ndarray, predicted: np.ndarray, k: int, samples: np.ndarray) -> np.ndarray:
    """Confusion matrices (samples x k x k) of the resampled rows, in one bincount per sample."""
    codes = gold[samples] * k + predicted[samples]
    return np.stack([np.bincount(row, minlength=k * k).reshape(k, k) for row in codes])


def _f1(confusions: np.ndarray) -> np.ndarray:
    """Per-class F1 (samples x k) from confusion matrices; 0 where a class is neither true nor predicted."""
    tp = np.diagonal(confusions, axis1=1, axis2=2).astype(float)
    denominator = confusions.sum(axis=2) + confusions.sum(axis=1)
    return np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)


def _label_metrics(
    label: str, records: list[dict[str, Any]], outputs: dict[str, list[dict[str, Any]]], classes: list[str]
) -> tuple[int, Metrics]:
    """The number of messages with this label, and its metrics."""
    keep = np.asarray([i for i, r in enumerate(records) if r.get(label) is not None])
    index = {c: i for i, c in enumerate(classes)}
    gold = np.asarray([index[str(records[i][label])] for i in keep])
    predicted, confidence = {}, {}
    for key, results in outputs.items():
        if label == "reactive":
            p = np.asarray([results[i]["reactive_probability"] for i in keep])
            predicted[key] = np.asarray([index[str(v)] for v in p >= 0.5])
            confidence[key] = np.maximum(p, 1 - p)
        else:
            predicted[key] = np.asarray([index[str(results[i][label])] for i in keep])
            confidence[key] = np.asarray([max(results[i][f"{label}_scores"].values()) for i in keep])
    present = sorted(set(gold.tolist()))
    k = len(classes)

    def f1(samples: np.ndarray, key: str) -> np.ndarray:
        return _f1(_confusions(gold, predicted[key], k, samples))

    def ece(samples: np.ndarray, key: str) -> np.ndarray:
        correct = (gold == predicted[key]).astype(float)
        return np.asarray([expected_calibration_error(confidence[key][row], correct[row]) for row in samples])

    # As `evaluate` averages (scikit-learn's default): the gold classes and those the model predicted.
    averaged = {key: sorted(set(present) | set(predicted[key].tolist())) for key in outputs}
    metrics: Metrics = {
        f"{label} macro-F1": lambda s, key: f1(s, key)[:, averaged[key]].mean(axis=1),
        f"{label} accuracy": lambda s, key: (gold[s] == predicted[key][s]).mean(axis=1),
        f"{label} ECE": ece,
    }
    for c in present:
        metrics[f"{label} F1 {classes[c]}"] = functools.partial(_column, f1, c)
    return len(keep), metrics


def _column(metric: Callable[[np.ndarray, str], np.ndarray], column: int, samples: np.ndarray, key: str) -> np.ndarray:
    return metric(samples, key)[:, column]


def _mean_of(values: dict[str, np.ndarray], samples: np.ndarray, key: str) -> np.ndarray:
    return values[key][samples].mean(axis=1)


def _ranking_metrics(
    records: list[dict[str, Any]], outputs: dict[str, list[dict[str, Any]]], top_k: int
) -> list[tuple[int, Metrics]]:
    groups: list[tuple[int, Metrics]] = []
    for kind, gold_key in GOLD_LISTS.items():
        keep = [i for i, r in enumerate(records) if r.get(gold_key)]
        if not keep:
            continue
        hits = {}
        for key, results in outputs.items():
            ranked = [[s["id"] for s in results[i].get("suggestions", []) if s.get("kind") == kind] for i in keep]
            hits[key] = np.asarray(
                [
                    bool(set(r[:top_k]) & {str(g) for g in records[i][gold_key]})
                    for r, i in zip(ranked, keep, strict=True)
                ],
                dtype=float,
            )
        groups.append((len(keep), {f"{kind} hit@{top_k}": functools.partial(_mean_of, hits)}))
    return groups


def compare(
    engine_a: Engine,
    engine_b: Engine,
    records: list[dict[str, Any]],
    *,
    names: tuple[str, str] = ("A", "B"),
    source: str = "",
    bootstrap: int = 1000,
    seed: int = 13,
    top_k: int = 3,
) -> Comparison:
    """Score both engines on the same messages; intervals come from a paired, seeded bootstrap over messages.

    A difference whose interval excludes 0 is unlikely to be resampling noise on this file.
    """
    intents = tuple(dict.fromkeys(gold_intents(engine_a) + gold_intents(engine_b)))
    gold_fields = (*COMPARED_LABELS, *GOLD_LISTS.values())
    records = with_gold_lists(records)
    messages = check_records(records, source=source, intents=intents, gold_fields=gold_fields)
    outputs, notes = {}, []
    for key, engine, name in (("a", engine_a, names[0]), ("b", engine_b, names[1])):
        outputs[key], note = predict(engine, records, messages, top_k=top_k)
        if note and has_gold_lists(records):
            notes.append(f"{name}: suggestions not scored: {note}")
    if not has_gold_lists(records):
        notes.append("suggestions not scored: the file has no gold_templates or gold_articles")
    comparison = Comparison(a=names[0], b=names[1], source=source, n=len(records), bootstrap=bootstrap, notes=notes)
    rng = np.random.default_rng(seed)
    groups: list[tuple[int, Metrics]] = []
    for label in COMPARED_LABELS:
        gold = [r.get(label) for r in records if r.get(label) is not None]
        if gold:
            classes = label_classes(engine_a, label, gold)
            classes += [c for c in label_classes(engine_b, label, gold) if c not in classes]
            groups.append(_label_metrics(label, records, outputs, classes))
    if not notes:  # both models ranked against the gold lists
        groups += _ranking_metrics(records, outputs, top_k)
    for n, metrics in groups:
        whole = np.arange(n)[None, :]
        samples = rng.integers(0, n, size=(bootstrap, n))
        for name, metric in metrics.items():
            a, b = float(metric(whole, "a")[0]), float(metric(whole, "b")[0])
            low, high = np.percentile(metric(samples, "b") - metric(samples, "a"), [2.5, 97.5])
            comparison.rows.append(Row(name, round(a, 4), round(b, 4), round(b - a, 4), round(low, 4), round(high, 4)))
    if not comparison.rows:
        comparison.notes.append("the file has no intent, sentiment or reactive labels to compare")
    return comparison


def render_comparison(comparison: Comparison) -> str:
    """The side-by-side table `webcare models compare` prints."""
    width = max([len(row.metric) for row in comparison.rows] + [20])
    lines = [
        f"A = {comparison.a}",
        f"B = {comparison.b}",
        f"{comparison.n} messages from {comparison.source}; 95% CI of B - A from {comparison.bootstrap} paired "
        "bootstrap resamples",
        "",
        f"{'metric':<{width}}  {'A':>7}  {'B':>7}  {'B - A':>7}  95% CI",
    ]
    for row in comparison.rows:
        figures = f"{row.a:7.3f}  {row.b:7.3f}  {row.difference:+7.3f}"
        lines.append(f"{row.metric:<{width}}  {figures}  [{row.low:+.3f}, {row.high:+.3f}]")
    lines += [f"note: {note}" for note in comparison.notes]
    return "\n".join(lines)
