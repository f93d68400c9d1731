"""The `score` command: a whole file of messages, streaming, with a progress bar and a summary."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from webcare_nlp.cli._app import ModelOption, SharedByHistoryOption, app, fail, warn_skipped
from webcare_nlp.errors import WebcareError


@contextmanager
def _progress_bar(source: str, show: bool) -> Iterator[Any]:
    """A rich progress bar on standard error with rate and ETA, or nothing when it is not a terminal."""
    from webcare_nlp.batch import total_for_progress

    total = total_for_progress(source) if show else None
    if not show or not total:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    columns = (
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[lines]:,} lines  {task.fields[rate]:,.0f} msgs/s  ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("score", total=total, lines=0, rate=0.0)

        def update(position: Any, summary: Any) -> None:
            bar.update(task, completed=position.offset, lines=summary.lines, rate=summary.rate)

        yield update


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is."""


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """`kill` (SIGTERM, as a scheduler or `timeout` sends) stops the run as Ctrl-C does: the workers are shut
    down and the finished chunks stay for --resume."""

    def interrupt(signum: int, frame: Any) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command()
def score(
    source: Annotated[
        str, typer.Argument(metavar="IN", help="Messages: .jsonl, .csv, .parquet (or a folder of .parquet), or -.")
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Output .jsonl, .csv or .parquet, or - for JSONL on stdout.")
    ],
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output file.")] = False,
    resume: Annotated[bool, typer.Option(help="Continue an unfinished run of the same IN, OUT and options.")] = False,
    fields: Annotated[
        str | None, typer.Option(help="Input columns to keep in the output, comma-separated: author,created_at.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (or local Dask workers).", min=1, max=256)] = 1,
    chunk_size: Annotated[int, typer.Option(help="Messages per chunk.", min=1, max=100_000)] = 1000,
    engine: Annotated[str, typer.Option(help="Where to score: local (processes) or dask.")] = "local",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (tcp://host:8786); default: a LocalCluster.")
    ] = None,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Progress bar (default: on a terminal).")
    ] = None,
    templates: Annotated[str | None, typer.Option(help="Reply templates, .jsonl or .yaml (default: shipped).")] = None,
    articles: Annotated[str | None, typer.Option(help="Knowledge-base articles, .jsonl or .yaml.")] = None,
    history: Annotated[str | None, typer.Option(help="Reply history .jsonl: what agents sent before.")] = None,
    shared_by_history: SharedByHistoryOption = False,
    top_k: Annotated[
        int, typer.Option(help="Suggestions per kind (templates and articles each); 0 for none.", min=0, max=20)
    ] = 3,
    always: Annotated[bool, typer.Option(help="Suggest also where no reply is expected.")] = False,
    summary_json: Annotated[bool, typer.Option("--summary-json", help="Print the summary as JSON.")] = False,
    model: ModelOption = None,
) -> None:
    r"""Score every message of a file, streaming; unreadable lines go to OUT.rejects.jsonl.

    Lines in = lines out + lines rejected; blank lines hold no message and are only counted.

    The output keeps the input order and appears, complete, when the run ends; --resume continues a killed run.

    Example:

    webcare score mentions.jsonl --output scored.jsonl

    webcare score archive.csv --output scored.parquet --workers 2 \
        --fields author,created_at

    webcare score mentions/ --output scored.jsonl --engine dask \
        --scheduler tcp://10.0.0.5:8786
    """
    from webcare_nlp.batch import ScoreSettings, score_file

    kept = tuple(name.strip() for name in fields.split(",") if name.strip()) if fields else ()
    settings = ScoreSettings(
        model=model,
        templates=templates,
        articles=articles,
        history=history,
        shared_by_history=shared_by_history,
        top_k=top_k,
        always=always,
        suggest=top_k > 0,
        fields=kept,
    )
    show = sys.stderr.isatty() and output != "-" if progress is None else progress
    try:
        with _sigterm_as_interrupt(), _progress_bar(source, show) as update:
            summary = score_file(
                source,
                output,
                settings=settings,
                overwrite=overwrite,
                resume=resume,
                chunk_size=chunk_size,
                workers=workers,
                executor=engine,
                scheduler=scheduler,
                progress=update,
            )
    except WebcareError as exc:
        fail(str(exc))
    except KeyboardInterrupt as exc:
        from webcare_nlp.batch.run import state_path

        # Only a run that reached its first checkpoint (a Parquet output keeps one per row group) can resume.
        resumable = output != "-" and source != "-" and state_path(output).exists()
        typer.echo(f"interrupted{'; run again with --resume to continue' if resumable else ''}.", err=True)
        raise typer.Exit(code=143 if isinstance(exc, Terminated) else 130) from None
    warn_skipped(summary.warnings)
    if summary.lines == 0 and summary.blank == 0:
        typer.echo(f"warning: {source} holds no messages; {output} is empty.", err=True)
    elif summary.lines and not summary.scored:
        where = "standard error" if output == "-" else f"{output}.rejects.jsonl"
        typer.echo(f"warning: every line of {source} was rejected; {where} says why.", err=True)
    typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False) if summary_json else summary.render(), err=True)
    absent = summary.absent_fields(kept)
    if absent:
        typer.echo(
            f"warning: no input message had the field(s) {', '.join(absent)} kept with --fields; "
            "their column is empty.",
            err=True,
        )
    if summary.repeated_ids:
        typer.echo(
            f"warning: {summary.repeated_ids_text()}. Every line was scored, but a join on id will match "
            "these more than once.",
            err=True,
        )
    if summary.rejected and output != "-":
        typer.echo(f"{summary.rejected:,} rejected lines are in {Path(output)}.rejects.jsonl", err=True)
