"""`webcare serve`: the HTTP API and the agents' web page on uvicorn."""

from __future__ import annotations

import errno
import logging
import os
import socket
from pathlib import Path
from typing import Annotated

import typer

from webcare_nlp.cli._app import ModelOption, app, fail
from webcare_nlp.errors import WebcareError


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    model: ModelOption = None,
    settings_file: Annotated[
        Path | None, typer.Option("--settings", help="TOML settings file (also WEBCARE_SETTINGS).")
    ] = None,
    templates: Annotated[str | None, typer.Option(help="Reply templates (.jsonl/.yaml).")] = None,
    articles: Annotated[str | None, typer.Option(help="Knowledge-base articles (.jsonl/.yaml).")] = None,
    history: Annotated[str | None, typer.Option(help="Reply history (.jsonl).")] = None,
    database: Annotated[Path | None, typer.Option(help="SQLite file for the agents' feedback.")] = None,
    initials: Annotated[str | None, typer.Option(help="Agent initials signed under replies, e.g. ^IB.")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    max_batch: Annotated[
        int | None,
        # The upper bound is the setting's own, checked with the other settings.
        typer.Option(help="Most messages one POST /score may hold; more are refused with 422 (default 100).", min=1),
    ] = None,
    workers: Annotated[
        int, typer.Option(help="Server processes, each with its own engine (about one per core).", min=1, max=64)
    ] = 1,
) -> None:
    """Start the HTTP API (OpenAPI docs at /docs) and the agents' web page at /.

    Settings come from the options, then WEBCARE_* environment variables, then the settings file.

    WEBCARE_API_TOKEN sets a bearer token that every API call must then send.

    The feedback database is created on first use.

    Example:

    webcare serve --port 8000 --initials ^IB

    webcare serve --max-batch 500
    """
    try:
        import uvicorn

        from webcare_nlp.api.app import create_app
        from webcare_nlp.api.services import check_database
        from webcare_nlp.api.settings import Settings
    except ImportError as exc:
        fail(
            f"the web server needs the api extra ({exc.name} is missing): "
            "pip install -e '.[api]' in the project's folder"
        )
    if not host.strip():  # uvicorn would listen on every interface
        fail("--host is empty: give an address, such as 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).")
    level = log_level.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        fail(f"unknown log level {log_level!r}; use debug, info, warning or error.")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":  # spaCy's own handler would print its start-up steps twice among the server's lines
        logging.getLogger("spacy").setLevel(logging.WARNING)
    try:
        settings = Settings.from_sources(
            file=settings_file,
            model=model,
            templates=templates,
            articles=articles,
            history=history,
            database=database,
            agent_initials=initials,
            max_batch=max_batch,
        )
        check_database(settings)
        _check_address(host, port)
        if workers == 1:
            web_app = create_app(settings)
        else:
            from webcare_nlp.api.services import load_engine

            # Loaded once here and dropped: each worker loads its own, and a bad model or library must stop
            # the server now rather than make uvicorn restart the workers forever.
            load_engine(settings)
    except WebcareError as exc:
        fail(str(exc))
    typer.echo(f"webcare: the agents' page is at http://{host}:{port}/ (API docs at /docs)", err=True)
    if workers == 1:
        uvicorn.run(web_app, host=host, port=port, log_level=log_level.lower(), access_log=False)
        return
    # Each worker process builds its app from the environment: hand it the settings resolved here.
    os.environ.update(settings.to_environ())
    uvicorn.run(
        "webcare_nlp.api.app:create_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level=log_level.lower(),
        access_log=False,
    )


def _check_address(host: str, port: int) -> None:
    """Fail now, before seconds of loading, when the server could not listen on host:port."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        fail(f"--host {host!r} is not an address this machine can listen on ({exc.strerror}).")
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"port {port} on {host} is in use by another program: stop it or pick another with --port.")
            if exc.errno in (errno.EACCES, errno.EPERM):
                fail(f"no permission to listen on port {port} (ports below 1024 need privileges): use --port 8000.")
            fail(f"cannot listen on {host}:{port}: {exc.strerror}.")
