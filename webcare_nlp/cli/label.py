"""Commands that label messages and build or score the label models: analyze, train, evaluate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from webcare_nlp.cli._app import ModelOption, app, check_output_file, fail, load_engine, read_labelled_file, read_text
from webcare_nlp.errors import WebcareError

# Two labels whose probabilities differ by less than this are shown as a close call, so that the agent reads
# the message before trusting the label.
CLOSE_CALL = 0.1


def print_analysis(result: dict[str, Any]) -> None:
    def top(scores: dict[str, float]) -> str:
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{k} {v:.2f}" for k, v in ranked[:3])
        close = len(ranked) > 1 and ranked[0][1] - ranked[1][1] < CLOSE_CALL
        return f"({shown})" + (f"  [close call: {ranked[0][0]} or {ranked[1][0]}]" if close else "")

    typer.echo(f"intent      {result['intent']}  {top(result['intent_scores'])}")
    typer.echo(f"sentiment   {result['sentiment']}  {top(result['sentiment_scores'])}")
    typer.echo(f"reactive    {result['reactive']}  (p={result['reactive_probability']:.2f})")
    typer.echo(f"platform    {result['platform']}{' (inferred)' if result['platform_inferred'] else ''}")
    review = "  [needs review]" if result["needs_review"] else ""
    typer.echo(f"reply       {'yes' if result['reply_expected'] else 'no'}: {result['reply_reason']}{review}")
    typer.echo(f"language    {result['lang']}")
    if result["entities"]:
        found = ", ".join(f"{e['kind']}={e['text']}" for e in result["entities"])
        typer.echo(f"found       {found}")
        typer.echo(f"masked      {result['masked_text']}")


@app.command()
def analyze(
    text: Annotated[str, typer.Argument(help="The message text, or - to read it from standard input.")],
    platform: Annotated[str | None, typer.Option(help="brand or consumer; inferred when left out.")] = None,
    channel: Annotated[str | None, typer.Option(help="twitter, facebook, whatsapp, review, ...")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON of the output contract.")] = False,
    model: ModelOption = None,
) -> None:
    r"""Label one message: intent, sentiment, reactive, platform and whether a reply is expected.

    Example:

    webcare analyze "@SkyHop mijn koffer is nog steeds niet terecht!! 😡" \
        --channel twitter
    """
    try:
        result = load_engine(model).analyze(read_text(text), platform=platform, channel=channel)
    except WebcareError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print_analysis(result)


@app.command()
def train(
    data: Annotated[
        list[Path] | None,
        typer.Option(
            help="Labelled data: a folder with messages/*.jsonl, or a .jsonl or .csv file; repeatable "
            "(default: the project's training_data/)."
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Folder to write the model to (default: a new version).")] = None,
    name: Annotated[str, typer.Option(help="Name of the new version: models/<name>-<date>-<hash>/.")] = "webcare",
    intents: Annotated[
        str | None,
        typer.Option(help="Intent labels, comma-separated; '+order_status' adds to the standard six."),
    ] = None,
    feedback: Annotated[
        Path | None, typer.Option(help="SQLite feedback store: merge the labels agents corrected, de-duplicated.")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="TOML file with a \\[train] table of settings.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (overrides the config).")] = None,
    make_current: Annotated[bool, typer.Option("--current/--no-current", help="Point models/CURRENT at it.")] = True,
) -> None:
    """Train the label models with cross-validated model selection and save a verified artefact.

    Without --output the model becomes a new version, models/<name>-<date>-<hash>/, and models/CURRENT points at it.

    Bad rows are listed with file and line before anything is trained.

    Example:

    webcare train --data training_data --data orders.csv --intents +order_status
    """
    from webcare_nlp import training
    from webcare_nlp.dataset import TRAINING_DATA

    try:
        settings = training.TrainingConfig.from_file(
            config, seed=seed, intents=training.intent_set(intents) if intents is not None else None
        )
        if settings.intents and "other" not in settings.intents:  # () is labels.md's six
            typer.echo(
                "warning: the intents have no 'other': spam and off-topic posts will get one of the others, and "
                "a reply where the rule says none (seed 002 keeps 'other' from replies).",
                err=True,
            )
        result = training.train(
            data=data or [TRAINING_DATA],  # the project's, wherever the command is run from
            output=output,
            config=settings,
            version=None if output else name,
            feedback=feedback,
        )
        moved = make_current and result.output is not None and training.set_current(result.output)
    except WebcareError as exc:
        fail(str(exc))
    typer.echo(f"trained on {result.n_messages} messages in {result.seconds:.1f} s -> {result.output}")
    if make_current and not moved:
        typer.echo(
            "  models/CURRENT is unchanged: only a model in the project's models/ folder can be current; "
            "use it with --model or WEBCARE_MODEL.",
            err=True,
        )
    if feedback is not None:
        typer.echo("  from feedback: " + ", ".join(f"{k} {v}" for k, v in result.sources.items() if k != "files"))
    for task, report in result.reports.items():
        typer.echo(f"  {task:10s} {report.chosen:14s} CV macro-F1 {report.families[report.chosen]['macro_f1']:.3f}")


@app.command()
def evaluate(
    file: Annotated[Path, typer.Argument(help="A labelled .jsonl or .csv file (fields of labels.md).")],
    report: Annotated[
        Path | None,
        typer.Option(help="report.html: one self-contained page; any other path: a folder with report.md and plots."),
    ] = None,
    templates: Annotated[Path | None, typer.Option(help="Templates for scoring suggestions (.jsonl or .yaml).")] = None,
    articles: Annotated[Path | None, typer.Option(help="Articles for scoring suggestions (.jsonl or .yaml).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    model: ModelOption = None,
) -> None:
    """Score the models on a labelled file: per-class precision, recall, F1, confusion and calibration.

    When the file has gold_templates / gold_articles, the suggestions are scored too (hit@k, MRR).

    Example:

    webcare evaluate labelled.jsonl --report labelled.html
    """
    from webcare_nlp import evaluation

    if report is not None and str(report) == ".":  # also what an empty --report "" becomes
        fail("--report needs a name: report.html, or a new folder for report.md and the plots.")
    html_report = report is not None and report.suffix.lower() in (".html", ".htm")
    if report is not None and html_report:
        check_output_file(report)
    try:
        records = read_labelled_file(file)
        engine = load_engine(model)
        if templates or articles:
            from webcare_nlp.rank.library import Library

            engine.library = Library.load(templates=templates, articles=articles)
        result = evaluation.evaluate(engine, records, source=str(file))
        written = None
        if report is not None and html_report:
            from webcare_nlp.report import write_html_report

            written = write_html_report(result, report, model=engine.manifest.get("name", ""))
        elif report:
            written = evaluation.write_report(result, report)
    except WebcareError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the report to {report}: {exc.strerror or exc}")
    typer.echo(json.dumps(result.summary(), indent=2) if as_json else evaluation.render_text(result))
    if written:
        typer.echo(f"report written to {written}", err=True)
