"""The error catalogue: every error a user can meet, each with text that says what to do."""

from __future__ import annotations

import tempfile
from pathlib import Path


class WebcareError(Exception):
    """Base class for errors that carry an actionable message for the user."""


class InputError(WebcareError, ValueError):
    """A message, file or argument that cannot be used as given."""


class ModelError(WebcareError):
    """A model artefact that is missing, tampered with or incompatible."""


# Limits shared by every entry point, so that the CLI, batch and API agree.
MAX_TEXT_CHARS = 20_000


def empty_text() -> InputError:
    return InputError("The message text is empty or only whitespace: give the text of the post to analyse.")


def text_too_long(n_chars: int) -> InputError:
    return InputError(
        f"The message text has {n_chars:,} characters; the limit is {MAX_TEXT_CHARS:,}. "
        "A social media message is far shorter: check that you passed the text and not a whole file."
    )


def binary_text() -> InputError:
    return InputError(
        "The message text holds binary data (NUL or control bytes): give the text as UTF-8, not a binary file."
    )


def check_output_file(path: Path) -> None:
    """Refuse an output file that cannot be written, before the work that would fill it."""
    if not path.parent.is_dir():
        raise InputError(f"The output folder {path.parent} does not exist; create it first.")
    if path.is_dir():
        raise InputError(f"The output {path} is a folder; give a file name.")


def can_write(folder: Path, *files: Path) -> bool:
    """Whether a new file can be made in `folder` and each of `files` opened for writing.

    Tried rather than read off the permission bits: root passes every permission check, yet not a
    read-only file system. Opening for appending leaves a file's content and time stamp as they were.
    """
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
        for path in files:
            with open(path, "ab"):
                pass
    except OSError:
        return False
    return True


def check_not_input(source: str | Path, written: list[Path]) -> None:
    """Refuse a run whose input is one of the files it writes (its output, rejects, summary, working files):
    the input would be overwritten, and with it every message not yet read."""
    if str(source) == "-" or not Path(source).exists():
        return
    hit = next((path for path in written if Path(source).resolve() == path.resolve()), None)
    if hit is not None:
        raise InputError(f"The input file is {hit.name}, which this run writes; write to another output.")
