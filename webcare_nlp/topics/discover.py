"""One topic run over an archive: select the questions, fit the topics, follow them over time, find gaps."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from webcare_nlp.errors import InputError
from webcare_nlp.schema import check_messages
from webcare_nlp.text.pipeline import TextPipeline
from webcare_nlp.topics.coverage import coverage
from webcare_nlp.topics.model import Topic, TopicModel
from webcare_nlp.topics.trends import Trends, outside_bulk, parse_time, topic_trends

# Praise, suggestions and spam are not FAQ material; the issue asks for questions, requests, complaints.
FAQ_INTENTS = ("question", "request", "complaint")


@dataclass
class TopicRun:
    """What `discover_topics` found: per-message topics, the topics, their trends and coverage."""

    model: TopicModel
    ids: list[str]
    topics_of_messages: list[str | None]
    selected: list[bool]
    trends: Trends | None
    coverage: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)

    @property
    def topics(self) -> list[Topic]:
        return self.model.topics_

    def assignments(self) -> list[dict[str, Any]]:
        """One output line per message: `{"id", "topic", "topic_label"}` (topic None: no topic)."""
        labels = self.model.labels()
        return [
            {"id": i, "topic": t, "topic_label": labels.get(t) if t else None}
            for i, t in zip(self.ids, self.topics_of_messages, strict=True)
        ]

    def summary(self) -> dict[str, Any]:
        n = len(self.ids)
        n_selected = sum(self.selected)
        assigned = Counter(t for t in self.topics_of_messages if t is not None)
        unassigned = n_selected - sum(assigned.values())
        largest = max(assigned.values(), default=0)
        return {
            "messages": n,
            "clustered": n_selected,
            "topics": len(self.model.active_topics()),
            "stale_topics": sum(t.stale for t in self.topics),
            "unassigned": unassigned,
            "unassigned_share": round(unassigned / n_selected, 4) if n_selected else None,
            "largest_topic_size": largest,
            "largest_topic_share": round(largest / n_selected, 4) if n_selected else None,
            "warnings": self.warnings,
            "topic_list": [t.as_dict() for t in self.topics],
            "trends": self.trends.as_dict() if self.trends else None,
            "coverage": self.coverage,
        }


def _shown(ids: list[Any]) -> str:
    """The first few ids, for a warning that stays one line."""
    return ", ".join(map(str, ids[:5])) + (", ..." if len(ids) > 5 else "")


def discover_topics(
    messages: list[dict[str, Any]],
    *,
    text_pipeline: TextPipeline | None = None,
    intents: list[str | None] | None = None,
    keep_intents: tuple[str, ...] | None = FAQ_INTENTS,
    model: TopicModel | None = None,
    previous: TopicModel | None = None,
    documents: list[dict[str, Any]] | None = None,
    bucket: str = "auto",
) -> TopicRun:
    """Find the FAQ topics of messages (raw dicts are checked as `schema.check_messages` does).

    Args:
        messages: the archive; `company` (topics per brand) and `created_at` (trends) are used when given.
        text_pipeline: the engine's text pipeline (a default one when None).
        intents: each message's intent (e.g. from `Engine.analyze_many`); a message's own `intent`
            field wins. Only `keep_intents` are clustered; None keeps every message.
        model: an unfitted TopicModel with the settings to use.
        previous: the saved topic model, whose ids are kept for topics that still exist.
        documents: templates and articles, to find the topics none of them covers.
        bucket: "day", "hour" or "auto" for the trends.

    Raises:
        InputError: there are no messages at all.
    """
    if not messages:
        raise InputError("The archive has no messages: give a file with at least one message with a 'text'.")
    messages = list(check_messages(messages))
    pipeline = text_pipeline or TextPipeline()
    warnings: list[str] = []
    given = intents if intents is not None else [None] * len(messages)
    final_intents = [m.get("intent") or g for m, g in zip(messages, given, strict=True)]
    if keep_intents is None or all(i is None for i in final_intents):
        selected = [True] * len(messages)
        keep_intents = None  # no intent chose them: a saved model gives every intent a topic
    else:
        selected = [i in keep_intents for i in final_intents]
    chosen = [m for m, keep in zip(messages, selected, strict=True) if keep]
    topic_model = model if model is not None else TopicModel()
    if not chosen:
        warnings.append(
            f"None of the {len(messages)} messages is a {', '.join(keep_intents or ())}: there is nothing to "
            "group into FAQ topics."
        )
    elif len(chosen) < max(topic_model.min_size, 2):
        warnings.append(
            f"Only {len(chosen)} message(s) to cluster; a topic needs at least {topic_model.min_size} "
            "(--min-size): no topics."
        )
    elif topic_model.n_topics is not None and topic_model.n_topics * topic_model.min_size > len(chosen):
        warnings.append(
            f"--n-topics {topic_model.n_topics} with --min-size {topic_model.min_size} needs at least "
            f"{topic_model.n_topics * topic_model.min_size} messages, and there are {len(chosen)} to cluster: "
            "most groups will be too small to be a topic. Give fewer topics, or let them be found."
        )
    processed = pipeline.process_many([m["text"] for m in chosen], langs=[m.get("lang") for m in chosen])
    companies = [m.get("company") for m in chosen]
    topic_model.fit(processed, companies=companies, previous=previous, intents=keep_intents)
    labels = iter(topic_model.labels_)
    topics_of_messages = [next(labels) if keep else None for keep in selected]
    times = [parse_time(m.get("created_at")) for m in messages]
    broken = [
        m["id"] for m in messages if m.get("created_at") not in (None, "") and parse_time(m["created_at"]) is None
    ]
    if broken:
        warnings.append(
            f"{len(broken)} message(s) have a created_at that is neither an ISO 8601 time nor a Unix time "
            f"(ids {_shown(broken)}); they are grouped into topics but left out of the trends."
        )
    outside = outside_bulk(times)
    if any(outside):
        far = [f"{m['id']} ({m['created_at']})" for m, out in zip(messages, outside, strict=True) if out]
        warnings.append(
            f"{len(far)} message(s) have a created_at cut off from the bulk of the archive by a year without "
            f"messages, probably mistyped (ids {_shown(far)}); they are grouped into topics but left out of the "
            "trends, which would otherwise span that gap."
        )
        times = [None if out else t for t, out in zip(times, outside, strict=True)]
    trends = topic_trends(topics_of_messages, times, bucket=bucket)
    if trends is None and chosen and any(t is not None for t in topics_of_messages):
        warnings.append("No message has a usable created_at: no trends or spikes.")
    volumes = Counter(t for t in topics_of_messages if t)
    gaps = coverage(topic_model, documents, text_pipeline=pipeline, volumes=volumes) if documents is not None else []
    found = sum(1 for t in topic_model.active_topics() if volumes[t.id])
    if topic_model.n_topics is not None and 0 < found < topic_model.n_topics:
        warnings.append(
            f"{found} topics found for the {topic_model.n_topics} asked (--n-topics): the other groups had fewer "
            f"than {topic_model.min_size} messages (--min-size), and their messages stay unassigned."
        )
    if topic_model.active_topics() and len(topic_model.active_topics()) == 1 and len(chosen) > 1:
        warnings.append("All clustered messages form one topic: they are (nearly) the same question.")
    return TopicRun(
        model=topic_model,
        ids=[m["id"] for m in messages],
        topics_of_messages=topics_of_messages,
        selected=selected,
        trends=trends,
        coverage=gaps,
        warnings=warnings,
    )


def write_run(run: TopicRun, output: Path | IO[str], summary: Path | None) -> None:
    """The per-message lines to `output` (a JSONL file or an open stream) and the summary JSON to `summary`."""
    if isinstance(output, Path):
        with output.open("w", encoding="utf-8") as handle:
            _write_lines(run, handle)
    else:
        _write_lines(run, output)
        output.flush()
    if summary is not None:
        Path(summary).write_text(json.dumps(run.summary(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_lines(run: TopicRun, handle: IO[str]) -> None:
    for line in run.assignments():
        handle.write(json.dumps(line, ensure_ascii=False) + "\n")
