"""The HTML evaluation report: one self-contained page (inline CSS, base64 PNG plots, no scripts or CDN)."""

from __future__ import annotations

import base64
import datetime
import html
import io
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, classification_report, f1_score

from webcare_nlp.evaluation import Evaluation, has_gold_lists
from webcare_nlp.model_card import plot_confusion

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1150px;color:#1d2430;
padding:0 1rem;line-height:1.4}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #dfe4ec;padding-bottom:.2rem;margin-top:2rem}
.meta{color:#5b6475;font-size:.9rem}table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #dfe4ec;padding:.3rem .6rem;text-align:left;vertical-align:top}th{background:#f3f5f9}
td.n{text-align:right;font-variant-numeric:tabular-nums}.plots{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}
.plots img{border:1px solid #dfe4ec;height:380px;width:auto;max-width:100%}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.4rem .8rem}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _num(value: float, digits: int = 3) -> str:
    return "–" if value != value else f"{value:.{digits}f}"  # NaN (no data) shows as a dash


def _table(header: list[str], rows: list[list[Any]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{_esc(cell)}</td>' if i >= numeric_from else f"<td>{_esc(cell)}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _png(draw: Any, alt: str) -> str:
    """Run `draw(target)` (which saves one figure to a file object) and return an <img> with the PNG inline."""
    buffer = io.BytesIO()
    draw(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{data}">'


def _reliability(confidence: np.ndarray, correct: np.ndarray, title: str, target: Any, bins: int = 10) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    centres, accuracy, counts = [], [], []
    for b in range(bins):
        mask = which == b
        if mask.any():
            centres.append((edges[b] + edges[b + 1]) / 2)
            accuracy.append(correct[mask].mean())
            counts.append(int(mask.sum()))
    fig, ax = plt.subplots(figsize=(4.2, 4.0), dpi=90)
    ax.plot([0, 1], [0, 1], linestyle="--", color="#9aa3b2", label="perfect calibration")
    ax.bar(centres, accuracy, width=1 / bins * 0.9, color="#4c78a8", alpha=0.85, label="accuracy in bin")
    for x, y, n in zip(centres, accuracy, counts, strict=True):
        ax.text(x, min(y + 0.02, 0.97), str(n), ha="center", fontsize=7, color="#1d2430")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top score)")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(target, format="png", metadata={"Software": None})
    plt.close(fig)


def _predicted(label: str, prediction: dict[str, Any]) -> tuple[str, float]:
    """The predicted class of `label` as a string, and the engine's confidence in it."""
    if label == "reactive":
        p = float(prediction["reactive_probability"])
        return str(p >= 0.5), max(p, 1 - p)
    return str(prediction[label]), float(max(prediction[f"{label}_scores"].values()))


def _label_section(evaluation: Evaluation, label: str) -> str:
    score = evaluation.labels[label]
    pairs = [(str(r[label]), *_predicted(label, p)) for r, p in _gold_pairs(evaluation, label)]
    gold = [g for g, _, _ in pairs]
    predicted = [p for _, p, _ in pairs]
    confidence = np.asarray([c for _, _, c in pairs])
    correct = np.asarray([g == p for g, p in zip(gold, predicted, strict=True)], dtype=float)
    present = [c for c in score.classes if c in set(gold) | set(predicted)]
    # Over the classes of the gold labels and the predictions, as the summary's macro-F1 above the table.
    report = classification_report(gold, predicted, labels=present, output_dict=True, zero_division=0)
    rows = [
        [name, _num(report[name]["precision"]), _num(report[name]["recall"]), _num(report[name]["f1-score"]),
         int(report[name]["support"])]
        for name in [*present, "macro avg"]
    ]  # fmt: skip
    matrix = np.asarray(score.confusion)
    title = f"{label}: confusion"
    confusion = _png(lambda target: plot_confusion(matrix, score.classes, title, target), f"{label}: confusion matrix")
    reliability = _png(
        lambda target: _reliability(confidence, correct, f"{label}: reliability", target), f"{label}: reliability"
    )
    return (
        f"<h2>{_esc(label)}</h2><p>macro-F1 <b>{score.macro_f1:.3f}</b> · accuracy {score.accuracy:.3f} · "
        f"ECE {score.ece:.3f} · {score.n} messages</p>"
        + _table(["class", "precision", "recall", "F1", "support"], rows)
        + f'<div class="plots">{confusion}{reliability}</div>'
    )


def _gold_pairs(evaluation: Evaluation, label: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(r, p) for r, p in zip(evaluation.records, evaluation.predictions, strict=True) if r.get(label) is not None]


def _language_section(evaluation: Evaluation) -> str:
    """Macro-F1 and accuracy per language (the file's `lang` when given, else the detected one)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, (record, prediction) in enumerate(zip(evaluation.records, evaluation.predictions, strict=True)):
        groups[str(record.get("lang") or prediction.get("lang") or "?")].append(i)
    labels = list(evaluation.labels)
    rows = []
    for lang, indices in sorted(groups.items(), key=lambda item: -len(item[1])):
        row: list[Any] = [lang, len(indices)]
        for label in labels:
            keep = [i for i in indices if evaluation.records[i].get(label) is not None]
            gold = [str(evaluation.records[i][label]) for i in keep]
            predicted = [_predicted(label, evaluation.predictions[i])[0] for i in keep]
            if keep:
                row += [
                    _num(f1_score(gold, predicted, average="macro", zero_division=0)),
                    _num(accuracy_score(gold, predicted)),
                ]
            else:
                row += ["–", "–"]
        rows.append(row)
    header = ["language", "messages"] + [f"{label} {m}" for label in labels for m in ("macro-F1", "accuracy")]
    return "<h2>Per language</h2>" + _table(header, rows)


def _worst_errors(evaluation: Evaluation, per_label: int = 10) -> str:
    """The most confident mistakes: what to look at first (texts shown masked, as the engine saw them)."""
    parts = ["<h2>Worst errors (most confident mistakes)</h2>"]
    for label in evaluation.labels:
        mistakes = []
        for record, prediction in _gold_pairs(evaluation, label):
            predicted, confidence = _predicted(label, prediction)
            if predicted != str(record[label]):
                mistakes.append((confidence, record, prediction, predicted))
        mistakes.sort(key=lambda item: -item[0])
        if not mistakes:
            continue
        rows = [
            [r.get("id", ""), p.get("masked_text") or r.get("text", ""), r[label], predicted, f"{c:.2f}"]
            for c, r, p, predicted in mistakes[:per_label]
        ]
        parts.append(
            f"<h3>{_esc(label)}: {len(mistakes)} mistake{'s' if len(mistakes) != 1 else ''}</h3>"
            + _table(["id", "text", "gold", "predicted", "confidence"], rows, 4)
        )
    return "".join(parts)


def _summary(evaluation: Evaluation) -> str:
    rows = [
        [name, score.n, _num(score.macro_f1), _num(score.accuracy), _num(score.ece)]
        for name, score in evaluation.labels.items()
    ]
    parts = ["<h2>Summary</h2>"]
    if rows:
        parts.append(_table(["label", "messages", "macro-F1", "accuracy", "ECE"], rows))
    else:
        parts.append('<p class="note">The file has no intent, sentiment or reactive labels to score.</p>')
    if evaluation.reply:
        parts.append(_table(["reply_expected", "accuracy"], [[k, _num(v)] for k, v in evaluation.reply.items()]))
    if evaluation.ranking:
        kinds = sorted({k.split("_", 1)[0] for k in evaluation.ranking}, reverse=True)
        metrics = [m for m in ("hit@1", "hit@3", "mrr") if any(f"{kind}_{m}" in evaluation.ranking for kind in kinds)]
        shown = [
            [kind, *(_num(evaluation.ranking.get(f"{kind}_{m}", float("nan"))) for m in metrics),
             f"{evaluation.ranking.get(f'{kind}_n', 0):.0f}"]
            for kind in kinds
        ]  # fmt: skip
        header = ["suggestion", *(m.replace("mrr", "MRR") for m in metrics), "messages with a gold list"]
        parts.append("<h3>Suggestions (ranking)</h3>" + _table(header, shown))
    elif has_gold_lists(evaluation.records):
        parts.append(f'<p class="note">Suggestions were not scored: {_esc(evaluation.ranking_note)}.</p>')
    return "".join(parts)


def render_html(evaluation: Evaluation, *, model: str = "") -> str:
    """The whole report as one HTML string."""
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        f"<h1>Evaluation: {_esc(Path(evaluation.source).name or evaluation.source)}</h1>",
        f'<p class="meta">{evaluation.n} messages from {_esc(evaluation.source)} · model {_esc(model or "?")} · '
        f"written {when} by webcare-nlp</p>",
        _summary(evaluation),
        *(_label_section(evaluation, label) for label in evaluation.labels),
        _language_section(evaluation) if evaluation.labels else "",
        _worst_errors(evaluation),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>webcare-nlp evaluation: {_esc(evaluation.source)}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def write_html_report(evaluation: Evaluation, path: Path, *, model: str = "") -> Path:
    """Write the self-contained HTML report to `path` (its folder must exist); return the path."""
    path = Path(path)
    path.write_text(render_html(evaluation, model=model), encoding="utf-8")
    return path
