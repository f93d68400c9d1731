"""What the routes share: the engine, the micro-batcher, the feedback store, built once per app."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request

from webcare_nlp.api.batcher import MicroBatcher
from webcare_nlp.api.refresh import SuggesterRefresher
from webcare_nlp.api.settings import Settings
from webcare_nlp.errors import InputError

log = logging.getLogger("webcare_nlp.api")


def check_database(settings: Settings) -> None:
    """Refuse an unusable feedback database (a folder, a file that is not SQLite) when the server starts,
    not on the first /feedback, which would answer an agent with the server's mistake."""
    try:
        from webcare_nlp.rank.feedback import FeedbackStore
    except ImportError:  # no ranker in this version: no feedback either
        return
    try:
        settings.database.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a part of the path is a file, or not writable
        raise InputError(f"Cannot create the folder of the feedback database {settings.database}: {exc}.") from None
    FeedbackStore(settings.database)


def load_engine(settings: Settings) -> Any:
    """The engine of `settings.model`, with the template library when the ranker is installed."""
    from webcare_nlp.engine import Engine

    loader: Any = Engine.load
    try:
        from webcare_nlp.rank.library import Library, shown_warnings
    except ImportError:  # suggestions are not built yet: analysis only
        return loader(settings.model)
    library = Library.load(
        templates=settings.templates,
        articles=settings.articles,
        history=settings.history,
        shared_by_history=settings.shared_by_history,
    )
    settings.database.parent.mkdir(parents=True, exist_ok=True)
    engine = loader(
        settings.model, library=library, feedback_db=settings.database, agent_initials=settings.agent_initials
    )
    # Skipped entries (file:line) and templates with an intent the model does not know, for whoever starts it.
    for warning in shown_warnings(library.warnings + library.intent_warnings(engine.models["intent"].classes_)):
        log.warning("library: %s", warning)
    return engine


@dataclass
class Services:
    """The per-app state the routes use (kept in `app.state.services`)."""

    settings: Settings
    engine: Any
    batcher: MicroBatcher = field(default_factory=MicroBatcher)
    refresher: SuggesterRefresher = field(init=False)
    _store: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.refresher = SuggesterRefresher(self.engine)

    @property
    def can_suggest(self) -> bool:
        # An engine whose model has no ranker (`rankers` None) can label but not suggest.
        return (
            callable(getattr(self.engine, "suggest_many", None)) and getattr(self.engine, "rankers", True) is not None
        )

    def feedback_store(self) -> Any:
        """The SQLite feedback store, created on first use (503 while the ranker is not installed)."""
        with self._lock:
            if self._store is None:
                try:
                    from webcare_nlp.rank.feedback import FeedbackStore
                except ImportError:
                    raise HTTPException(
                        503, "Feedback is not available in this version: the ranker is missing."
                    ) from None
                self.settings.database.parent.mkdir(parents=True, exist_ok=True)
                self._store = FeedbackStore(self.settings.database)
            return self._store

    def warm_up(self) -> None:
        """One call through every path before the first agent waits on it (caches, lazy indexes)."""
        message = {"id": "warm-up", "text": "Hoi, waar blijft mijn pakket? Ik wacht al een week.", "channel": None}
        try:
            self.engine.analyze_many([message])
            if self.can_suggest:
                self.engine.suggest_many([message], top_k=3, always=True)
        except Exception as exc:  # a warm-up failure shows again, with its message, on the first request
            log.warning("warm-up failed: %s", type(exc).__name__)

    def manifest(self) -> dict[str, Any]:
        return dict(getattr(self.engine, "manifest", {}) or {})


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
