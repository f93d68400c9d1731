"""A scoring run: read in chunks, score here or in worker processes or on Dask, write in order, checkpoint.

Every chunk's output and rejects are flushed before its checkpoint is written, so a killed run can be
resumed from the last checkpoint: whatever was written after it is cut off and scored again.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, ExitStack
from dataclasses import asdict
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from webcare_nlp.batch.chunks import (
    ChunkResult,
    Item,
    ScoreSettings,
    cached_engine,
    check_settings,
    init_worker,
    score_in_worker,
    scoring_here,
)
from webcare_nlp.batch.chunks import score_items as _score_items
from webcare_nlp.batch.formats import STDIO, detect_format
from webcare_nlp.batch.readers import Chunks, Position, input_size, message_ids, parquet_files, read_chunks
from webcare_nlp.batch.summary import ScoreSummary, SeenIds
from webcare_nlp.batch.writers import (
    START_OVER,
    RejectsWriter,
    check_resumable,
    check_working_file,
    open_writer,
    part_path,
)
from webcare_nlp.errors import InputError, WebcareError, check_not_input, check_output_file

if TYPE_CHECKING:
    from webcare_nlp.engine import Engine

STATE_VERSION = 1
Progress = Callable[[Position, ScoreSummary], None]


def rejects_path(output: str | Path) -> Path:
    return Path(f"{output}.rejects.jsonl")


def state_path(output: str | Path) -> Path:
    return part_path(Path(output), ".state.json")


def _fingerprint(source: str) -> dict[str, Any]:
    files = parquet_files(source) if Path(source).is_dir() else [Path(source)]
    stats = [f.stat() for f in files]
    return {
        "path": str(Path(source).resolve()),
        "bytes": sum(s.st_size for s in stats),
        "mtime_ns": max(s.st_mtime_ns for s in stats),
    }


# What a checkpoint holds; a state file without it is damaged, and resuming from it would fail or lose lines.
_STATE_KEYS: dict[str, type] = {
    "source": dict,
    "settings": dict,
    "format": str,
    "position": dict,
    "output": dict,
    "rejects": int,
    "summary": dict,
}


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _damage(state: dict[str, Any]) -> str | None:
    """What is missing from a state file or of the wrong type, or None when it can be resumed from."""
    wrong = [key for key, kind in _STATE_KEYS.items() if not isinstance(state.get(key), kind)]
    if wrong:
        return f"{', '.join(wrong)} missing or of the wrong type"
    written = ("parts",) if state["format"] == "parquet" else ("bytes",)
    counts = {"position": ("offset", "line", "blank"), "summary": ("lines", "scored", "rejected"), "output": written}
    wrong = [f"{part}.{key}" for part, keys in counts.items() for key in keys if not _is_count(state[part].get(key))]
    if not _is_count(state["rejects"]):
        wrong.append("rejects")
    columns = state["output"].get("columns", False)
    if state["format"] == "csv" and not (columns is None or isinstance(columns, list)):
        wrong.append("output.columns")
    return f"{', '.join(wrong)} missing or not a count" if wrong else None


def _load_state(output: str, source: str, settings: ScoreSettings, fmt: str) -> dict[str, Any]:
    path = state_path(output)
    try:
        state: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: not JSON, or not UTF-8
        raise InputError(f"Cannot read the resume state {path}: {exc}; {START_OVER}.") from exc
    if not isinstance(state, dict) or "version" not in state:
        raise InputError(f"The resume state {path} is damaged (not a JSON object with a version); {START_OVER}.")
    if state["version"] != STATE_VERSION:
        raise InputError(f"{path} was written by another version; {START_OVER}.")
    damage = _damage(state)
    if damage:
        raise InputError(f"The resume state {path} is damaged ({damage}); {START_OVER}.")
    if state["source"] != _fingerprint(source):
        raise InputError(
            f"The unfinished run of {output} read another or a changed input ({state['source'].get('path')}); "
            "pass --overwrite to start again."
        )
    now = json.loads(json.dumps(asdict(settings)))
    if state["settings"] != now or state["format"] != fmt:
        then = state["settings"] if isinstance(state["settings"], dict) else {}
        changed = [f"{key} {then.get(key)!r} then, {new!r} now" for key, new in now.items() if then.get(key) != new]
        if state["format"] != fmt:
            changed.append(f"output format {state['format']} then, {fmt} now")
        raise InputError(
            f"The unfinished run of {output} used other settings ({'; '.join(changed) or 'another version'}); "
            "resume with the same options, or pass --overwrite to start again."
        )
    check_working_file(part_path(rejects_path(output)), state["rejects"])
    check_resumable(output, fmt, state["output"])
    return state


def check_paths(source: str, output: str, *, overwrite: bool, resume: bool) -> None:
    """Refuse a missing input, a missing output folder and an output that would be lost, with what to do."""
    if source != STDIO and not Path(source).exists():
        raise InputError(f"No such input file: {source}")
    if resume and source == STDIO:
        raise InputError("--resume needs an input file; standard input cannot be read again.")
    if output == STDIO:
        if resume:
            raise InputError("--resume needs an output file; standard output cannot be resumed.")
        return
    path = Path(output)
    check_output_file(path)
    # The run writes (and may remove) the output, its rejects and their working files: none may be the input.
    check_not_input(
        source, [path, rejects_path(output), part_path(path), part_path(rejects_path(output)), state_path(output)]
    )
    unfinished = state_path(output).exists()
    if overwrite or (resume and unfinished):
        return
    if resume and path.exists():
        raise InputError(f"{path} is complete (there is no unfinished run to resume); pass --overwrite to redo it.")
    if unfinished:
        raise InputError(f"An unfinished run of {path} is there: pass --resume to continue it, or --overwrite.")
    if path.exists():
        raise InputError(f"{path} exists already; pass --overwrite to replace it (or --resume an unfinished run).")


# -- executors: each maps chunks to ChunkResults, in input order ----------------------------------------
def _in_process(engine: Engine, settings: ScoreSettings, chunks: Chunks) -> Iterator[tuple[ChunkResult, Position]]:
    with scoring_here():
        for items, position in chunks:
            yield _score_items(engine, items, settings), position


def ordered(submit: Callable[[list[Item]], Any], chunks: Chunks, depth: int) -> Iterator[tuple[ChunkResult, Position]]:
    """Results of `submit` (futures) in input order, with at most `depth` chunks in flight (flat memory)."""
    pending: deque[tuple[Any, Position]] = deque()
    for items, position in chunks:
        pending.append((submit(items), position))
        if len(pending) >= depth:
            future, done_at = pending.popleft()
            yield future.result(), done_at
    while pending:
        future, done_at = pending.popleft()
        yield future.result(), done_at


def _process_pool(workers: int, settings: ScoreSettings) -> ProcessPoolExecutor:
    # Not fork: the parent may run threads (progress bar), which fork does not copy safely. A fork server
    # imports spaCy and scikit-learn once and forks the workers from there; spawn would import them per worker.
    # The parent itself only reads and writes, and does not import them at all: that would add its 2 s to
    # the fork server's before the first worker starts.
    context: BaseContext
    if "forkserver" in get_all_start_methods():
        context = get_context("forkserver")
        context.set_forkserver_preload(["webcare_nlp.engine", "webcare_nlp.batch.chunks"])
    else:  # pragma: no cover - Windows
        context = get_context("spawn")
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=init_worker, initargs=(settings, os.getpid())
    )


def _check_arguments(settings: Any, chunk_size: Any, workers: Any) -> None:
    """The Python API's arguments of the wrong type, named here rather than as a TypeError deep inside."""
    if settings is not None and not isinstance(settings, ScoreSettings):
        raise InputError(f"settings must be a ScoreSettings, not {type(settings).__name__}: ScoreSettings(top_k=1).")
    for name, value in (("chunk_size", chunk_size), ("workers", workers)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InputError(f"{name} must be a whole number, not {value!r}.")


def score_file(
    source: str,
    output: str,
    *,
    settings: ScoreSettings | None = None,
    engine: Engine | None = None,
    overwrite: bool = False,
    resume: bool = False,
    chunk_size: int = 1000,
    workers: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> ScoreSummary:
    """Score a JSONL, CSV or Parquet file (or "-", JSON Lines on standard input) into `output`.

    Args:
        source: the input path; a folder is a partitioned Parquet data set.
        output: the output path (`.jsonl`, `.csv`, `.parquet`) or "-" for JSON Lines on standard output.
        settings: engine and output settings (model, library, top-k, kept input fields).
        engine: an engine to use in this process (one worker, local executor); loaded when None.
        overwrite: replace an existing output.
        resume: continue an unfinished run of the same input, output and settings.
        chunk_size: messages per chunk (the unit of work, of checkpoints and of memory).
        workers: worker processes (local) or, for Dask without a scheduler, local Dask workers.
        executor: "local" or "dask".
        scheduler: the address of a Dask scheduler; without it a LocalCluster is started.
        progress: called after every chunk with the input position and the running summary.

    Returns:
        The summary; `lines == scored + rejected` (blank lines are counted apart). Lines whose id an
        earlier line had are scored all the same, and counted in `repeated_ids`.
    """
    _check_arguments(settings, chunk_size, workers)
    in_fmt, out_fmt = detect_format(source, role="input"), detect_format(output, role="output")
    settings = settings or ScoreSettings()
    settings = ScoreSettings(**{**asdict(settings), "table": out_fmt != "jsonl"})
    check_paths(source, output, overwrite=overwrite, resume=resume)
    library_warnings: list[str] = []
    if engine is None and not scheduler:  # a remote cluster's workers may see other files than this machine
        library_warnings = check_settings(settings)
    state = _load_state(output, source, settings, out_fmt) if resume and state_path(output).exists() else None

    summary = ScoreSummary.from_dict(state["summary"]) if state else ScoreSummary()
    summary.warnings = library_warnings
    summary.resumed_at = summary.lines
    start = Position.from_dict(state["position"]) if state else None
    seen = SeenIds()
    if start is not None:  # the ids scored before, read again from the input (a state file holds no ids)
        summary.note_repeats(seen.repeats(message_ids(source, in_fmt, through=start.line)))
    chunks = read_chunks(source, in_fmt, chunk_size=chunk_size, start=start)
    first = next(chunks)  # reads the header or schema, so a bad input fails before workers start
    chunks = itertools.chain([first], chunks)

    to_file = output != STDIO
    if to_file and state is None:
        _remove_working_files(output)  # leftovers of a run that --overwrite replaces
    rejects = RejectsWriter(rejects_path(output) if to_file else None, at=state["rejects"] if state else None)
    writer = open_writer(output, out_fmt, state=state["output"] if state else None)
    base = {"version": STATE_VERSION, "format": out_fmt, "settings": asdict(settings)}
    if to_file and source != STDIO:
        base["source"] = _fingerprint(source)
    checkpointed = state is not None
    started = time.perf_counter()
    try:
        with ExitStack() as stack:
            results = _results(stack, chunks, settings, engine, workers, executor, scheduler)
            for chunk, position in results:
                writer.write(chunk)
                rejects.write(chunk.rejects)
                summary.add(lines=chunk.lines, scored=chunk.scored, rejected=len(chunk.rejects), counts=chunk.counts)
                summary.note_repeats(seen.repeats(chunk.ids))
                summary.blank = position.blank
                summary.seconds = time.perf_counter() - started
                if "source" in base:
                    checkpointed |= _checkpoint(output, base, position, writer.checkpoint(), rejects, summary)
                if progress is not None:
                    progress(position, summary)
    except BaseException as exc:
        writer.abort()
        rejects.abort()
        if not checkpointed and to_file:
            _remove_working_files(output)
        if isinstance(exc, BrokenProcessPool):
            hint = " Run again with --resume to continue." if checkpointed else ""
            raise WebcareError(
                f"A worker process died at line {summary.lines + 1}: out of memory, or (from a Python script) "
                'the script does not guard its entry point with `if __name__ == "__main__":`, which worker '
                f"processes need because they import it again.{hint}"
            ) from exc
        raise
    writer.finish()
    rejects.finish()
    if to_file:
        state_path(output).unlink(missing_ok=True)
    summary.seconds = time.perf_counter() - started
    return summary


def _results(
    stack: ExitStack,
    chunks: Chunks,
    settings: ScoreSettings,
    engine: Engine | None,
    workers: int,
    executor: str,
    scheduler: str | None,
) -> Iterator[tuple[ChunkResult, Position]]:
    if executor == "dask":
        from webcare_nlp.batch.on_dask import dask_client, dask_submitter

        client = stack.enter_context(dask_client(scheduler, workers=workers, settings=settings))
        submit, depth = dask_submitter(client, settings)
        return ordered(submit, chunks, depth)
    if executor != "local":
        raise InputError(f"Unknown engine {executor!r}; use local or dask.")
    if workers <= 1:
        return _in_process(engine or cached_engine(settings), settings, chunks)
    pool: AbstractContextManager[ProcessPoolExecutor] = _process_pool(workers, settings)
    running = stack.enter_context(pool)
    return ordered(lambda items: running.submit(score_in_worker, items), chunks, depth=2 * workers)


def _checkpoint(
    output: str,
    base: dict[str, Any],
    position: Position,
    written: dict[str, Any] | None,
    rejects: RejectsWriter,
    summary: ScoreSummary,
) -> bool:
    """Write the resume state (atomically) when the writer is at a point it can be reopened at."""
    if written is None:
        return False
    state = {
        **base,
        "position": position.as_dict(),
        "output": written,
        "rejects": rejects.checkpoint(),
        "summary": summary.as_dict(),
    }
    path = state_path(output)
    scratch = path.with_name(path.name + ".new")
    scratch.write_text(json.dumps(state), encoding="utf-8")
    os.replace(scratch, path)
    return True


def _remove_working_files(output: str) -> None:
    import shutil

    path = Path(output)
    for suffix in (".part", ".state.json"):
        part_path(path, suffix).unlink(missing_ok=True)
    part_path(rejects_path(output)).unlink(missing_ok=True)
    shutil.rmtree(part_path(path, ".parts"), ignore_errors=True)


def total_for_progress(source: str) -> int | None:
    """What the positions given to `progress` count towards: bytes of a JSONL or CSV file, rows of Parquet."""
    return input_size(source, detect_format(source, role="input"))
