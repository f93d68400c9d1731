"""Scoring an engine on a labelled file: per-class metrics, confusion matrices, calibration."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from webcare_nlp import schema
from webcare_nlp.engine import Engine
from webcare_nlp.errors import InputError
from webcare_nlp.model_card import plot_confusion, report_table

SCORED_LABELS = {"intent": schema.INTENTS, "sentiment": schema.SENTIMENTS, "reactive": (False, True)}


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(confidence[mask].mean() - correct[mask].mean())
    return float(total)


@dataclass
class LabelScore:
    label: str
    n: int
    accuracy: float
    macro_f1: float
    ece: float
    table: str
    confusion: list[list[int]]
    classes: list[str]

    def summary(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "ece": round(self.ece, 4),
        }


@dataclass
class Evaluation:
    """The figures of one engine on one labelled file."""

    source: str
    n: int
    labels: dict[str, LabelScore] = field(default_factory=dict)
    reply: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "n": self.n,
            **{name: score.summary() for name, score in self.labels.items()},
            "reply_expected": {k: round(v, 4) for k, v in self.reply.items()},
        }


def _score(label: str, gold: list[Any], results: list[dict[str, Any]]) -> LabelScore:
    if label == "reactive":
        predicted = [r["reactive"] for r in results]
        confidence = np.asarray([max(r["reactive_probability"], 1 - r["reactive_probability"]) for r in results])
    else:
        predicted = [r[label] for r in results]
        confidence = np.asarray([max(r[f"{label}_scores"].values()) for r in results])
    classes = [str(c) for c in SCORED_LABELS[label]]
    gold_s, pred_s = [str(g) for g in gold], [str(p) for p in predicted]
    present = [c for c in classes if c in set(gold_s)]
    correct = np.asarray([g == p for g, p in zip(gold_s, pred_s, strict=True)], dtype=float)
    return LabelScore(
        label=label,
        n=len(gold),
        accuracy=float(accuracy_score(gold_s, pred_s)),
        macro_f1=float(f1_score(gold_s, pred_s, labels=present, average="macro", zero_division=0)),
        ece=expected_calibration_error(confidence, correct),
        table=report_table(gold_s, pred_s, present),
        confusion=confusion_matrix(gold_s, pred_s, labels=classes).tolist(),
        classes=classes,
    )


def evaluate(engine: Engine, records: list[dict[str, Any]], *, source: str = "") -> Evaluation:
    """Score every label the records carry; reply_expected with the platform given and withheld."""
    if not records:
        raise InputError(f"{source or 'The file'} has no labelled messages to evaluate.")
    fields = ("text", "channel", "platform", "lang", "company", "id")
    messages = []
    for i, record in enumerate(records, start=1):
        line = record.get("_line", i)
        try:
            messages.append(schema.check_message({k: record[k] for k in fields if k in record}, default_id=str(line)))
        except InputError as exc:
            raise InputError(f"{source or 'line'}:{line}: {exc}") from exc
    for message in messages:
        message["lang"] = None  # the engine detects the language, as it must in production
    results = engine.analyze_many(messages)
    evaluation = Evaluation(source=source, n=len(records))
    for label in SCORED_LABELS:
        gold = [r.get(label) for r in records]
        keep = [i for i, g in enumerate(gold) if g is not None]
        if keep:
            evaluation.labels[label] = _score(label, [gold[i] for i in keep], [results[i] for i in keep])
    gold_reply = [r.get("reply_expected") for r in records]
    keep = [i for i, g in enumerate(gold_reply) if g is not None]
    if keep:
        evaluation.reply["accuracy_platform_given"] = float(
            np.mean([results[i]["reply_expected"] == gold_reply[i] for i in keep])
        )
        withheld = engine.analyze_many([{**messages[i], "platform": None} for i in keep])
        evaluation.reply["accuracy_platform_withheld"] = float(
            np.mean([w["reply_expected"] == gold_reply[i] for w, i in zip(withheld, keep, strict=True)])
        )
        if any(r.get("platform") for r in records):
            evaluation.reply["platform_inference_accuracy"] = float(
                np.mean([w["platform"] == records[i].get("platform") for w, i in zip(withheld, keep, strict=True)])
            )
    return evaluation


def render_text(evaluation: Evaluation) -> str:
    """The readable report printed by `webcare evaluate`."""
    lines = [f"Evaluation of {evaluation.n} messages from {evaluation.source}", ""]
    for name, score in evaluation.labels.items():
        lines += [
            f"## {name}: macro-F1 {score.macro_f1:.3f}, accuracy {score.accuracy:.3f}, ECE {score.ece:.3f}",
            "",
            score.table,
            "",
            "confusion (rows true, columns predicted): " + " ".join(score.classes),
        ]
        lines += ["  " + " ".join(f"{v:5d}" for v in row) for row in score.confusion]
        lines.append("")
    for key, value in evaluation.reply.items():
        lines.append(f"reply_expected {key}: {value:.3f}")
    return "\n".join(lines)


def write_report(evaluation: Evaluation, directory: Path) -> Path:
    """Write report.md, metrics.json and confusion PNGs into `directory`; return the Markdown path."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, score in evaluation.labels.items():
        plot_confusion(np.asarray(score.confusion), score.classes, name, directory / f"confusion_{name}.png")
    (directory / "metrics.json").write_text(json.dumps(evaluation.summary(), indent=2) + "\n", encoding="utf-8")
    body = render_text(evaluation)
    images = "\n".join(f"![{name}](confusion_{name}.png)" for name in evaluation.labels)
    path = directory / "report.md"
    path.write_text(f"# {evaluation.source}\n\n```\n{body}\n```\n\n{images}\n", encoding="utf-8")
    return path
