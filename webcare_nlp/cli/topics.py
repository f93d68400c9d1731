"""The `topics` command: FAQ topics of an archive, their trends and coverage gaps, optionally saved with the model."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from webcare_nlp.cli._app import ModelOption, app, check_output_file, fail, load_engine, warn_skipped
from webcare_nlp.errors import WebcareError, can_write, check_not_input

STDIO = "-"  # standard output, as for `webcare score`


def _read_messages(source: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every message of a JSONL, CSV or Parquet file, and the rejects of the lines that are not one."""
    from webcare_nlp.batch.readers import read_records
    from webcare_nlp.records import Reject

    messages: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    for _, record in read_records(source):
        if isinstance(record, Reject):
            rejects.append(record.as_dict())
        else:
            messages.append(record)
    return messages, rejects


def _write_rejects(rejects: list[dict[str, Any]], path: Path | None) -> None:
    """The unreadable lines to `path`, or to standard error (as `webcare score` does) when OUT is -."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects)
    if path is None:
        sys.stderr.write(text)
    else:
        path.write_text(text, "utf-8")
    typer.echo(f"warning: {len(rejects)} unreadable line(s) written to {path or 'standard error'}", err=True)


def _documents(templates: Path | None, articles: Path | None) -> list[dict[str, Any]] | None:
    if templates is None and articles is None:
        return None
    from webcare_nlp.rank.library import Library

    library = Library.load(templates=templates, articles=articles)
    warn_skipped(library.warnings)
    documents = [
        {"id": t.id, "title": t.title, "text": t.document, "company": t.company, "lang": t.lang}
        for t in (library.templates if templates is not None else [])
    ]
    documents += [
        {"url": a.url, "title": a.title, "text": a.document, "company": a.company, "lang": a.lang}
        for a in (library.articles if articles is not None else [])
    ]
    return documents


@app.command()
def topics(
    source: Annotated[str, typer.Argument(metavar="IN", help="Messages: .jsonl, .csv or .parquet (or - for JSONL).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Per-message topics (.jsonl, or - for standard output).")
    ],
    summary: Annotated[
        Path | None, typer.Option(help="Summary JSON (default: OUT.summary.json; none with --output -).")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report here.")] = None,
    save: Annotated[
        bool,
        typer.Option(
            help="Store the topic model with the engine, for analyze/suggest/score. Later topics runs with that "
            "model keep its topic ids and list its topics they no longer find as stale."
        ),
    ] = False,
    min_size: Annotated[int, typer.Option(help="Smallest topic; smaller groups stay unassigned.", min=2)] = 3,
    n_topics: Annotated[int | None, typer.Option(help="A fixed number of topics (default: found).", min=1)] = None,
    templates: Annotated[Path | None, typer.Option(help="Reply templates, to find uncovered topics.")] = None,
    articles: Annotated[
        Path | None, typer.Option(help="Help articles and blog posts, to find uncovered topics.")
    ] = None,
    all_intents: Annotated[
        bool, typer.Option("--all-intents", help="Cluster every message, not only questions, requests, complaints.")
    ] = False,
    clusterer: Annotated[
        str,
        typer.Option(
            help=(
                "graph (communities of the nearest-neighbour graph, default), linkage (cosine average linkage), "
                "hdbscan, or kmeans (needs --n-topics)."
            )
        ),
    ] = "graph",
    lexical_only: Annotated[
        bool,
        typer.Option(
            "--lexical-only", help="Leave out the topic similarity the model learned from labelled FAQ topics."
        ),
    ] = False,
    bucket: Annotated[str, typer.Option(help="Trend buckets: day, hour or auto.")] = "auto",
    overwrite: Annotated[bool, typer.Option(help="Replace existing output files.")] = False,
    model: ModelOption = None,
) -> None:
    r"""Group the recurring questions, requests and complaints of an archive into FAQ topics.

    Writes one line per message ({"id", "topic", "topic_label"}) and a summary with the topics and their trends.

    The summary also gives spikes and, with --templates/--articles, the topics no template or article covers.

    With --output - the lines go to standard output and the summary only where --summary says.

    Example:

    webcare topics mentions.jsonl --output topics.jsonl --report topics.html \
        --templates training_data/templates
    """
    from webcare_nlp import persist
    from webcare_nlp.topics.cluster import make_cluster_model
    from webcare_nlp.topics.discover import FAQ_INTENTS, discover_topics, write_run
    from webcare_nlp.topics.learned import GuidedTopicVectorizer
    from webcare_nlp.topics.model import TopicModel
    from webcare_nlp.topics.report import write_report

    to_stdout = str(output) == STDIO
    if summary is None and not to_stdout:
        summary = output.with_name(output.name + ".summary.json")
    if bucket not in ("day", "hour", "auto"):
        fail(f"--bucket must be day, hour or auto, not {bucket!r}.")
    rejects_file = None if to_stdout else output.with_name(output.name + ".rejects.jsonl")
    written = [p for p in (None if to_stdout else output, summary, report, rejects_file) if p is not None]
    try:
        check_not_input(source, written)
    except WebcareError as exc:
        fail(str(exc))
    for path in written:
        check_output_file(path)  # now, not after the clustering
        if path.exists() and not overwrite:
            fail(f"{path} exists; pass --overwrite to replace it.")
    resolved = [p.resolve() for p in written]
    if len(set(resolved)) < len(resolved):
        fail("two of --output, --summary, --report (and OUT.rejects.jsonl) are the same file; give each its own.")
    try:
        cluster_model = make_cluster_model(clusterer, min_size=min_size, n_topics=n_topics)
        messages, rejects = _read_messages(source)
        if rejects:
            _write_rejects(rejects, rejects_file)
        elif rejects_file is not None:
            rejects_file.unlink(missing_ok=True)  # an earlier run's, which --overwrite replaces
        engine = load_engine(model)
        folder = Path(engine.manifest["path"])
        if save and not can_write(folder, folder / persist.MANIFEST):
            fail(f"--save cannot write to the model folder {folder}: it is read-only.")  # before the clustering
        intents = None if all_intents else [r["intent"] for r in engine.analyze_many(messages)]
        run = discover_topics(
            messages,
            text_pipeline=engine.text_pipeline,
            intents=intents,
            keep_intents=None if all_intents else FAQ_INTENTS,
            model=TopicModel(
                min_size=min_size,
                n_topics=n_topics,
                cluster_model=cluster_model,
                vectorizer=None if lexical_only else GuidedTopicVectorizer(engine.topic_space),
            ),
            previous=engine.topic_model,
            documents=_documents(templates, articles),
            bucket=bucket,
        )
        # The report first: should it fail, no output looks like a finished run.
        if report is not None:
            write_report(run, report)
        write_run(run, sys.stdout if to_stdout else output, summary)
        if save and not run.model.active_topics():  # saving would wipe the topics saved before
            fail("--save: no topics were found, so there is nothing to save; the saved topic model is kept.")
        if save:
            info = {"messages": len(messages), "topics": len(run.model.active_topics()), "source": str(source)}
            persist.add_component(folder, "topic_model", run.model, {"topic_model": info})
    except WebcareError as exc:
        fail(str(exc))
    for warning in run.warnings:
        typer.echo(f"warning: {warning}", err=True)
    figures = {k: v for k, v in run.summary().items() if k not in ("topic_list", "trends", "coverage", "warnings")}
    typer.echo(json.dumps(figures, ensure_ascii=False), err=True)
    if save:
        typer.echo(f"topic model saved in {engine.manifest['path']}", err=True)
