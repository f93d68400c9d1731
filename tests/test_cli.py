import json

import pytest
from typer.testing import CliRunner

from webcare_nlp.cli import app

runner = CliRunner()
COMMANDS = ["analyze", "train", "evaluate", "score"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and f"webcare {command}" in result.output


def test_analyze_readable_and_json():
    result = runner.invoke(app, ["analyze", "Kunnen jullie mijn abonnement opzeggen?", "--channel", "whatsapp"])
    assert result.exit_code == 0 and "intent" in result.output and "reply" in result.output
    result = runner.invoke(app, ["analyze", "Top geholpen, dank!", "--json"])
    assert json.loads(result.output)["sentiment"] in {"positive", "neutral", "negative"}


def test_readable_analysis_marks_a_close_call(capsys):
    from webcare_nlp.cli.label import print_analysis

    result = {
        "intent": "question",
        "intent_scores": {"question": 0.81, "complaint": 0.15, "other": 0.04},
        "sentiment": "negative",
        "sentiment_scores": {"negative": 0.50, "neutral": 0.45, "positive": 0.05},
        "reactive": True,
        "reactive_probability": 0.98,
        "platform": "brand",
        "platform_inferred": False,
        "reply_expected": True,
        "reply_reason": "brand platform: reply",
        "needs_review": False,
        "lang": "nl",
        "entities": [],
    }
    print_analysis(result)
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["sentiment"].endswith("[close call: negative or neutral]")
    assert "close call" not in lines["intent"]


@pytest.mark.parametrize("bad", ["", "   "])
def test_analyze_bad_text_is_a_clear_error(bad):
    result = runner.invoke(app, ["analyze", bad])
    assert result.exit_code == 2
    assert "error:" in result.output and "Traceback" not in result.output


def test_analyze_reads_standard_input_and_refuses_invalid_utf8():
    assert runner.invoke(app, ["analyze", "-"], input=b"waar is mijn pakket?").exit_code == 0
    result = runner.invoke(app, ["analyze", "-"], input=b"\xff\xfe\x00bad")
    assert result.exit_code == 2 and "UTF-8" in result.output
    # An argument in Latin-1 reaches Python as surrogate escapes, which nothing could print or store.
    latin = runner.invoke(app, ["analyze", "caf\udce9 pakket"])
    assert latin.exit_code == 2 and "not valid UTF-8 (byte 0xe9)" in latin.output


def test_score_loses_no_line(tmp_path):
    lines = [
        b'{"id": "a", "text": "Waar blijft mijn pakket?"}',
        b"this is not json",
        b'{"id": "b"}',
        b"[1, 2, 3]",
        b'{"text": "\xff\xfe invalid utf-8"}',
        b'{"text": ""}',
        b'{"text": 42}',
        b'{"text": "top service!", "channel": "pigeon"}',
        b'{"text": "' + b"x" * 1_100_000 + b'"}',
        b'{"text": "Dank je wel voor de hulp ^JV", "platform": "brand"}',
        b'{"text": "nul\\u0000byte"}',
    ]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    output = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(source), "--output", str(output)])
    assert result.exit_code == 0, result.output
    scored = [json.loads(line) for line in output.read_text().splitlines()]
    rejects = [json.loads(line) for line in (tmp_path / "out.jsonl.rejects.jsonl").read_text().splitlines()]
    assert len(scored) + len(rejects) == len(lines)
    assert [r["id"] for r in scored] == ["a", "10"]
    assert sorted(r["line"] for r in rejects) == [2, 3, 4, 5, 6, 7, 8, 9, 11]
    assert all(r["reason"] for r in rejects)
    by_line = {r["line"]: r["raw"] for r in rejects}
    assert by_line[5] == '{"text": "\\xff\\xfe invalid utf-8"}'  # bytes kept as escapes
    assert len(by_line[9]) == len(lines[8])  # the over-long line is kept whole


def test_evaluate_names_the_line_of_a_bad_record(tmp_path):
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text('{"text": "top!", "sentiment": "positive"}\n{"sentiment": "negative"}\n')
    result = runner.invoke(app, ["evaluate", str(labelled)])
    assert result.exit_code == 2
    assert "labelled.jsonl:2:" in result.output and "no 'text'" in result.output


def test_score_output_problems_are_clear(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "hoi"}\n')
    missing = runner.invoke(app, ["score", str(source), "--output", str(tmp_path / "nope" / "out.jsonl")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    existing = tmp_path / "out.jsonl"
    existing.write_text("keep me\n")
    refused = runner.invoke(app, ["score", str(source), "--output", str(existing)])
    assert refused.exit_code == 2 and "--overwrite" in refused.output
    assert existing.read_text() == "keep me\n"
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = runner.invoke(app, ["score", str(empty), "--output", str(tmp_path / "e.jsonl")])
    assert result.exit_code == 0 and (tmp_path / "e.jsonl").read_text() == ""
    gone = runner.invoke(app, ["score", str(tmp_path / "absent.jsonl"), "--output", str(tmp_path / "x.jsonl")])
    assert gone.exit_code == 2 and "No such input file" in gone.output
    history = tmp_path / "history.jsonl"
    history.write_text('{"text": "koffer kwijt", "used": ["no-such-template"]}\n')
    arguments = ["score", str(source), "--output", str(tmp_path / "w.jsonl"), "--history", str(history)]
    warned = runner.invoke(app, arguments)
    assert warned.exit_code == 0 and f"warning: {history}:1: ignored unknown template" in warned.output


def test_suggest_each_line_answers_every_message_and_reports_bad_lines():
    lines = b"Waar blijft mijn pakket?\n\nik wil mijn abonnement opzeggen\n" + b"\xff\xfe bad\n" + b"x" * 20_001
    result = runner.invoke(app, ["suggest", "-", "--each-line", "--json", "--always"], input=lines)
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["id"] for a in answers] == ["1", "3"]
    assert all(a["suggestions"] for a in answers)
    assert "line 4: not valid UTF-8" in result.stderr and "line 5:" in result.stderr
    refused = runner.invoke(app, ["suggest", "a message", "--each-line"])
    assert refused.exit_code == 2 and "give - as the text" in refused.output
