"""Coverage gaps: topics that no reply template or help article matches, biggest first."""

from __future__ import annotations

from typing import Any

import numpy as np

from webcare_nlp.schema import company_key
from webcare_nlp.text.pipeline import TextPipeline
from webcare_nlp.topics.model import TopicModel

# A document covers a topic when it is at least as close to the topic's centre as this share of the
# topic's own outer members (its floor); documents are longer than messages, so somewhat less close.
COVER_SHARE = 0.5


def document_text(document: dict[str, Any]) -> str:
    """The words of a template or article that say what it is about."""
    tags = document.get("tags") or []
    parts = [document.get("title"), document.get("text"), document.get("summary"), " ".join(map(str, tags))]
    return " ".join(str(p) for p in parts if p)


def coverage(
    model: TopicModel,
    documents: list[dict[str, Any]],
    *,
    text_pipeline: TextPipeline,
    volumes: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """For every active topic: the best matching template or article, its score, and whether it covers it.

    `documents` are templates (`id`) and articles (`url`); one with a `company` only covers that
    company's topics. The list is sorted: uncovered topics first, by volume.
    """
    topics = model.active_topics()
    if not topics:
        return []
    rows: list[dict[str, Any]] = []
    best = np.zeros(len(topics))
    best_index = np.full(len(topics), -1)
    usable = [d for d in documents if document_text(d).strip()]
    if usable:
        processed = text_pipeline.process_many(
            [document_text(d) for d in usable], langs=[d.get("lang") for d in usable]
        )
        similarity = np.asarray((model.vectorizer_.transform(processed) @ model.centroids_.T).todense())
        owners = [company_key(d.get("company")) for d in usable]
        for j, topic in enumerate(topics):
            allowed = [owner in (None, company_key(topic.company)) or topic.company is None for owner in owners]
            column = np.where(allowed, similarity[:, j], -1.0)
            best_index[j] = int(np.argmax(column))
            best[j] = float(column[best_index[j]])
    for j, topic in enumerate(topics):
        # Nothing of the topic's own company (or of none) shares a word with it: no closest document.
        document = usable[best_index[j]] if best_index[j] >= 0 and best[j] > 0 else None
        covered = bool(document is not None and best[j] > 0 and best[j] >= COVER_SHARE * model.floors_[j])
        rows.append(
            {
                "topic": topic.id,
                "label": topic.label,
                "size": (volumes or {}).get(topic.id, topic.size),
                "covered": covered,
                "best_match": (document.get("id") or document.get("url")) if document else None,
                "best_title": document.get("title") if document else None,
                "score": round(max(best[j], 0.0), 3),
            }
        )
    rows.sort(key=lambda r: (r["covered"], -r["size"], r["topic"]))
    return rows
