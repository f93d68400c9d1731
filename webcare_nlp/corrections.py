"""Training rows from the agents' feedback store: corrected labels merged into a corpus, without duplicates.

Agents correct only what was wrong (say the intent); the labels they left alone are the ones the model
showed them, so those come from the current model's output for the same text.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webcare_nlp import schema
from webcare_nlp.engine import Engine
from webcare_nlp.errors import InputError
from webcare_nlp.rank.feedback import FeedbackStore
from webcare_nlp.text.pii import find_entities, mask

_TRAINED = ("intent", "sentiment", "reactive", "platform")


@dataclass
class FeedbackMerge:
    """The merged training rows and what the feedback store added to them."""

    records: list[dict[str, Any]]
    added: int = 0  # new rows: corrected messages that were not in the corpus
    corrected: int = 0  # corpus rows whose labels an agent changed
    history: list[dict[str, Any]] = field(default_factory=list)  # used templates and articles, as history
    skipped: list[str] = field(default_factory=list)
    digest: str = ""  # SHA-256 of the corrections and history, so the model's data hash covers them


def text_key(text: str) -> str:
    """The text as the store keeps it (PII masked), lower-cased with single spaces: the de-duplication key.

    Example:
        >>> text_key("Bel  me op 06-12345678")
        'bel me op {telefoon}'
    """
    return " ".join(mask(text, find_entities(text)).lower().split())


def _reconcile(row: dict[str, Any], corrected: dict[str, Any]) -> str | None:
    """Make reactive, platform and reply_expected agree with seed 002's rule; a reason when they cannot."""
    if "reply_expected" in corrected:
        want = bool(corrected["reply_expected"])
        rule = schema.reply_rule(intent=row["intent"], reactive=row["reactive"], platform=row["platform"])
        if want != rule:
            if row["intent"] == "other":
                return "a reply is expected, but intent 'other' never gets one"
            # The agent knows whether a reply was due; the reactive / platform guess of the model yields.
            row["reactive"] = want if "reactive" not in corrected else row["reactive"]
            if not want and "platform" not in corrected:
                row["platform"] = "consumer"
            if schema.reply_rule(intent=row["intent"], reactive=row["reactive"], platform=row["platform"]) != want:
                return "the corrected labels contradict the reply rule"
    row["reply_expected"] = schema.reply_rule(intent=row["intent"], reactive=row["reactive"], platform=row["platform"])
    return None


def merge_feedback(
    records: list[dict[str, Any]], store: FeedbackStore, *, engine: Engine, intents: tuple[str, ...] = schema.INTENTS
) -> FeedbackMerge:
    """Merge the store's label corrections into `records` (corrected rows replace their labels, new texts are
    added once) and collect the used suggestions as reply history."""
    corrections = store.corrections()
    history = [h for h in store.history() if h.get("used")]
    merged = FeedbackMerge(records=[dict(r) for r in records], history=history)
    merged.digest = hashlib.sha256(
        json.dumps([corrections, history], sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()
    index = {text_key(str(r.get("text", ""))): i for i, r in enumerate(merged.records)}
    new = [c for c in corrections if text_key(c["text"]) not in index]
    messages = [schema.check_message({"text": c["text"]}, default_id=str(c["id"])) for c in new]
    predicted = {c["id"]: p for c, p in zip(new, engine.analyze_many(messages), strict=True)}
    for correction in corrections:
        labels = {k: v for k, v in correction.items() if k in (*_TRAINED, "reply_expected")}
        if "intent" in labels and labels["intent"] not in intents:
            merged.skipped.append(f"{correction['id']}: intent {labels['intent']!r} is not in the label set")
            continue
        key = text_key(correction["text"])
        if key in index:
            row = merged.records[index[key]]
            before = {k: row.get(k) for k in (*_TRAINED, "reply_expected")}
        else:
            guess = predicted[correction["id"]]
            if "intent" not in labels and guess["intent"] not in intents:
                # The model that guessed the labels the agent left alone has another label set.
                merged.skipped.append(
                    f"{correction['id']}: no intent was corrected, and the model's guess {guess['intent']!r} is not "
                    "in the label set"
                )
                continue
            row = {"id": correction["id"], "text": correction["text"], **{k: guess[k] for k in _TRAINED}}
            before = None
        candidate = {**row, **labels}
        problem = _reconcile(candidate, labels)
        if problem:
            merged.skipped.append(f"{correction['id']}: {problem}")
            continue
        if before is None:
            candidate["_source"] = f"feedback:{correction['id']}"
            index[key] = len(merged.records)
            merged.records.append(candidate)
            merged.added += 1
        elif {k: candidate.get(k) for k in before} != before:
            row.update(candidate)
            merged.corrected += 1
    return merged


def open_store(path: str | Path) -> FeedbackStore:
    """The feedback store at `path`, which must exist (training from a store that is not there is a typo)."""
    if not Path(path).is_file():
        raise InputError(f"No feedback database at {path}: give the SQLite file the API's feedback endpoint writes.")
    return FeedbackStore(path)
