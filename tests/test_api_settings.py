"""Server settings, the micro-batcher and the `serve` command's argument handling."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from webcare_nlp.api.batcher import MicroBatcher
from webcare_nlp.api.settings import Settings
from webcare_nlp.cli import app
from webcare_nlp.errors import InputError


def test_settings_precedence_file_then_environment_then_options(tmp_path: Path) -> None:
    file = tmp_path / "webcare.toml"
    file.write_text('[serve]\nagent_initials = "JV"\ntimeout_seconds = 3\nmax_batch = 20\n', encoding="utf-8")
    environ = {"WEBCARE_TIMEOUT_SECONDS": "4", "WEBCARE_CORS_ORIGINS": "https://a.example, https://b.example"}
    settings = Settings.from_sources(environ=environ, file=file, max_batch=5, model=None)
    assert settings.agent_initials == "JV"  # from the file
    assert settings.timeout_seconds == 4.0  # the environment beats the file
    assert settings.max_batch == 5  # an option beats both; None leaves a value alone
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert Settings.from_sources(environ={"WEBCARE_SETTINGS": str(file)}).agent_initials == "JV"


def test_settings_survive_the_trip_to_server_worker_processes(tmp_path: Path) -> None:
    settings = Settings(
        database=tmp_path / "f.sqlite3",
        cors_origins=["https://a.example", "https://b.example"],
        shared_by_history=True,
        api_token="s3cret",
        timeout_seconds=2.5,
    )
    assert Settings.from_sources(environ=settings.to_environ()) == settings
    assert Settings.from_sources(environ=Settings().to_environ()) == Settings()


def test_defaults_are_safe() -> None:
    settings = Settings.from_sources(environ={})
    assert settings.api_token is None and settings.cors_origins == []
    assert settings.database.name.endswith(".sqlite3")


@pytest.mark.parametrize(
    ("content", "environ", "expected"),
    [
        ("timeout_seconds = 'soon'", {}, "timeout_seconds"),
        ("colour = 'blue'", {}, "colour"),
        ("this is not toml", {}, "not valid TOML"),
        ("", {"WEBCARE_MAX_BATCH": "0"}, "max_batch"),
        ("serve = 5", {}, "serve must be a table"),
        ("", {"WEBCARE_FEEDBACK_REFRESH_SECONDS": "inf"}, "feedback_refresh_seconds"),
    ],
)
def test_bad_settings_are_clear_errors(tmp_path: Path, content: str, environ: dict[str, str], expected: str) -> None:
    file = tmp_path / "webcare.toml"
    file.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=expected):
        Settings.from_sources(environ=environ, file=file)


def test_missing_settings_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        Settings.from_sources(environ={}, file=tmp_path / "nope.toml")
    with pytest.raises(InputError, match="is a folder"):
        Settings.from_sources(environ={}, file=tmp_path)


def test_a_database_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    from webcare_nlp.api.services import check_database

    (tmp_path / "afile").write_text("x")
    settings = Settings.from_sources(environ={}, database=tmp_path / "afile" / "fb.db")
    with pytest.raises(InputError, match="Cannot create the folder of the feedback database"):
        check_database(settings)


def test_batcher_groups_concurrent_requests_and_isolates_a_bad_item() -> None:
    calls: list[list[int]] = []

    def double(items: list[int]) -> list[int]:
        calls.append(list(items))
        if 13 in items:
            raise ValueError("unlucky")
        return [2 * i for i in items]

    async def run() -> list[object]:
        batcher = MicroBatcher(max_batch=8)
        jobs = [batcher.submit("double", double, i) for i in range(20)]
        try:
            return await asyncio.gather(*jobs, return_exceptions=True)
        finally:
            batcher.close()

    results = asyncio.run(run())
    assert [r for i, r in enumerate(results) if i != 13] == [2 * i for i in range(20) if i != 13]
    assert isinstance(results[13], ValueError)
    batched = [c for c in calls if len(c) > 1]
    assert batched and max(len(c) for c in calls) <= 8  # grouped, never past max_batch


def test_serve_help_has_an_example_and_bad_settings_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "Example" in result.output and "webcare serve" in result.output
    bad = tmp_path / "webcare.toml"
    bad.write_text("timeout_seconds = -1\n", encoding="utf-8")
    result = runner.invoke(app, ["serve", "--settings", str(bad)])
    assert result.exit_code == 2 and "error:" in result.output and "timeout_seconds" in result.output
    result = runner.invoke(app, ["serve", "--log-level", "loud"])
    assert result.exit_code == 2 and "log level" in result.output
    # An unusable feedback database is refused before the server starts, not on the first /feedback.
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("not a database\n", encoding="utf-8")
    for database in (tmp_path, not_sqlite):
        result = runner.invoke(app, ["serve", "--database", str(database)])
        assert result.exit_code == 2 and str(database) in result.output


def test_body_limit_refuses_a_content_length_that_is_not_a_number() -> None:
    from webcare_nlp.api.security import BodyLimitMiddleware

    sent: list[dict[str, object]] = []

    async def never_called(scope: object, receive: object, send: object) -> None:
        raise AssertionError("the app must not see the request")

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/analyze", "headers": [(b"content-length", b"12abc")]}
    asyncio.run(BodyLimitMiddleware(never_called, max_bytes=1_000)(scope, receive, send))
    assert sent[0]["status"] == 400 and b"Content-Length" in sent[1]["body"]  # type: ignore[operator]


def test_library_entries_the_server_skips_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from webcare_nlp.api.services import load_engine

    history = tmp_path / "sent.jsonl"
    history.write_text('{"text": "koffer kwijt", "used": ["no-such-template"]}\n', encoding="utf-8")
    caplog.set_level("WARNING", logger="webcare_nlp.api")
    load_engine(Settings(history=str(history), database=tmp_path / "f.sqlite3"))
    assert f"library: {history}:1: ignored unknown template or article no-such-template" in caplog.text


def test_serve_refuses_a_port_in_use_before_loading_the_engine(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port), "--model", str(tmp_path / "no-model")])
    # The port is named, and it is checked before the model (which does not exist here) would be loaded.
    assert result.exit_code == 2 and f"port {port} on 127.0.0.1 is in use" in result.output
    result = CliRunner().invoke(app, ["serve", "--host", "host.invalid"])
    assert result.exit_code == 2 and "'host.invalid' is not an address" in result.output


def test_serve_max_batch_reaches_the_settings_and_must_be_positive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    import webcare_nlp.api.app
    import webcare_nlp.cli.serve

    given: list[Settings] = []
    monkeypatch.setattr(webcare_nlp.api.app, "create_app", lambda settings: given.append(settings))
    monkeypatch.setattr(webcare_nlp.cli.serve, "_check_address", lambda host, port: None)
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)  # no server in a test
    database = ["--database", str(tmp_path / "f.sqlite3")]
    runner = CliRunner()
    result = runner.invoke(app, ["serve", "--max-batch", "7", *database], env={"WEBCARE_MAX_BATCH": "3"})
    assert result.exit_code == 0, result.output
    assert [s.max_batch for s in given] == [7]  # the option beats the environment
    result = runner.invoke(app, ["serve", *database], env={"WEBCARE_MAX_BATCH": "3"})
    assert result.exit_code == 0 and given[-1].max_batch == 3  # unset, the environment's stays
    result = runner.invoke(app, ["serve", "--max-batch", "0", *database])
    assert result.exit_code == 2 and "--max-batch" in result.output and "greater than or equal to 1" in result.output
    result = runner.invoke(app, ["serve", "--max-batch", "20000", *database])
    assert result.exit_code == 2 and "max_batch" in result.output and "10000" in result.output
    assert len(given) == 2  # neither bad value started a server
