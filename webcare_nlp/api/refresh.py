"""Feedback into later rankings: the server rebuilds its ranker in the background after an agent's feedback.

A rebuild indexes the library and the whole feedback store again (and re-weights the ranker once the team
has enough history of its own), which takes about a second; requests meanwhile are ranked by the suggester
they had, and the new one is swapped in by one assignment (`Engine.refresh_suggester`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("webcare_nlp.api")


class SuggesterRefresher:
    """One rebuild at a time, on a thread of its own; feedback that arrives during a rebuild asks for one more,
    so the last feedback is always taken in and a burst of feedback costs at most two rebuilds."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.rebuilds = 0
        self.failures = 0
        self.idle = threading.Event()
        self.idle.set()
        self._lock = threading.Lock()
        self._wanted = False
        self._running = False
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        """Only an engine that reads a feedback store has something to take in."""
        return callable(getattr(self.engine, "refresh_suggester", None)) and bool(
            getattr(self.engine, "feedback_db", None)
        )

    def watch(self, interval: float) -> None:
        """Also look at the feedback store every `interval` seconds, for rows that other processes recorded
        (the server's other workers, `webcare feedback`); stops with `close`."""
        if not self.enabled or interval <= 0 or self._watcher is not None:
            return
        self._watcher = threading.Thread(target=self._watch, args=(interval,), name="webcare-watch", daemon=True)
        self._watcher.start()

    def close(self) -> None:
        self._stop.set()

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            if self._running:
                continue  # the rebuild under way may already hold the new rows; look again next time
            try:
                if self.engine.feedback_changed():
                    self.request()
            except Exception as exc:  # a locked or vanished store: look again next time
                log.warning("reading the feedback store failed: %s: %s", type(exc).__name__, exc)

    def request(self) -> None:
        """Ask for a rebuild with everything recorded up to now; returns at once."""
        if not self.enabled:
            return
        with self._lock:
            self._wanted = True
            if self._running:
                return
            self._running = True
            self.idle.clear()
        threading.Thread(target=self._run, name="webcare-refresh", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._wanted:
                    self._running = False
                    self.idle.set()
                    return
                self._wanted = False
            try:
                self.engine.refresh_suggester()
                self.rebuilds += 1
            except Exception as exc:  # the old suggester stays; the next feedback tries again
                self.failures += 1
                log.warning("rebuilding the ranker after feedback failed: %s: %s", type(exc).__name__, exc)
