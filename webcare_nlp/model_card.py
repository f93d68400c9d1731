"""The model card saved with every trained model: data, labels, cross-validated metrics, plots, limits."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sklearn.metrics import classification_report, confusion_matrix

from webcare_nlp.classify.models import SOFT_VOTE

if TYPE_CHECKING:
    from webcare_nlp.training import TaskReport, TrainingResult


def plot_confusion(matrix: Any, labels: list[str], title: str, path: Path | IO[bytes]) -> None:
    """A confusion matrix as a PNG (rows: true label, columns: predicted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.1 * len(labels) + 2.2, 1.0 * len(labels) + 1.6), dpi=90)
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    peak = matrix.max() or 1
    for i in range(len(labels)):
        for j in range(len(labels)):
            colour = "white" if matrix[i, j] > peak / 2 else "black"
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=colour, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)


def report_table(y_true: list[Any], y_pred: list[Any], labels: list[Any]) -> str:
    """Per-class precision, recall and F1 as a Markdown table."""
    names = [str(label) for label in labels]
    report = classification_report(
        [str(y) for y in y_true], [str(y) for y in y_pred], labels=names, output_dict=True, zero_division=0
    )
    lines = ["| class | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for name in [*names, "macro avg"]:
        row = report[name]
        lines.append(
            f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1-score']:.3f} | {int(row['support'])} |"
        )
    accuracy = sum(str(t) == str(p) for t, p in zip(y_true, y_pred, strict=True)) / max(len(y_true), 1)
    lines.append(f"| accuracy | | | {accuracy:.3f} | {len(y_true)} |")
    return "\n".join(lines)


def _families_table(report: TaskReport) -> str:
    lines = ["| family | CV macro-F1 | ± | accuracy | best parameters | |", "|---|---:|---:|---:|---|---|"]
    ranked = sorted(report.families.items(), key=lambda item: -item[1]["macro_f1"])
    for name, row in ranked:
        mark = "**chosen**" if name == report.chosen else ""
        lines.append(
            f"| {name} | {row['macro_f1']:.3f} | {row['macro_f1_std']:.3f} | {row['accuracy']:.3f} "
            f"| {row['params']} | {mark} |"
        )
    return "\n".join(lines)


def _counts(records: list[dict[str, Any]], field: str) -> str:
    counts = Counter(str(r.get(field)) for r in records)
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _sources(sources: dict[str, int]) -> str:
    names = {
        "files": "from the labelled files",
        "feedback": "added from agents' label corrections in the feedback store",
        "feedback_corrected": "labelled rows whose labels agents corrected",
        "feedback_skipped": "corrections left out (they contradict the label set or the reply rule)",
        "feedback_history": "used suggestions from the feedback store, added to the ranker's reply history",
    }
    return ", ".join(f"{n} {names.get(k, k)}" for k, n in sources.items()) or "from the labelled files"


def _pairs_note(result: TrainingResult) -> str:
    if result.engine.label_pairs is None:
        return "Intent and sentiment are decided apart."
    return (
        "Intent and sentiment are decided together: their probabilities are reweighted by how the two labels "
        f"pair up in the training data (lift to the power {result.config.pair_strength}, `classify.pairs`); "
        "the per-class tables below are the models' own cross-validated predictions, before that step."
    )


def write_model_card(
    result: TrainingResult, directory: Path, records: list[dict[str, Any]], *, name: str | None = None
) -> tuple[str, ...]:
    """Write MODEL_CARD.md and one confusion-matrix PNG per label into `directory`; return the file names
    written. `name` is the model's (by default the folder's)."""
    written = ["MODEL_CARD.md"]
    sections = []
    for task, report in result.reports.items():
        labels = [str(label) for label in report.labels]
        matrix = confusion_matrix([str(y) for y in report.y_true], [str(y) for y in report.y_pred], labels=labels)
        png = f"confusion_{task}.png"
        plot_confusion(matrix, labels, f"{task} (cross-validated)", directory / png)
        written.append(png)
        calibration = (
            "the mean of its members' probabilities (each calibrated with Platt scaling), calibrated once more "
            "with Platt scaling"
            if report.chosen == SOFT_VOTE
            else "calibrated with Platt scaling"
        )
        sections.append(
            f"### {task}\n\nChosen: `{report.chosen}` {report.chosen_params}, {calibration} "
            f"({result.config.folds}-fold).\n\n{report_table(report.y_true, report.y_pred, report.labels)}\n\n"
            f"Model families compared (the losers' figures too):\n\n{_families_table(report)}\n\n![{task}]({png})\n"
        )
    card = f"""# Model card: {name or directory.name}

webcare-nlp label models: intent ({len(result.intents)} classes: {", ".join(result.intents)}), sentiment (3),
reactive (bool) and platform (used only when a message comes without one). The reply decision applies
seed 002's rule on top of them. {_pairs_note(result)}

## Data
- {result.n_messages} labelled messages (SHA-256 `{result.data_hash[:16]}…`): {_sources(result.sources)};
  the project's own corpus is described in `training_data/README.md`.
- intent: {_counts(records, "intent")}
- sentiment: {_counts(records, "sentiment")}
- reactive: {_counts(records, "reactive")}
- lang: {_counts(records, "lang")}
- Language identification (lingua) agrees with the corpus `lang` on {result.language_accuracy:.1%} of messages.

## Training
- Features: folded lemma uni- and bigrams (unigrams in a negation's scope marked; weighted
  {result.config.word_weight:g} against the character n-grams), character 2–5-grams within words, cues
  (question mark, handles, emojis, negation, shouting, case data, verdict words of the polarity lexicon:
  present or not, and their share of the words), channel and platform one-hot; channel and platform
  are hidden for {result.config.metadata_dropout:.0%} of rows so the models also work without them.
- Model selection: {result.config.folds}-fold stratified cross-validation, macro-F1, seed {result.config.seed};
  the vectoriser is refitted inside every fold.
- Training time: {result.seconds:.1f} s on this machine.

## Cross-validated metrics (out-of-fold predictions of the chosen model)

{chr(10).join(sections)}
## Known limits
- One team wrote the corpus; its style is varied but written, not scraped. Figures on other writers'
  text (the dev set and real data, see benchmarks/README.md) are lower than these cross-validated ones.
- Sarcasm without cues, mixed reviews and complaint-versus-request borderlines are the hardest cases.
- Platform inference from text alone is uncertain for Twitter, Facebook, Instagram and forums.
"""
    (directory / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    return tuple(written)
