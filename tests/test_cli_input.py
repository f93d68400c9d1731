"""Odd input to the single-message and small commands: each a clear message (exit 2), never a traceback,
and nothing written that the user did not ask for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from webcare_nlp.cli import app

runner = CliRunner()


def test_a_current_pointer_that_is_not_utf8_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "CURRENT").write_bytes(b"webcare-sm\xe9ll\n")
    listed = runner.invoke(app, ["models", "list", "--models-dir", str(tmp_path)])
    assert listed.exit_code == 0 and "cannot be read" in listed.output
    assert not isinstance(listed.exception, UnicodeDecodeError)


def test_closed_standard_input_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from webcare_nlp.cli import _app

    monkeypatch.setattr(_app.sys, "stdin", None)  # what `webcare analyze - <&-` leaves Python
    with pytest.raises(typer.Exit):
        _app.read_text("-")


def test_standard_input_is_read_only_up_to_the_longest_message() -> None:
    result = runner.invoke(app, ["analyze", "-"], input=b"koffer kwijt " * 10_000)
    assert result.exit_code == 2 and "standard input holds more than 80,000 bytes" in result.output


def test_feedback_refuses_a_broken_label_and_creates_no_store_without_its_fields(tmp_path: Path) -> None:
    db = tmp_path / "fb.db"
    bare = runner.invoke(app, ["feedback", "--db", str(db)])
    assert bare.exit_code == 2 and "give --suggestion" in bare.output and not db.exists()
    # A Latin-1 argument reaches Python as a half character (a surrogate escape).
    broken = ["feedback", "--db", str(db), "--suggestion", "x", "--action", "used", "--text", "koffer"]
    result = runner.invoke(app, [*broken, "--intent", "compl\udce9int"])
    assert result.exit_code == 2 and "'intent' holds control characters or half a character" in result.output


def test_suggest_refuses_a_missing_feedback_store_and_bad_initials(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    result = runner.invoke(app, ["suggest", "koffer kwijt", "--feedback-db", str(missing)])
    assert result.exit_code == 2 and "No feedback database" in result.output and not missing.exists()
    result = runner.invoke(app, ["suggest", "koffer kwijt", "--always", "--initials", "J\tV\x1b"])
    assert result.exit_code == 2 and "'initials' holds control characters" in result.output


def test_a_name_of_only_an_at_sign_leaves_naam_to_fill() -> None:
    result = runner.invoke(
        app, ["suggest", "@acme mijn koffer is kwijt", "--author", "@", "--always", "--json", "--initials", "JV"]
    )
    assert result.exit_code == 0
    templates = [s for s in json.loads(result.output)["suggestions"] if s["kind"] == "template"]
    assert any("{naam}" in s["text"] for s in templates)  # the case under test does occur
    for suggestion in templates:
        assert "Hoi ," not in suggestion["text"]
        if "{naam}" in suggestion["text"]:
            assert "naam" in suggestion["needs_input"]


def test_evaluate_refuses_an_empty_report_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    labelled = tmp_path / "l.jsonl"
    labelled.write_text(json.dumps({"text": "Waar blijft mijn pakket?", "intent": "question"}) + "\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["evaluate", str(labelled), "--report", ""])
    assert result.exit_code == 2 and "--report needs a name" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.jsonl"]


def test_evaluate_reads_a_byte_order_mark(tmp_path: Path) -> None:
    labelled = tmp_path / "bom.jsonl"
    labelled.write_bytes(b"\xef\xbb\xbf" + json.dumps({"text": "Top geholpen!", "sentiment": "positive"}).encode())
    result = runner.invoke(app, ["evaluate", str(labelled), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["n"] == 1


def test_platform_inference_is_scored_on_the_messages_with_a_platform(engine) -> None:  # type: ignore[no-untyped-def]
    from webcare_nlp import evaluation

    known = [
        {"text": "@NoordwindHelpt mijn koffer is kwijt", "platform": "consumer", "reply_expected": True},
        {"text": "Hoi, kan ik mijn boeking omzetten?", "platform": "brand", "reply_expected": True},
    ]
    unknown = [
        {"text": "Wat een dag weer zeg", "reply_expected": False},
        {"text": "waar is mn pakket", "reply_expected": True},
    ]
    alone = evaluation.evaluate(engine, known).reply["platform_inference_accuracy"]
    assert evaluation.evaluate(engine, known + unknown).reply["platform_inference_accuracy"] == alone


def test_gold_ids_in_a_string_are_a_list(engine) -> None:  # type: ignore[no-untyped-def]
    from webcare_nlp import evaluation

    template = engine.suggester.library.templates[0].id
    listed = [{"text": "Mijn koffer is kwijt, help!", "gold_templates": [template, "nope"]}]
    as_string = [{"text": "Mijn koffer is kwijt, help!", "gold_templates": f"{template}|nope"}]
    as_json = [{"text": "Mijn koffer is kwijt, help!", "gold_templates": json.dumps([template, "nope"])}]
    scored = [evaluation.evaluate(engine, records) for records in (listed, as_string, as_json)]
    assert not scored[0].ranking_note and scored[0].ranking["template_n"] == 1.0
    assert scored[1].ranking == scored[0].ranking == scored[2].ranking


def test_a_sure_pick_for_review_is_not_called_unsure() -> None:
    from webcare_nlp.review import review_score

    sure = {
        "intent": "complaint",
        "intent_scores": {"complaint": 0.92, "request": 0.04, "question": 0.04},
        "sentiment": "negative",
        "sentiment_scores": {"negative": 0.95, "neutral": 0.05},
        "reactive_probability": 0.97,
    }
    _, reasons = review_score([sure])
    assert reasons == ["most doubt on intent: complaint 0.92 vs request 0.04"]


def test_serve_refuses_an_empty_host_and_checks_the_model_before_its_workers(tmp_path: Path) -> None:
    empty_host = runner.invoke(app, ["serve", "--host", "", "--port", "18999"])
    assert empty_host.exit_code == 2 and "--host is empty" in empty_host.output
    # With two workers the model is loaded once here first: uvicorn would restart failing workers forever.
    missing = runner.invoke(app, ["serve", "--workers", "2", "--port", "18999", "--model", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "No model folder" in missing.output


def test_a_dask_scheduler_address_is_checked_and_a_silent_one_times_out() -> None:
    import socket
    import time

    distributed = pytest.importorskip("distributed")
    from webcare_nlp.batch.on_dask import _connect
    from webcare_nlp.errors import InputError

    for address in ("garbage", "http://127.0.0.1:8786", "tcp://127.0.0.1:notaport", "tcp://127.0.0.1:70000"):
        with pytest.raises(InputError, match="is not a Dask scheduler address"):
            _connect(distributed, address)
    with socket.socket() as silent:  # accepts the connection and never answers, as a port of another service
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        started = time.monotonic()
        with pytest.raises(InputError, match="no Dask scheduler answered within 6 s"):
            _connect(distributed, f"tcp://127.0.0.1:{silent.getsockname()[1]}", seconds=6)
        assert time.monotonic() - started < 15


def test_train_refuses_an_empty_intent_list(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--intents", "", "--output", str(tmp_path / "m"), "--no-current"])
    assert result.exit_code == 2 and "--intents wants comma-separated label names" in result.output
    assert not (tmp_path / "m").exists()
