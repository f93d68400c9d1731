"""Every command's --help reads cleanly at 80 and 120 columns: prose re-flows, examples stay whole."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import pytest
import typer
from typer.testing import CliRunner

from webcare_nlp.cli import app

runner = CliRunner()


def _commands(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = dict(_commands(typer.main.get_command(app)))


def _paragraphs(text: str) -> list[list[str]]:
    blocks = [[line.strip() for line in block.splitlines() if line.strip()] for block in text.split("\n\n")]
    return [block for block in blocks if block]


def _is_example(paragraph: list[str]) -> bool:
    return paragraph[0].startswith("webcare ")


def _description(output: str) -> str:
    """The help's text between the usage line and the first panel, without rich's padding."""
    lines = output.split("╭")[0].splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Usage:")) + 1
    return "\n".join(line.strip() for line in lines[start:])


def _stray_breaks(description: str, width: int) -> list[str]:
    """Prose lines that end although the next word would have fit on them: a line break from the source."""
    stray = []
    for paragraph in _paragraphs(description):
        if _is_example(paragraph):
            continue
        for line, following in pairwise(paragraph):
            if len(line) + 1 + len(following.split()[0]) <= width:
                stray.append(f"{line!r} / {following!r}")
    return stray


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(("webcare", *path)))
def test_help_reflows_prose_and_keeps_each_example_line_whole(path, columns):
    command = COMMANDS[path]
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": str(columns)}, prog_name="webcare")
    assert result.exit_code == 0, result.output
    description = _description(result.output)
    assert _stray_breaks(description, width=columns - 2) == []  # rich pads the text by a column on each side
    shown = set(description.splitlines())
    examples = [line for p in _paragraphs(command.help or "") if _is_example(p) for line in p]
    assert all(line in shown for line in examples), (examples, description)
    assert examples or getattr(command, "commands", None), "every command's help has an example"
