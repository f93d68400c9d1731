"""Suggestions for messages: rank the library, keep the top ones that differ, fill them in, say why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

import numpy as np

from webcare_nlp.rank.fill import fill_template
from webcare_nlp.rank.index import Candidates, LibraryIndex, Query, lemma_forms
from webcare_nlp.rank.library import Article, Library, Template
from webcare_nlp.rank.ranker import RankerSet
from webcare_nlp.text.pii import find_entities, mask

# What the reasons draw on: the message's lemmas (with the words that gave them) and its similarity to
# every past message.
Evidence = tuple[dict[str, str], np.ndarray]
# Two templates this alike (character n-gram cosine) are one suggestion for the agent.
NEAR_DUPLICATE = 0.8


@dataclass(frozen=True)
class Request:
    """One message to suggest for, with what filling in and channel fit need."""

    query: Query
    author: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    intent: str | None = None
    # The signature of the agent who asks, over the suggester's default (the page's own field).
    initials: str | None = None


class Suggester:
    """Ranks one library with learned rankers.

    Args:
        library: the team's templates, articles and history.
        rankers: the learned weights and thresholds (shipped with the model).
        initials: the agent's initials for `{initialen}`.
        history_topics: each past message's FAQ topic, when the model has a saved topic model.
    """

    def __init__(
        self,
        library: Library,
        rankers: RankerSet,
        *,
        initials: str = "",
        history_topics: Sequence[str | None] | None = None,
    ) -> None:
        self.library = library
        self.rankers = rankers
        self.initials = initials
        self.index = LibraryIndex(library, history_topics=history_topics)

    def suggest_many(
        self, requests: Sequence[Request], *, top_k: int = 3, abstain: bool = True, explain: bool = False
    ) -> list[list[dict[str, Any]]]:
        """Up to `top_k` templates and `top_k` articles per message, best first, each kind above its threshold.

        With `explain`, each suggestion also carries its reasons as data (`why_parts`, and `advice_parts`
        when it is too long for the channel), so that a user interface can word them in its own language.
        """
        word, char = self.index.vectorize([r.query.text for r in requests])
        candidate_sets = self.index.features(
            [r.query for r in requests], sentiment_profile=self.rankers.sentiment_profile, vectors=(word, char)
        )
        kinds = [kind for kind in ("article", "template") if kind in self.rankers.rankers]
        ranked = {kind: self._ranked(kind, [c.get(kind) for c in candidate_sets], top_k) for kind in kinds}
        out: list[list[dict[str, Any]]] = []
        for m, (request, candidates) in enumerate(zip(requests, candidate_sets, strict=True)):
            picked: list[dict[str, Any]] = []
            best_article = None
            words = lemma_forms(request.query.text)  # for the reasons: once per message, not per suggestion
            for kind in kinds:
                top = ranked[kind][m]
                if top is None:
                    continue
                chosen = self._choose(kind, candidates[kind], top, top_k=top_k, abstain=abstain)
                history_similarity = candidates[kind].history_similarity
                if kind == "article" and chosen:
                    best_article = self.library.articles[chosen[0][0]].url
                picked.extend(
                    self._render(kind, i, score, request, best_article, (words, history_similarity), explain)
                    for i, score in chosen
                )
            # Templates first: they are the reply; articles are links to put in it.
            out.append(sorted(picked, key=lambda s: (s["kind"] != "template", -s["score"])))
        return out

    def _ranked(
        self, kind: str, sets: Sequence[Candidates | None], top_k: int
    ) -> list[tuple[list[int], list[float]] | None]:
        """Per message its best 4 * top_k candidates (library indices and scores), best first.

        The messages with as many candidates are scored with one product and sorted with one sort: the
        scores are those of a product per message to the bit (a stacked matmul runs the same product per
        message), and a stable sort has one outcome.
        """
        ranker = self.rankers.rankers[kind]
        out: list[tuple[list[int], list[float]] | None] = [None] * len(sets)
        by_size: dict[int, list[int]] = {}
        for m, candidates in enumerate(sets):
            if candidates is not None:
                by_size.setdefault(len(candidates.features), []).append(m)
        for members in by_size.values():
            scores = ranker.score_rows(np.stack([cast(Candidates, sets[m]).features for m in members]))
            order = np.argsort(-scores, axis=1, kind="stable")[:, : 4 * top_k]
            top = np.take_along_axis(scores, order, axis=1).tolist()
            for m, rows, values in zip(members, order, top, strict=True):
                out[m] = (cast(Candidates, sets[m]).indices[rows].tolist(), values)
        return out

    def _choose(
        self, kind: str, candidates: Candidates, top: tuple[list[int], list[float]], *, top_k: int, abstain: bool
    ) -> list[tuple[int, float]]:
        threshold = self.rankers.rankers[kind].threshold_for(candidates.features)
        chosen: list[tuple[int, float]] = []
        for index, score in zip(*top, strict=True):
            if len(chosen) == top_k or (abstain and not score >= threshold):
                break  # in score order, so no later one is above the threshold either
            if any(self.index.similarity(kind, index, other) >= NEAR_DUPLICATE for other, _ in chosen):
                continue
            chosen.append((index, score))
        return chosen

    def _render(
        self,
        kind: str,
        index: int,
        score: float,
        request: Request,
        link: str | None,
        evidence: Evidence,
        explain: bool = False,
    ) -> dict[str, Any]:
        item: Template | Article = self.index.items[kind][index]
        parts = self._why(kind, index, item, request, evidence)
        why = "; ".join(reason_in_english(part) for part in parts) or "closest match in the library"
        extra: dict[str, Any] = {"why_parts": parts} if explain else {}
        if isinstance(item, Template):
            filled = fill_template(
                item.text,
                name=request.author,
                initials=request.initials or self.initials,
                entities=request.entities,
                channel=request.query.channel,
                link=link,
            )
            return {
                "kind": kind,
                "id": item.id,
                "score": round(score, 4),
                "title": item.title,
                **filled.as_dict(),
                "why": why,
                **extra,
                **({"advice_parts": filled.advice_parts()} if explain and not filled.fits_channel else {}),
            }
        return {
            "kind": kind,
            "id": item.url,
            "url": item.url,
            "score": round(score, 4),
            "title": item.title,
            "why": why,
            **extra,
        }

    def _why(
        self, kind: str, index: int, item: Template | Article, request: Request, evidence: Evidence
    ) -> list[dict[str, Any]]:
        """The reasons for one suggestion as data: `reason_in_english` words them for `why`, a page in its language."""
        words, history_similarity = evidence
        parts: list[dict[str, Any]] = []
        if isinstance(item, Template) and request.intent and request.intent in item.intents:
            parts.append({"reason": "intent", "intent": request.intent})
        terms = self.index.shared_terms(kind, index, words.keys())
        if terms:
            parts.append({"reason": "terms", "terms": [words[term] for term in terms]})
        similar, closest = self.index.similar_history(kind, index, history_similarity)
        if closest is not None:
            # The example is a past customer's message: show it masked, like everything else.
            example = _masked(closest)
            example = shortened(example)
            parts.append({"reason": "history", "count": similar, "example": example})
        uses = int(self.index.usage[kind][index])
        if uses:
            parts.append({"reason": "uses", "count": uses})
        if item.company:
            parts.append({"reason": "company", "company": item.company})
        return parts


def reason_in_english(part: dict[str, Any]) -> str:
    reason = part["reason"]
    if reason == "intent":
        return f"fits intent {part['intent']}"
    if reason == "terms":
        return "shares " + ", ".join(part["terms"])
    if reason == "history":
        return f'sent for {part["count"]} similar past message(s), e.g. "{part["example"]}"'
    if reason == "uses":
        return f"used {part['count']}x before"
    return f"{part['company']}'s own"


def shortened(text: str, limit: int = 60) -> str:
    """`text` cut to `limit` characters with "...", never inside a placeholder ("{referent..." reads as a leak).

    Example:
        >>> shortened("Mijn bestelling met referentie nummer {referentie} is er nog steeds niet")
        'Mijn bestelling met referentie nummer {referentie} is er...'
        >>> shortened("Hoi, waar blijft mijn pakket met barcode en {trackingcode} nou eigenlijk?")
        'Hoi, waar blijft mijn pakket met barcode en...'
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 3]
    opened = cut.rfind("{")
    return (cut[:opened] if opened > cut.rfind("}") else cut).rstrip() + "..."


# The same few past messages are shown as examples again and again: mask each once.
@lru_cache(maxsize=4096)
def _masked(text: str) -> str:
    return mask(text, find_entities(text))
