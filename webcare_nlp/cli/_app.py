"""The typer app and the helpers every command module shares."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from webcare_nlp import errors

# Help is rich markup, which keeps a docstring's single line breaks: so a paragraph of a command's docstring is
# one source line (rich wraps it to the terminal), and each example is a paragraph of its own that fits 80
# columns, a longer one continued with a shell backslash (tests/test_cli_help.py checks every command).
app = typer.Typer(
    help="webcare-nlp: label social-media customer messages and suggest replies, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="Model folder or name under models/ (default: models/CURRENT)."),
]


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def warn_skipped(warnings: list[str]) -> None:
    """The library's skipped entries (file:line and why), the first 20 of them."""
    from webcare_nlp.rank.library import shown_warnings

    for warning in shown_warnings(warnings):
        typer.echo(f"warning: {warning}", err=True)


def check_output_file(path: Path) -> None:
    """Refuse an output file that cannot be written, before the work that would fill it."""
    from webcare_nlp import errors

    try:
        errors.check_output_file(path)
    except errors.InputError as exc:
        fail(str(exc))


def load_engine(model: str | None) -> Any:
    from webcare_nlp.engine import Engine

    return Engine.load(model)


def read_text(text: str) -> str:
    if text != "-":
        # Python keeps the bytes of an argument that is not UTF-8 as half characters (surrogate escapes).
        broken = next((c for c in text if "\udc80" <= c <= "\udcff"), None)
        if broken is not None:
            fail(f"the text is not valid UTF-8 (byte 0x{ord(broken) - 0xDC00:02x}): set the terminal to UTF-8.")
        return text
    stdin = standard_input()
    # At most what the longest allowed text can take in UTF-8, so an endless stream cannot fill the memory.
    most = errors.MAX_TEXT_CHARS * 4
    raw = stdin.read(most + 1)
    if len(raw) > most:
        fail(
            f"standard input holds more than {most:,} bytes; "
            f"the limit of a message is {errors.MAX_TEXT_CHARS:,} characters."
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        fail("standard input is not valid UTF-8 text.")


def read_labelled_file(path: Path) -> list[dict[str, Any]]:
    """A labelled .csv or .jsonl file's records, the two formats `webcare train --data` takes."""
    from webcare_nlp.dataset import read_labelled_csv
    from webcare_nlp.records import read_jsonl_records

    return read_labelled_csv(path) if path.suffix.lower() == ".csv" else read_jsonl_records(path)


def standard_input() -> Any:
    """Standard input as bytes, or a clear failure when the shell closed it (`<&-`)."""
    if sys.stdin is None:
        fail("standard input is closed: pipe the text in, or give it as an argument.")
    return sys.stdin.buffer


SharedByHistoryOption = Annotated[
    bool,
    typer.Option(
        help="Also suggest another company's template or article to a company whose agents sent it before "
        "(in the history), e.g. a sister brand's help page. Off: formats.md's company rule."
    ),
]
