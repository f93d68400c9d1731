"""GET (or HEAD) /health, /version and /topics: what the server runs and knows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from webcare_nlp import __version__
from webcare_nlp.api.services import Services, get_services

public = APIRouter(tags=["meta"])
router = APIRouter(tags=["meta"])
ServicesDep = Annotated[Services, Depends(get_services)]


@public.get("/health", summary="Is the server up")
@public.head("/health", include_in_schema=False)  # for load balancers that check with HEAD
async def health(services: ServicesDep) -> dict[str, Any]:
    """Always open (no token), for load balancers and the page: what this server can do."""
    return {
        "status": "ok",
        "model": services.manifest().get("name"),
        "suggestions": services.can_suggest,
        "topics": bool(known_topics(services.engine)),
        "token_required": bool(services.settings.api_token),
        # The signature the server adds when the page gives none (it is on every reply sent anyway).
        "agent_initials": services.settings.agent_initials.lstrip("^"),
        "batches": {"count": services.batcher.batches, "messages": services.batcher.items},
        "feedback_rebuilds": {"done": services.refresher.rebuilds, "failed": services.refresher.failures},
    }


@router.get("/version", summary="The versions and the model manifest")
@router.head("/version", include_in_schema=False)
async def version(services: ServicesDep) -> dict[str, Any]:
    """The package version and the model's manifest (versions, labels, data hash, metrics, file hashes)."""
    manifest = services.manifest()
    manifest.pop("path", None)  # a server path is nobody's business
    return {"webcare_nlp": __version__, "model": manifest}


@router.get("/topics", summary="The FAQ topics the model knows")
@router.head("/topics", include_in_schema=False)
async def topics(services: ServicesDep) -> dict[str, Any]:
    """Each topic's id and label; an empty list (with a note) when the model has no topic model."""
    found = known_topics(services.engine)
    note = None if found else "This model has no topic model: messages get topic null."
    return {"topics": found, "note": note}


def known_topics(engine: Any) -> list[dict[str, Any]]:
    """The engine's topics as `{"id", "label", ...}` dicts, or [] when it has none."""
    lister = getattr(engine, "topics", None)
    if callable(lister):
        return [dict(t) for t in lister()]
    model = getattr(engine, "topic_model", None)
    labels = getattr(model, "labels_", None) or getattr(model, "topic_labels_", None)
    if isinstance(labels, dict):
        return [{"id": str(k), "label": str(v)} for k, v in labels.items()]
    return []
