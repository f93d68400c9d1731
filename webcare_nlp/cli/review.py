"""The `webcare review` command: pick the messages to label next from an unlabelled archive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from webcare_nlp.cli._app import ModelOption, app, fail, load_engine
from webcare_nlp.errors import WebcareError


@app.command()
def review(
    source: Annotated[
        Path, typer.Argument(metavar="IN", help="An unlabelled archive of messages (.jsonl, .csv or .parquet).")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The messages to label next (.jsonl, or - for standard output).")
    ],
    n: Annotated[int, typer.Option("--n", help="How many messages to pick.", min=1, max=100_000)] = 200,
    second: Annotated[
        list[str] | None,
        typer.Option("--with-model", help="Another model whose disagreement counts too (repeatable)."),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output file.")] = False,
    model: ModelOption = None,
) -> None:
    r"""Pick the messages the models are least sure about, or disagree on, for a person to label next.

    Each output line is the message plus "review": rank, score, reasons and the model's suggested labels.

    Unreadable lines go to OUT.rejects.jsonl (to standard error with --output -).

    Example:

    webcare review archive.jsonl --output to_label.jsonl --n 200 \
        --with-model webcare-small
    """
    from webcare_nlp.batch.readers import read_records
    from webcare_nlp.review import review_file

    try:
        lines = read_records(str(source))  # any input format `webcare score` reads
        engines = [load_engine(model), *(load_engine(name) for name in second or [])]
        summary = review_file(engines, source, output, n=n, overwrite=overwrite, lines=lines)
    except WebcareError as exc:
        fail(str(exc))
    typer.echo(json.dumps(summary.as_dict()), err=True)
