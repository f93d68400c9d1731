"""POST /feedback: what the agent did with a suggestion, stored in SQLite for the ranker and training."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from starlette.concurrency import run_in_threadpool

from webcare_nlp.api.schemas import FeedbackIn
from webcare_nlp.api.security import mask_for_log
from webcare_nlp.api.services import Services, get_services

log = logging.getLogger("webcare_nlp.api")
router = APIRouter(tags=["feedback"])


@router.post("/feedback", status_code=201, summary="Record that a suggestion was used, edited or rejected")
async def feedback(body: FeedbackIn, services: Annotated[Services, Depends(get_services)]) -> dict[str, Any]:
    """Store the agent's action; used and edited replies feed the ranker's history, label corrections training."""
    store = services.feedback_store()
    fields = body.model_dump(exclude_none=True)
    if body.labels is not None:
        fields["labels"] = body.labels.model_dump(exclude_none=True)
        known = [str(label) for label in services.engine.models["intent"].classes_]
        if body.labels.intent and body.labels.intent not in known:  # a team model has its own intents
            detail = f"Unknown intent {body.labels.intent!r}; this model's intents are: {', '.join(known)}."
            raise HTTPException(422, f"labels.intent: {detail}")
    record: dict[str, Any] = await run_in_threadpool(lambda: store.record(**fields))
    if isinstance(record.get("labels"), str):  # stored as JSON text; answered as the object that was sent
        record = {**record, "labels": json.loads(record["labels"])}
    # Every recorded suggestion joins the ranker's history: rebuild it in the background, so that later
    # rankings take it in (the response does not wait for that).
    services.refresher.request()
    log.info("feedback action=%s suggestion=%s", body.action, mask_for_log(body.suggestion_id, limit=80))
    return record
