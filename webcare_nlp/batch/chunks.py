"""Scoring one chunk of input lines, in whichever process runs it: here, a worker process or a Dask worker.

The engine is loaded once per process and cached, so workers never receive it with a task.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from threadpoolctl import threadpool_limits

from webcare_nlp import schema
from webcare_nlp.batch.formats import add_fields, table_row
from webcare_nlp.batch.summary import KEPT_FIELDS, count_labels
from webcare_nlp.errors import InputError, WebcareError
from webcare_nlp.records import Reject, parse_jsonl_line

if TYPE_CHECKING:  # the engine (scikit-learn, spaCy) is imported where chunks are scored, not where they are read
    from webcare_nlp.engine import Engine
    from webcare_nlp.rank.library import Library

# One input line: (line number, raw line, parsed record). A JSONL line comes as raw bytes and is parsed
# where it is scored; a CSV or Parquet row comes parsed (a dict, or a Reject when it could not be read).
Item = tuple[int, bytes | str | None, dict[str, Any] | Reject | None]


@dataclass(frozen=True)
class ScoreSettings:
    """Everything a process needs to build its engine and shape its output; small and picklable."""

    model: str | None = None
    templates: str | None = None
    articles: str | None = None
    history: str | None = None
    shared_by_history: bool = False
    top_k: int = 3
    always: bool = False
    suggest: bool = True  # the contract's scored line carries suggestions, as `webcare score` does
    fields: tuple[str, ...] = ()
    table: bool = False  # CSV or Parquet output: columns instead of JSON lines

    def __post_init__(self) -> None:
        # A single name given as a string would be kept letter by letter ("id" as "i", "d").
        if isinstance(self.fields, str) or not all(isinstance(name, str) for name in self.fields):
            raise InputError(f"fields must be a list of column names, not {self.fields!r}.")
        schema.check_top_k(self.top_k)

    def engine_key(self) -> tuple[Any, ...]:
        return (self.model, self.templates, self.articles, self.history, self.shared_by_history, self.suggest)


@dataclass
class ChunkResult:
    """A scored chunk: the output (JSON lines, or table columns), the rejects, the label counts and the
    (line, id) of every scored message, for the run to find ids that occur more than once."""

    lines: int
    scored: int
    text: str = ""
    columns: dict[str, list[Any]] = field(default_factory=dict)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    ids: list[tuple[int, str]] = field(default_factory=list)


_ENGINES: dict[tuple[Any, ...], Engine] = {}
_LOCK = threading.Lock()


def cached_engine(settings: ScoreSettings) -> Engine:
    """The engine for `settings`, loaded at most once per process (threads share it)."""
    key = settings.engine_key()
    with _LOCK:
        if key not in _ENGINES:
            engine = build_engine(settings)
            # Lingua's models and the English spaCy pipeline load on first use; do it here, once.
            engine.analyze_many([{"id": "1", "text": "Waar blijft mijn pakket?"}, {"id": "2", "text": "Where is it?"}])
            _ENGINES[key] = engine
        return _ENGINES[key]


def check_settings(settings: ScoreSettings) -> list[str]:
    """Refuse a missing or tampered model or a broken library before any process starts loading them.

    Returns the library's warnings (entries it skipped), which workers would otherwise keep to themselves.
    The library is read here in full: a few hundredths of a second for the default one, without scikit-learn
    or spaCy.
    """
    from webcare_nlp.persist import resolve_model_dir, verify_artefact

    # A tampered or incompatible model is named here once, not by every worker with its own traceback.
    manifest = verify_artefact(resolve_model_dir(settings.model))
    for kind, path in (
        ("templates", settings.templates),
        ("articles", settings.articles),
        ("history", settings.history),
    ):
        if path and not Path(path).exists():
            raise InputError(f"{path}: no such file or folder (the {kind}).")
    if not (settings.suggest and (settings.templates or settings.articles or settings.history)):
        return []
    library = _load_library(settings)
    return list(library.warnings) + library.intent_warnings(manifest.get("labels", {}).get("intent", ()))


def _load_library(settings: ScoreSettings) -> Library:
    from webcare_nlp.rank.library import Library

    return Library.load(
        templates=settings.templates,
        articles=settings.articles,
        history=settings.history,
        shared_by_history=settings.shared_by_history,
    )


def build_engine(settings: ScoreSettings) -> Engine:
    from webcare_nlp.engine import Engine

    library = None
    if settings.suggest and (settings.templates or settings.articles or settings.history):
        library = _load_library(settings)
    return Engine.load(settings.model, library=library)


def analyse(engine: Engine, messages: list[dict[str, Any]], settings: ScoreSettings) -> list[dict[str, Any]]:
    """The contract dicts of `messages`, with suggestions when the settings ask for them.

    A model without a ranker (trained before suggestions existed) gives none, unless a library was named.
    """
    if not messages:
        return []
    library_given = bool(settings.templates or settings.articles or settings.history)
    if settings.suggest and (engine.rankers is not None or library_given):
        return engine.suggest_many(messages, top_k=settings.top_k, always=settings.always)
    return engine.analyze_many(messages)


def validated(item: Item) -> dict[str, Any] | Reject:
    """One input line as a message checked against the schema, or a Reject saying what is wrong with it."""
    line, raw, record = item
    if record is None:
        return parse_jsonl_line(raw if isinstance(raw, bytes) else b"", line)
    if isinstance(record, Reject):
        return record
    try:
        return schema.check_message(record, default_id=str(line))
    except InputError as exc:
        text = raw if isinstance(raw, str) else json.dumps(record, ensure_ascii=False, default=str)
        return Reject(line, str(exc), text)


def score_items(engine: Engine, items: list[Item], settings: ScoreSettings) -> ChunkResult:
    """Validate, score and shape one chunk; every item ends up in the output or in the rejects, in order."""
    parsed = [validated(item) for item in items]
    messages = [p for p in parsed if not isinstance(p, Reject)]
    results = analyse(engine, messages, settings)
    if settings.fields:
        results = [add_fields(r, m, settings.fields) for r, m in zip(results, messages, strict=True)]
    chunk = ChunkResult(
        lines=len(items),
        scored=len(results),
        rejects=[p.as_dict() for p in parsed if isinstance(p, Reject)],
        counts=count_labels(results),
        ids=[(item[0], p["id"]) for item, p in zip(items, parsed, strict=True) if not isinstance(p, Reject)],
    )
    if settings.fields:
        # Which kept fields the input actually had: a misspelt name would otherwise give a silent null column.
        chunk.counts[KEPT_FIELDS] = Counter(name for m in messages for name in settings.fields if name in m)
    if settings.table:
        rows = [table_row(r) for r in results]
        names = list(dict.fromkeys(key for row in rows for key in row))
        chunk.columns = {name: [row.get(name) for row in rows] for name in names}
    else:
        # default=str: kept input fields may be dates or decimals (from Parquet), which JSON has no type for
        chunk.text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in results)
    return chunk


# -- how a scoring process runs ------------------------------------------------------------------------
# A process that scores chunk after chunk has one core to itself (the workers fill the others), so BLAS
# threads on the engine's small matrices only spin: one thread gives the same wall time alone and about
# 10 % more throughput with two workers. And the loaded engine's millions of long-lived objects are kept
# out of the garbage collector's full passes, which a chunk's short-lived dicts set off again and again.
# Both measured in benchmarks/README.md. The same holds for OpenMP, which the suggestion ranker's trees
# use on a batch's rows.
def _one_thread() -> threadpool_limits:
    return threadpool_limits(limits=1)


def _freeze_heap() -> None:
    gc.collect()
    gc.freeze()


def settle_worker() -> None:
    """For the rest of this (worker) process's life: one BLAS and OpenMP thread, the heap so far frozen."""
    _one_thread()
    _freeze_heap()


@contextmanager
def scoring_here() -> Iterator[None]:
    """The same settings for an in-process run only, given back afterwards (a notebook keeps its own)."""
    with _one_thread():
        _freeze_heap()
        try:
            yield
        finally:
            gc.unfreeze()


# -- worker processes ---------------------------------------------------------------------------------
_WORKER_SETTINGS: ScoreSettings | None = None
_WORKER_ERROR: WebcareError | None = None


def _exit_with(parent: int, every: float = 1.0) -> None:
    """End this worker when the process that started the pool is gone.

    A run stopped by SIGKILL (or an out-of-memory kill) gives its pool no chance to stop the workers: each
    would keep its engine, some hundreds of MB, for good. A daemon thread looks once a second.
    """

    def watch() -> None:
        while True:
            time.sleep(every)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # alive, under another user (a reused id would not be ours to signal)
                pass

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def init_worker(settings: ScoreSettings, parent: int | None = None) -> None:
    """Pool initializer: load the engine once in this worker process, which ends when `parent` does."""
    global _WORKER_SETTINGS, _WORKER_ERROR
    if parent is not None:
        _exit_with(parent)
    _WORKER_SETTINGS = settings
    try:
        cached_engine(settings)
    except WebcareError as exc:
        # A bad model or library: an initializer that raises only breaks the pool, and the parent would see a
        # dead worker instead of the reason. Each task raises it instead, and the parent reports it.
        _WORKER_ERROR = exc
        return
    settle_worker()


def score_in_worker(items: list[Item]) -> ChunkResult:
    if _WORKER_ERROR is not None:
        raise _WORKER_ERROR
    assert _WORKER_SETTINGS is not None, "init_worker did not run in this process"
    return score_items(cached_engine(_WORKER_SETTINGS), items, _WORKER_SETTINGS)


def score_on_dask(items: list[Item], settings: ScoreSettings) -> ChunkResult:
    """A Dask task: the settings are a few strings; the engine comes from this worker's cache."""
    return score_items(cached_engine(settings), items, settings)
