"""Active learning: pick the messages of an unlabelled archive that are most worth labelling next.

A message is worth a person's time when the models are unsure (small margin between the top two
classes, a reactive probability near 0.5) or disagree (two models, or intent against sentiment).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from webcare_nlp.dataset import near_duplicate_pairs
from webcare_nlp.engine import Engine
from webcare_nlp.errors import InputError, check_not_input, check_output_file
from webcare_nlp.records import Reject, iter_jsonl

STDIO = "-"  # standard output, as for `webcare score`

# Intent and sentiment that contradict each other: one of the two labels is probably wrong.
_CLASHES = {("compliment", "negative"), ("complaint", "positive")}


@dataclass(order=True)
class Candidate:
    """A message with its review score; ordered by score, then by earlier line."""

    score: float
    line: int
    message: dict[str, Any] = field(compare=False)
    reasons: list[str] = field(compare=False)
    suggested: dict[str, Any] = field(compare=False)


@dataclass
class ReviewSummary:
    read: int = 0
    rejected: int = 0
    picked: int = 0
    skipped_near_duplicates: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _margin(scores: dict[str, float]) -> tuple[float, str]:
    """1 - (top - second): 1 when the two best classes tie, 0 when one class has it all."""
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    if len(ranked) < 2:
        return 0.0, ""
    (first, p1), (second, p2) = ranked[0], ranked[1]
    return 1.0 - (p1 - p2), f"{first} {p1:.2f} vs {second} {p2:.2f}"


def review_score(outputs: Sequence[dict[str, Any]]) -> tuple[float, list[str]]:
    """How much labelling this message would teach the models, and why; `outputs` has one result per model.

    Example:
        >>> out = {"intent": "complaint", "intent_scores": {"complaint": 0.45, "request": 0.4, "question": 0.15},
        ...        "sentiment": "negative", "sentiment_scores": {"negative": 0.9, "neutral": 0.1},
        ...        "reactive_probability": 0.9}
        >>> score, reasons = review_score([out])
        >>> round(score, 2), reasons[0]
        (0.95, 'intent unsure: complaint 0.45 vs request 0.40')
    """
    first = outputs[0]
    intent, intent_why = _margin(first["intent_scores"])
    sentiment, sentiment_why = _margin(first["sentiment_scores"])
    reactive = 1.0 - abs(2 * float(first["reactive_probability"]) - 1.0)
    parts = [
        (intent, "intent", intent_why),
        (0.6 * sentiment, "sentiment", sentiment_why),
        (0.6 * reactive, "reactive", f"p={first['reactive_probability']:.2f}"),
    ]
    score = max(value for value, _, _ in parts)
    ranked = sorted(parts, key=lambda p: -p[0])
    reasons = [f"{label} unsure: {why}" for value, label, why in ranked if value >= 0.5]
    # A sure message can still be picked (the archive's least sure, or models that disagree): not "unsure".
    reasons = reasons or [f"most doubt on {ranked[0][1]}: {ranked[0][2]}"]
    for label in ("intent", "sentiment"):
        votes = [o[label] for o in outputs]
        if len(set(votes)) > 1:
            score += 1.0
            reasons.append(f"models disagree on {label}: {' / '.join(votes)}")
    if (first["intent"], first["sentiment"]) in _CLASHES:
        score += 0.5
        reasons.append(f"intent {first['intent']} with sentiment {first['sentiment']}")
    return score, reasons


def _chunks(items: Iterable[tuple[int, dict[str, Any] | Reject]], size: int) -> Iterable[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def pick_for_review(
    engines: Sequence[Engine],
    lines: Iterable[tuple[int, dict[str, Any] | Reject]],
    *,
    n: int = 200,
    rejects: IO[str] | None = None,
    chunk_size: int = 1000,
    near_duplicate: float = 0.8,
) -> tuple[list[Candidate], ReviewSummary]:
    """The `n` messages most worth labelling, best first, without near-duplicates of each other.

    Memory stays bounded: at most the best 6n candidates are kept while the archive streams by, cut back to
    the best 3n distinct ones whenever they fill up.
    Unreadable lines are written to `rejects` (one JSON object per line), so nothing is lost silently.
    """
    if not engines:
        raise InputError("Active learning needs at least one model.")
    if n < 1:
        raise InputError("--n must be at least 1.")
    summary = ReviewSummary()
    best: list[Candidate] = []  # the best distinct candidates so far, and those since the last trim
    floor: Candidate | None = None  # the worst candidate the last trim kept: anything worse cannot get in
    for chunk in _chunks(lines, chunk_size):
        messages = []
        for line, item in chunk:
            if isinstance(item, Reject):
                summary.rejected += 1
                if rejects is not None:
                    rejects.write(json.dumps(item.as_dict(), ensure_ascii=False) + "\n")
            else:
                messages.append((line, item))
        summary.read += len(chunk)
        if not messages:
            continue
        per_engine = [engine.analyze_many([m for _, m in messages]) for engine in engines]
        for i, (line, message) in enumerate(messages):
            outputs = [results[i] for results in per_engine]
            score, reasons = review_score(outputs)
            suggested = {k: outputs[0][k] for k in ("intent", "sentiment", "reactive", "platform", "reply_expected")}
            candidate = Candidate(score, -line, message, reasons, suggested)
            if floor is not None and candidate < floor:
                continue
            best.append(candidate)
            # A burst of near-copies (a spam wave, "dm" forty times) must not crowd out the distinct messages:
            # the pool is cut back to its best 3n distinct ones whenever it has doubled.
            if len(best) > 6 * n:
                best, removed = _distinct(best, near_duplicate)
                summary.skipped_near_duplicates += removed
                floor = best[3 * n - 1] if len(best) >= 3 * n else None
                best = best[: 3 * n]
    picked, removed = _distinct(best, near_duplicate)
    summary.skipped_near_duplicates += removed
    summary.picked = len(picked[:n])
    return picked[:n], summary


def _distinct(candidates: list[Candidate], threshold: float) -> tuple[list[Candidate], int]:
    """The candidates best first, without near-duplicates of a better one (they teach the same thing twice);
    and how many were left out."""
    ranked = sorted(candidates, reverse=True)
    duplicates = {j for _, j, _ in near_duplicate_pairs([c.message["text"] for c in ranked], threshold=threshold)}
    return [c for i, c in enumerate(ranked) if i not in duplicates], len(duplicates)


def review_record(candidate: Candidate, rank: int) -> dict[str, Any]:
    """One line of the review file: the message as read, plus what the model thinks and why to look at it."""
    message = {k: v for k, v in candidate.message.items() if v is not None}
    return {
        **message,
        "review": {
            "rank": rank,
            "line": -candidate.line,
            "score": round(candidate.score, 4),
            "reasons": candidate.reasons,
            "suggested": candidate.suggested,
        },
    }


def review_file(
    engines: Sequence[Engine],
    source: Path,
    output: Path,
    *,
    n: int = 200,
    overwrite: bool = False,
    lines: Iterable[tuple[int, dict[str, Any] | Reject]] | None = None,
) -> ReviewSummary:
    """Read an archive, write the `n` messages to label next to `output`, rejects beside it.

    `source` is read as JSON Lines unless its `lines` are given (the CLI reads CSV and Parquet that way).
    An `output` of "-" is standard output; the rejects then go to standard error, as `webcare score` does.
    """
    source, output = Path(source), Path(output)
    to_file = str(output) != STDIO
    if lines is None and not source.is_file():
        raise InputError(f"No such input file: {source}.")
    rejects_path = output.with_name(output.name + ".rejects.jsonl")
    if to_file:
        if output.exists() and not overwrite:
            raise InputError(f"{output} exists; pass --overwrite to replace it.")
        check_output_file(output)
        check_not_input(source, [output, rejects_path])
    with ExitStack() as stack:
        rejects = stack.enter_context(rejects_path.open("w", encoding="utf-8")) if to_file else sys.stderr
        if lines is None:
            lines = iter_jsonl(stack.enter_context(source.open("rb")))
        picked, summary = pick_for_review(engines, lines, n=n, rejects=rejects)
    if to_file and not summary.rejected:
        rejects_path.unlink()
    with ExitStack() as stack:
        handle = stack.enter_context(output.open("w", encoding="utf-8")) if to_file else sys.stdout
        for rank, candidate in enumerate(picked, start=1):
            handle.write(json.dumps(review_record(candidate, rank), ensure_ascii=False) + "\n")
        handle.flush()
    return summary
