"""Scoring an engine on a labelled file: per-class metrics, confusion matrices, calibration."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from webcare_nlp import schema
from webcare_nlp.dataset import refuse_problems, validate_labelled
from webcare_nlp.engine import Engine
from webcare_nlp.errors import InputError, WebcareError
from webcare_nlp.model_card import plot_confusion, report_table
from webcare_nlp.rank.library import Library

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
    # precision, recall, f1 and support of every class in the gold labels or the predictions
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "ece": round(self.ece, 4),
            "per_class": self.per_class,
            # rows are the gold class, columns the predicted one, both in the order of `classes`
            "confusion": {"classes": self.classes, "matrix": self.confusion},
        }


@dataclass
class Evaluation:
    """The figures of one engine on one labelled file."""

    source: str
    n: int
    labels: dict[str, LabelScore] = field(default_factory=dict)
    reply: dict[str, float] = field(default_factory=dict)
    # hit@k and MRR of the suggestions, for messages with gold_templates / gold_articles
    ranking: dict[str, float] = field(default_factory=dict)
    ranking_note: str = ""
    # The labelled records and the engine's output for each, in order (for reports and comparisons).
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)
    predictions: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "n": self.n,
            **{name: score.summary() for name, score in self.labels.items()},
            "reply_expected": {k: round(v, 4) for k, v in self.reply.items()},
            **({"ranking": {k: round(v, 4) for k, v in self.ranking.items()}} if self.ranking else {}),
        }


def model_classes(engine: Engine, label: str) -> list[str]:
    """The classes the engine's model of `label` predicts: labels.md's order first, then a team's own."""
    standard = [str(c) for c in SCORED_LABELS[label]]
    if label not in engine.models:
        return standard
    own = [str(c) for c in engine.models[label].classes_]
    return [c for c in standard if c in own] + [c for c in own if c not in standard]


def label_classes(engine: Engine, label: str, gold: list[Any]) -> list[str]:
    """The classes to report for `label`: the model's own, then any other class of the gold labels.

    A team model trained on its own intent set is not given labels.md's classes it lacks, unless the file has them.
    """
    known = model_classes(engine, label)
    return known + sorted({str(g) for g in gold} - set(known))


def gold_intents(engine: Engine) -> tuple[str, ...]:
    """The intents a labelled file may carry: labels.md's six and the model's own."""
    return tuple(dict.fromkeys([*schema.INTENTS, *model_classes(engine, "intent")]))


def _score(label: str, gold: list[Any], results: list[dict[str, Any]], classes: list[str]) -> LabelScore:
    if label == "reactive":
        predicted = [r["reactive"] for r in results]
        confidence = np.asarray([max(r["reactive_probability"], 1 - r["reactive_probability"]) for r in results])
    else:
        predicted = [r[label] for r in results]
        confidence = np.asarray([max(r[f"{label}_scores"].values()) for r in results])
    gold_s, pred_s = [str(g) for g in gold], [str(p) for p in predicted]
    # As scikit-learn's default: the classes of the gold labels and of the predictions, so a class predicted
    # where it never belongs counts (with F1 0) instead of vanishing from the average.
    present = [c for c in classes if c in set(gold_s) | set(pred_s)]
    correct = np.asarray([g == p for g, p in zip(gold_s, pred_s, strict=True)], dtype=float)
    precision, recall, f1, support = precision_recall_fscore_support(gold_s, pred_s, labels=present, zero_division=0)
    per_class = {
        c: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4), "support": int(n)}
        for c, p, r, f, n in zip(present, precision, recall, f1, support, strict=True)
    }
    return LabelScore(
        label=label,
        n=len(gold),
        accuracy=float(accuracy_score(gold_s, pred_s)),
        macro_f1=float(f1_score(gold_s, pred_s, labels=present, average="macro", zero_division=0)),
        ece=expected_calibration_error(confidence, correct),
        table=report_table(gold_s, pred_s, present),
        confusion=confusion_matrix(gold_s, pred_s, labels=classes).tolist(),
        classes=classes,
        per_class=per_class,
    )


GOLD_LISTS = {"template": "gold_templates", "article": "gold_articles"}


def with_gold_lists(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with every gold list as a list: a CSV cell (or a JSONL string) holds one id, ids apart
    by "|", or a JSON array, which would otherwise be read one character at a time.

    Example:
        >>> with_gold_lists([{"gold_templates": "t1|t2"}, {"gold_articles": '["https://x.nl/a"]'}])
        [{'gold_templates': ['t1', 't2']}, {'gold_articles': ['https://x.nl/a']}]
    """
    out = []
    for record in records:
        lists = {}
        for key in GOLD_LISTS.values():
            value = record.get(key)
            if isinstance(value, str):
                parsed = _json_list(value)
                lists[key] = parsed if parsed is not None else [g.strip() for g in value.split("|") if g.strip()]
        out.append({**record, **lists} if lists else record)
    return out


def _json_list(value: str) -> list[str] | None:
    if not value.lstrip().startswith("["):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return [str(g) for g in parsed] if isinstance(parsed, list) else None


def has_gold_lists(records: list[dict[str, Any]]) -> bool:
    return any(record.get(key) for record in records for key in GOLD_LISTS.values())


# The fields `evaluate` scores: a file without any of them has nothing to score.
GOLD_FIELDS = (*SCORED_LABELS, "reply_expected", *GOLD_LISTS.values())


def check_records(
    records: list[dict[str, Any]],
    *,
    source: str = "",
    intents: tuple[str, ...] = schema.INTENTS,
    gold_fields: tuple[str, ...] = GOLD_FIELDS,
) -> list[dict[str, Any]]:
    """The records as validated messages (the engine detects the language, as in production).

    The gold labels are checked as `webcare train` checks its rows, every bad one listed with its file
    and line, so that a typo is not scored as a class of its own; `intents` are the ones the models know.
    """
    if not records:
        raise InputError(f"{source or 'The file'} has no labelled messages to evaluate.")
    located = [
        {**record, "_source": record.get("_source") or f"{source or 'line'}:{record.get('_line', i)}"}
        for i, record in enumerate(records, start=1)
    ]
    problems = validate_labelled(located, intents=intents, partial=True)
    refuse_problems(problems, f"The file {source}" if source else "The labelled data")
    if not any(record.get(name) not in (None, []) for record in records for name in gold_fields):
        raise InputError(
            f"{source or 'The file'} has no gold labels to score: no message has any of {', '.join(gold_fields)}."
        )
    fields = ("text", "channel", "platform", "company", "id")
    messages = []
    for i, record in enumerate(records, start=1):
        line = record.get("_line", i)
        try:
            messages.append(schema.check_message({k: record[k] for k in fields if k in record}, default_id=str(line)))
        except InputError as exc:
            raise InputError(f"{source or 'line'}:{line}: {exc}") from exc
    return messages


def predict(
    engine: Engine, records: list[dict[str, Any]], messages: list[dict[str, Any]], *, top_k: int = 3
) -> tuple[list[dict[str, Any]], str]:
    """The engine's output per message, with suggestions when the records have gold lists to rank against.

    Returns the outputs and a note that says why ranking was left out (empty when it was done).
    """
    if not has_gold_lists(records):
        return engine.analyze_many(messages), "the file has no gold_templates or gold_articles"
    try:
        missing = gold_outside_library(records, engine.suggester.library)
        if missing:
            return engine.analyze_many(messages), missing
        # always=True: rank every message with a gold list, whatever the reply decision says
        return engine.suggest_many(messages, top_k=top_k, always=True), ""
    except (AttributeError, WebcareError) as exc:
        return engine.analyze_many(messages), f"this model cannot suggest ({exc})"


def gold_outside_library(records: list[dict[str, Any]], library: Library) -> str:
    """Why ranking cannot be scored when no gold id is in the library (a file made for another library),
    rather than a hit rate of 0 that reads as a bad ranker; empty when scoring makes sense."""
    known = {"template": {t.id for t in library.templates}, "article": {a.id for a in library.articles}}
    for kind, key in GOLD_LISTS.items():
        gold = {str(g) for record in records for g in record.get(key) or ()}
        if gold and gold & known[kind]:
            return ""
    option = " / ".join(f"--{kind}s" for kind, key in GOLD_LISTS.items() if any(r.get(key) for r in records))
    return f"none of the file's gold ids is in the loaded library; give the library it was labelled for with {option}"


def ranking_metrics(records: list[dict[str, Any]], predictions: list[dict[str, Any]], k: int = 3) -> dict[str, float]:
    """hit@1, hit@k, MRR and the answered share per suggestion kind, over the messages with a gold list.

    The suggestions are scored as agents see them, abstention included: a message left without a
    suggestion counts as a miss.
    """
    from webcare_nlp.rank.metrics import hit_at_k, mean_reciprocal_rank

    metrics: dict[str, float] = {}
    for kind, key in GOLD_LISTS.items():
        keep = [i for i, r in enumerate(records) if r.get(key)]
        if not keep:
            continue
        ranked = [[s["id"] for s in predictions[i].get("suggestions", []) if s.get("kind") == kind] for i in keep]
        gold = [[str(g) for g in records[i][key]] for i in keep]
        metrics[f"{kind}_hit@1"] = hit_at_k(ranked, gold, k=1)
        metrics[f"{kind}_hit@{k}"] = hit_at_k(ranked, gold, k=k)
        metrics[f"{kind}_mrr"] = mean_reciprocal_rank(ranked, gold)
        # Abstention leaves some messages without a suggestion; they count as misses above.
        metrics[f"{kind}_answered"] = float(np.mean([bool(r) for r in ranked]))
        metrics[f"{kind}_n"] = float(len(keep))
    return metrics


def evaluate(engine: Engine, records: list[dict[str, Any]], *, source: str = "", top_k: int = 3) -> Evaluation:
    """Score every label the records carry; reply_expected with the platform given and withheld.

    When the records carry gold_templates / gold_articles, the suggestions are scored too (hit@k, MRR).
    """
    records = with_gold_lists(records)
    messages = check_records(records, source=source, intents=gold_intents(engine))
    results, note = predict(engine, records, messages, top_k=top_k)
    evaluation = Evaluation(source=source, n=len(records), records=records, predictions=results, ranking_note=note)
    if not note:
        evaluation.ranking = ranking_metrics(records, results, k=top_k)
    for label in SCORED_LABELS:
        gold = [r.get(label) for r in records]
        keep = [i for i, g in enumerate(gold) if g is not None]
        if keep:
            kept = [gold[i] for i in keep]
            evaluation.labels[label] = _score(
                label, kept, [results[i] for i in keep], label_classes(engine, label, kept)
            )
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
        # Over the messages whose platform is known: one without a gold platform is no miss.
        inferred = [(w, i) for w, i in zip(withheld, keep, strict=True) if records[i].get("platform")]
        if inferred:
            evaluation.reply["platform_inference_accuracy"] = float(
                np.mean([w["platform"] == records[i]["platform"] for w, i in inferred])
            )
    return evaluation


def _headline(score: LabelScore) -> str:
    return f"macro-F1 {score.macro_f1:.3f}, accuracy {score.accuracy:.3f}, ECE {score.ece:.3f}"


def _reply_and_ranking_lines(evaluation: Evaluation) -> list[str]:
    lines = [f"reply_expected {key}: {value:.3f}" for key, value in evaluation.reply.items()]
    for key, value in evaluation.ranking.items():
        lines.append(f"suggestions {key}: {value:.3f}" if not key.endswith("_n") else f"suggestions {key}: {value:.0f}")
    if evaluation.ranking_note and has_gold_lists(evaluation.records):
        lines.append(f"suggestions not scored: {evaluation.ranking_note}")
    return lines


def render_text(evaluation: Evaluation) -> str:
    """The readable report printed by `webcare evaluate`."""
    lines = [f"Evaluation of {evaluation.n} messages from {evaluation.source}", ""]
    for name, score in evaluation.labels.items():
        lines += [
            f"## {name}: {_headline(score)}",
            "",
            score.table,
            "",
            "confusion (rows true, columns predicted): " + " ".join(score.classes),
        ]
        lines += ["  " + " ".join(f"{v:5d}" for v in row) for row in score.confusion]
        lines.append("")
    return "\n".join(lines + _reply_and_ranking_lines(evaluation))


def confusion_table(score: LabelScore) -> str:
    """The confusion matrix as a Markdown table: a row per true class, a column per predicted class."""
    lines = ["| true / predicted | " + " | ".join(score.classes) + " |", "|---|" + "---:|" * len(score.classes)]
    for name, row in zip(score.classes, score.confusion, strict=True):
        lines.append(f"| {name} | " + " | ".join(str(count) for count in row) + " |")
    return "\n".join(lines)


def render_markdown(evaluation: Evaluation) -> str:
    """The folder report's report.md: the per-class and confusion tables as Markdown tables, then the plots."""
    lines = [f"# Evaluation of {evaluation.n} messages from {evaluation.source}", ""]
    for name, score in evaluation.labels.items():
        lines += [f"## {name}", "", _headline(score), "", score.table, ""]
        lines += ["Confusion (rows: true class, columns: predicted class):", "", confusion_table(score), ""]
        lines += [f"![{name}: confusion](confusion_{name}.png)", ""]
    others = _reply_and_ranking_lines(evaluation)
    if others:
        lines += ["## Reply decision and suggestions", "", *(f"- {line}" for line in others), ""]
    return "\n".join(lines)


def write_report(evaluation: Evaluation, directory: Path) -> Path:
    """Write report.md, metrics.json and confusion PNGs into `directory`; return the Markdown path."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, score in evaluation.labels.items():
        plot_confusion(np.asarray(score.confusion), score.classes, name, directory / f"confusion_{name}.png")
    (directory / "metrics.json").write_text(json.dumps(evaluation.summary(), indent=2) + "\n", encoding="utf-8")
    path = directory / "report.md"
    path.write_text(render_markdown(evaluation), encoding="utf-8")
    return path
