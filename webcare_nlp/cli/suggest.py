"""Commands for the agent's reply: suggest (ranked templates and articles) and feedback."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from webcare_nlp.cli._app import (
    ModelOption,
    SharedByHistoryOption,
    app,
    fail,
    read_text,
    standard_input,
    warn_skipped,
)
from webcare_nlp.cli.label import print_analysis
from webcare_nlp.errors import WebcareError

TemplatesOption = Annotated[
    Path | None, typer.Option(help="Reply templates (.jsonl/.yaml file or folder); default: training_data/.")
]
ArticlesOption = Annotated[Path | None, typer.Option(help="Knowledge-base articles (.jsonl/.yaml file or folder).")]
HistoryOption = Annotated[Path | None, typer.Option(help="Reply history (.jsonl): what agents sent before.")]
FeedbackDbOption = Annotated[
    Path | None,
    typer.Option("--feedback-db", help="SQLite feedback store; its used/rejected suggestions count as history."),
]


def load_suggesting_engine(
    model: str | None,
    *,
    templates: Path | None,
    articles: Path | None,
    history: Path | None,
    feedback_db: Path | None = None,
    initials: str = "",
    shared_by_history: bool = False,
) -> Any:
    """An engine with the library the options name (the defaults of training_data/ otherwise)."""
    from webcare_nlp.engine import Engine
    from webcare_nlp.rank.library import Library

    if feedback_db is not None and not feedback_db.is_file():  # only read here: a typo must not make a new store
        fail(f"No feedback database at {feedback_db}; `webcare feedback --db {feedback_db} ...` creates one.")
    library = Library.load(templates=templates, articles=articles, history=history, shared_by_history=shared_by_history)
    engine = Engine.load(model, library=library, feedback_db=feedback_db, agent_initials=initials)
    warn_skipped(library.warnings + library.intent_warnings(engine.models["intent"].classes_))
    return engine


def _print_suggestions(result: dict[str, Any]) -> None:
    print_analysis(result)
    if not result["suggestions"]:
        reason = "no reply expected" if not result["reply_expected"] else "nothing in the library fits well enough"
        typer.echo(f"\nno suggestions: {reason}")
        return
    for rank, suggestion in enumerate(result["suggestions"], 1):
        typer.echo("")
        label = suggestion["title"] or suggestion["id"]
        typer.echo(f"{rank}. [{suggestion['kind']}] {label}  (score {suggestion['score']:.2f}, id {suggestion['id']})")
        if suggestion["kind"] == "template":
            typer.echo(f"   {suggestion['text']}")
            if suggestion["needs_input"]:
                typer.echo(f"   fill in: {', '.join('{' + p + '}' for p in suggestion['needs_input'])}")
            if suggestion.get("withheld"):
                typer.echo("   (personal data from the message is not filled in on a public channel)")
            limit = f"/{suggestion['limit']}" if suggestion["limit"] else ""
            typer.echo(
                f"   length {suggestion['length']}{limit}" + ("" if suggestion["fits_channel"] else "  TOO LONG")
            )
            if suggestion.get("advice"):
                typer.echo(f"   {suggestion['advice']}")
        else:
            typer.echo(f"   {suggestion['url']}")
        typer.echo(f"   why: {suggestion['why']}")


@app.command()
def suggest(
    text: Annotated[str, typer.Argument(help="The message text, or - to read it from standard input.")],
    company: Annotated[str | None, typer.Option(help="The company the message is for (its own templates).")] = None,
    channel: Annotated[str | None, typer.Option(help="twitter, facebook, whatsapp, review, ...")] = None,
    platform: Annotated[str | None, typer.Option(help="brand or consumer; inferred when left out.")] = None,
    author: Annotated[str | None, typer.Option(help="The customer's (display) name, for {naam}.")] = None,
    initials: Annotated[str, typer.Option(help="Your initials, for {initialen}.")] = "",
    templates: TemplatesOption = None,
    articles: ArticlesOption = None,
    history: HistoryOption = None,
    shared_by_history: SharedByHistoryOption = False,
    feedback_db: FeedbackDbOption = None,
    top_k: Annotated[int, typer.Option(help="Suggestions per kind (templates, articles).", min=1, max=20)] = 3,
    always: Annotated[bool, typer.Option(help="Suggest even when no reply is expected.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON of the output contract.")] = False,
    each_line: Annotated[
        bool,
        typer.Option(
            "--each-line",
            help="With -: every line of standard input is a message, answered as it comes, with the engine "
            "loaded once (paste messages one after another; --json prints one JSON line each).",
        ),
    ] = False,
    model: ModelOption = None,
) -> None:
    r"""Label a message and suggest filled-in reply templates and help articles, with the reason why.

    Example:

    webcare suggest "@NoordwindHelpt mijn koffer is niet aangekomen" \
        --author Sanne --initials JV --channel twitter

    webcare suggest - --each-line --company noordwind --initials JV
    """
    if each_line and text != "-":
        fail("--each-line reads the messages from standard input: give - as the text.")
    try:
        engine = load_suggesting_engine(
            model,
            templates=templates,
            articles=articles,
            history=history,
            feedback_db=feedback_db,
            initials=initials,
            shared_by_history=shared_by_history,
        )
        fields = {"company": company, "channel": channel, "platform": platform, "author": author}
        if each_line:
            _answer_each_line(engine, fields, top_k=top_k, always=always, as_json=as_json)
            return
        result = engine.suggest(read_text(text), top_k=top_k, always=always, **fields)
    except WebcareError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _print_suggestions(result)


FEEDBACK_LOOK_SECONDS = 2.0


def _answer_each_line(engine: Any, fields: dict[str, Any], *, top_k: int, always: bool, as_json: bool) -> None:
    """Answers every line of standard input as one message; a line that cannot be read is reported, not fatal."""
    lines = standard_input()
    engine.suggest("Hoi, waar blijft mijn pakket?", always=True)  # builds the index before the first real line
    if lines.isatty():
        typer.echo("ready: paste a message and press Enter (Ctrl-D to stop)", err=True)
    looked = time.monotonic()
    for number, raw in enumerate(lines, 1):
        if time.monotonic() - looked >= FEEDBACK_LOOK_SECONDS:
            # Feedback recorded meanwhile (`webcare feedback`, the web page) joins the history for later lines.
            looked = time.monotonic()
            if engine.feedback_changed():
                engine.refresh_suggester()
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            typer.echo(f"line {number}: not valid UTF-8 text, skipped", err=True)
            continue
        if not line.strip():
            continue
        started = time.perf_counter()
        try:
            result = engine.suggest(line, top_k=top_k, always=always, id=str(number), **fields)
        except WebcareError as exc:
            typer.echo(f"line {number}: {exc}", err=True)
            continue
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False))
        else:
            _print_suggestions(result)
            typer.echo(f"({(time.perf_counter() - started) * 1000:.1f} ms)\n", err=True)


@app.command()
def feedback(
    db: Annotated[Path, typer.Option("--db", help="The SQLite feedback store (created when missing).")],
    suggestion: Annotated[str | None, typer.Option(help="The template id or article url acted on.")] = None,
    action: Annotated[str | None, typer.Option(help="used, edited or rejected.")] = None,
    text: Annotated[str | None, typer.Option(help="The customer's message (stored masked).")] = None,
    final_text: Annotated[str | None, typer.Option(help="What was sent after editing (action edited).")] = None,
    suggested_text: Annotated[str | None, typer.Option(help="The suggestion as shown, for the edit distance.")] = None,
    company: Annotated[str | None, typer.Option(help="The company the message was for.")] = None,
    intent: Annotated[str | None, typer.Option(help="A corrected intent label.")] = None,
    sentiment: Annotated[str | None, typer.Option(help="A corrected sentiment label.")] = None,
    agent: Annotated[str | None, typer.Option(help="Who gave the feedback.")] = None,
    summary: Annotated[bool, typer.Option(help="Print counts per action instead of recording.")] = False,
) -> None:
    r"""Record what an agent did with a suggestion (used, edited or rejected); later rankings learn from it.

    Example:

    webcare feedback --db feedback.db --suggestion airline-bagage-01 \
        --action used --text "koffer kwijt"
    """
    from webcare_nlp.rank.feedback import FeedbackStore

    if summary and not db.is_file():  # a summary only reads: it does not create an empty store
        fail(f"No feedback database at {db}.")
    if not summary and not (suggestion and action and text):  # before the store is created
        fail("give --suggestion, --action and --text (or --summary).")
    if intent and not summary:
        _check_intent(intent)  # before the store is created
    try:
        store = FeedbackStore(db)
        if summary:
            typer.echo(json.dumps(store.summary()))
            return
        assert suggestion and action and text
        labels = {k: v for k, v in {"intent": intent, "sentiment": sentiment}.items() if v}
        row = store.record(
            suggestion_id=suggestion,
            action=action,
            text=text,
            company=company,
            final_text=final_text,
            suggested_text=suggested_text,
            labels=labels or None,
            agent=agent,
        )
    except WebcareError as exc:
        fail(str(exc))
    distance = f", edit distance {row['edit_distance']}" if row["edit_distance"] is not None else ""
    typer.echo(f"recorded {row['action']} of {row['suggestion_id']} (#{row['id']}{distance})")


def _check_intent(intent: str) -> None:
    """A corrected intent must be one the current model predicts (a team model's own included); with no
    current model to ask, labels.md's six."""
    from webcare_nlp import persist, schema
    from webcare_nlp.errors import InputError, ModelError

    try:
        schema.check_field("intent", intent)  # a broken value is named as such, not as an unknown intent
        known = persist.read_manifest(persist.resolve_model_dir()).get("labels", {}).get("intent") or schema.INTENTS
    except InputError as exc:
        fail(str(exc))
    except ModelError:
        known = schema.INTENTS
    if intent not in known:
        fail(f"unknown intent {intent!r}; the current model's intents are: {', '.join(known)}.")
