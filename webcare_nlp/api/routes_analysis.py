"""POST /analyze, /suggest and /score: the engine's labels and ranked suggestions over HTTP."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from webcare_nlp import schema
from webcare_nlp.api.schemas import MessageIn, ScoreIn, SuggestIn
from webcare_nlp.api.security import mask_for_log
from webcare_nlp.api.services import Services, get_services

log = logging.getLogger("webcare_nlp.api")
router = APIRouter(tags=["analysis"])
ServicesDep = Annotated[Services, Depends(get_services)]

EXAMPLE = {
    "id": "m1",
    "lang": "nl",
    "intent": "complaint",
    "intent_scores": {"complaint": 0.81, "request": 0.1},
    "sentiment": "negative",
    "sentiment_scores": {"negative": 0.9, "neutral": 0.08, "positive": 0.02},
    "reactive": True,
    "reactive_probability": 0.93,
    "platform": "consumer",
    "platform_inferred": True,
    "reply_expected": True,
    "reply_reason": "reactive message on a consumer platform: reply",
    "needs_review": False,
    "topic": None,
    "topic_label": None,
    "suggestions": [],
    "masked_text": "@SkyHop koffer kwijt, boeking {boekingscode}",
    "entities": [{"kind": "boekingscode", "text": "K7PQ2R"}],
}
_DOC: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {"example": EXAMPLE}}}}


def _message(body: MessageIn) -> dict[str, Any]:
    return schema.check_message(body.fields(), default_id=f"api-{uuid.uuid4().hex[:12]}")


def _log(kind: str, result: dict[str, Any]) -> None:
    # Only the masked text reaches the logs: no names, numbers or addresses.
    if not log.isEnabledFor(logging.INFO):
        return
    log.info(
        "%s id=%s intent=%s reply=%s text=%r",
        kind,
        mask_for_log(result.get("id"), limit=40),
        result.get("intent"),
        result.get("reply_expected"),
        mask_for_log(result.get("masked_text", "")),
    )


async def _suggest(services: Services, message: dict[str, Any], *, top_k: int, always: bool) -> dict[str, Any]:
    if not services.can_suggest:
        raise HTTPException(
            503, "Suggestions are not available: this model has no ranker (retrain it with `webcare train`)."
        )
    engine = services.engine

    def run(messages: Any) -> list[dict[str, Any]]:
        # The reasons as data too: the agents' page words them in Dutch.
        result: list[dict[str, Any]] = engine.suggest_many(messages, top_k=top_k, always=always, explain=True)
        return result

    result: dict[str, Any] = await services.batcher.submit(("suggest", top_k, always), run, message)
    return result


@router.post("/analyze", responses=_DOC, summary="Label one message")
async def analyze(body: MessageIn, services: ServicesDep) -> JSONResponse:
    """Intent, sentiment, reactive, platform, the reply decision with its reason, and the masked text."""
    result = await services.batcher.submit("analyze", services.engine.analyze_many, _message(body))
    _log("analyze", result)
    return JSONResponse(result)


@router.post("/suggest", responses=_DOC, summary="Label one message and rank reply suggestions")
async def suggest(body: SuggestIn, services: ServicesDep) -> JSONResponse:
    """The analysis plus `suggestions`: filled-in templates and articles, best first, each with its reason."""
    result = await _suggest(services, _message(body), top_k=body.top_k, always=body.always)
    _log("suggest", result)
    return JSONResponse(result)


@router.post("/score", summary="Label a small batch of messages")
async def score(body: ScoreIn, services: ServicesDep) -> JSONResponse:
    """Every message's analysis (with suggestions when `suggest` is true), in order, as `results`."""
    limit = services.settings.max_batch
    if len(body.messages) > limit:
        too_many = (
            f"{len(body.messages)} messages, but this server takes at most {limit} per request "
            "(its max_batch setting): send them in smaller batches."
        )
        raise RequestValidationError([{"loc": ("body", "messages"), "msg": too_many, "type": "too_long"}])
    messages = [schema.check_message(m.fields(), default_id=str(i)) for i, m in enumerate(body.messages, start=1)]
    if body.suggest:
        jobs = [_suggest(services, m, top_k=body.top_k, always=False) for m in messages]
    else:
        jobs = [services.batcher.submit("analyze", services.engine.analyze_many, m) for m in messages]
    results = await asyncio.gather(*jobs)
    log.info("score messages=%d suggest=%s", len(results), body.suggest)
    return JSONResponse({"results": results})
