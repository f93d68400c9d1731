"""Commands for model versions: `webcare models list | use | compare`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from webcare_nlp.cli._app import app, fail, read_labelled_file
from webcare_nlp.errors import WebcareError

models_app = typer.Typer(
    help="Model versions under models/: list them, switch the current one, compare two.", rich_markup_mode="rich"
)
app.add_typer(models_app, name="models")

ModelsDirOption = Annotated[
    Path | None, typer.Option("--models-dir", help="The models folder (default: the project's models/).")
]


@models_app.command("list")
def list_models(
    models_dir: ModelsDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the versions as JSON.")] = False,
) -> None:
    """List the model versions, newest first; * marks the current one (models/CURRENT).

    A folder whose manifest is damaged is listed as DAMAGED, with a warning saying why.

    Example:

    webcare models list
    """
    from webcare_nlp import versions

    if models_dir is not None and not models_dir.is_dir():  # a typo should not read as "no models yet"
        fail(f"{models_dir} is not a folder" + ("" if models_dir.exists() else " (it does not exist)") + ".")
    found = versions.list_versions(models_dir)
    pointer_problem = versions.current_warning(models_dir)
    if pointer_problem:
        typer.echo(f"warning: {pointer_problem}", err=True)
    for v in found:
        if v.damaged:
            typer.echo(f"warning: {v.name} is damaged: {v.damaged}", err=True)
    if as_json:
        typer.echo(json.dumps([v.as_dict() for v in found], indent=2, ensure_ascii=False))
        return
    if not found:
        typer.echo("no models yet: train one with 'webcare train'")
    for v in found:
        if v.damaged:
            typer.echo(f"{'*' if v.current else ' '} {v.name:34s} DAMAGED (see the warning above)")
            continue
        scores = " ".join(f"{task} {f1:.3f}" for task, f1 in v.metrics.items() if task != "platform")
        intents = f"{len(v.intents)} intents" if v.intents else ""
        mark = "*" if v.current else " "
        typer.echo(f"{mark} {v.name:34s} {v.created[:10]:10s} {v.trained_on or '?':>6} msgs  {intents:10s} CV {scores}")


@models_app.command("use")
def use_model(
    name: Annotated[str, typer.Argument(help="The version's folder name under models/ (a unique prefix will do).")],
    models_dir: ModelsDirOption = None,
) -> None:
    """Make a version the current one: the CLI, the API and batch jobs load it unless told otherwise.

    Example:

    webcare models use webcare-20261122-1a2b3c4
    """
    from webcare_nlp import versions

    if not name.strip():  # every name starts with "": it would match them all
        fail("give the name of a version, as `webcare models list` shows them.")
    try:
        version = versions.use_version(name, models_dir)
    except WebcareError as exc:
        fail(str(exc))
    typer.echo(f"{(models_dir or version.path.parent) / 'CURRENT'} -> {version.name}")


@models_app.command("compare")
def compare_models(
    a: Annotated[str, typer.Argument(help="Model A (the one in production): a name under models/ or a folder.")],
    b: Annotated[str, typer.Argument(help="Model B (the candidate).")],
    data: Annotated[Path, typer.Option(help="A labelled .jsonl or .csv file to compare them on.")],
    templates: Annotated[Path | None, typer.Option(help="Templates for scoring suggestions (hit@k).")] = None,
    articles: Annotated[Path | None, typer.Option(help="Articles for scoring suggestions (hit@k).")] = None,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for the CIs.", min=50, max=20_000)] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.", min=0)] = 13,
    models_dir: ModelsDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    r"""Compare two models on one labelled file: F1 per label and class, ECE, hit@3, B - A with a 95% CI.

    Example:

    webcare models compare webcare-small webcare-20261122-1a2b3c4 \
        --data labelled.jsonl
    """
    from webcare_nlp import comparison, versions
    from webcare_nlp.engine import Engine

    try:
        engines = []
        for name in (a, b):
            path = Path(name) if Path(name).is_dir() else versions.find_version(name, models_dir).path
            engines.append(Engine.load(path))
        if templates or articles:
            from webcare_nlp.rank.library import Library

            library = Library.load(templates=templates, articles=articles)
            for engine in engines:
                engine.library = library
        result = comparison.compare(
            engines[0],
            engines[1],
            read_labelled_file(data),
            names=(a, b),
            source=str(data),
            bootstrap=bootstrap,
            seed=seed,
        )
    except WebcareError as exc:
        fail(str(exc))
    typer.echo(json.dumps(result.as_dict(), indent=2) if as_json else comparison.render_comparison(result))
