"""The `webcare` command: argument handling only; each command calls one library function.

Each module registers its commands on the shared typer `app`.
"""

from webcare_nlp.cli import label, models, review, score, serve, suggest  # noqa: F401  (register the commands)
from webcare_nlp.cli import topics as _topics  # noqa: F401  (registers `webcare topics`)
from webcare_nlp.cli._app import app

__all__ = ["app"]

if __name__ == "__main__":
    app()
