"""`webcare topics`: outputs, report, rejects, bad input, and the topic model saved with the engine."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from tests.conftest import write_jsonl
from webcare_nlp.cli import app
from webcare_nlp.engine import Engine
from webcare_nlp.rank.library import Library
from webcare_nlp.topics.discover import FAQ_INTENTS

runner = CliRunner()

ARCHIVE = [
    ("Mijn koffer is niet aangekomen op Schiphol", "2026-03-01T10:00:00+01:00"),
    ("Koffer kwijt na mijn vlucht uit Rome, wat nu?", "2026-03-02T10:00:00+01:00"),
    ("@SkyHop waar is mijn koffer? Al 3 dagen kwijt", "2026-03-03T10:00:00+01:00"),
    ("Bagage niet aangekomen, koffer nog steeds zoek", "2026-03-04T10:00:00+01:00"),
    ("De app doet het niet, kan niet inloggen", "2026-03-05T10:00:00+01:00"),
    ("Inloggen in de app lukt al de hele dag niet", "2026-03-06T10:00:00+01:00"),
    ("App storing? Ik kan niet inloggen", "not a date"),
    ("Waarom kan ik niet inloggen in jullie app", "2026-03-08T10:00:00+01:00"),
]


@pytest.fixture()
def archive(tmp_path):
    records = [{"id": f"m{i}", "text": t, "lang": "nl", "created_at": c} for i, (t, c) in enumerate(ARCHIVE)]
    return write_jsonl(tmp_path / "archive.jsonl", records)


def test_help_has_an_example():
    result = runner.invoke(app, ["topics", "--help"])
    assert result.exit_code == 0 and "Example" in result.output and "webcare topics" in result.output


def test_topics_writes_lines_summary_and_report(archive, tmp_path, tiny_model):
    out, report = tmp_path / "topics.jsonl", tmp_path / "report.html"
    args = ["topics", str(archive), "--output", str(out), "--report", str(report), "--all-intents"]
    result = runner.invoke(app, [*args, "--model", str(tiny_model)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == [f"m{i}" for i in range(8)]
    assert lines[0]["topic"] is not None and lines[0]["topic"] != lines[4]["topic"]
    summary = json.loads((tmp_path / "topics.jsonl.summary.json").read_text())
    assert summary["topics"] == 2 and summary["trends"]["bucket"] == "day"
    assert "created_at" in result.output
    html = report.read_text()
    assert "data:image/png;base64," in html and "<script" not in html and "http" not in html
    again = runner.invoke(app, [*args, "--model", str(tiny_model)])
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_library_entries_skipped_for_the_coverage_are_named(archive, tmp_path, tiny_model):
    rows = [{"url": "https://x.nl/koffer", "title": "Koffer kwijt"}, {"title": "?"}]
    articles = write_jsonl(tmp_path / "kb.jsonl", rows)
    args = ["topics", str(archive), "--output", str(tmp_path / "t.jsonl"), "--articles", str(articles)]
    result = runner.invoke(app, [*args, "--model", str(tiny_model)])
    assert result.exit_code == 0 and f"warning: {articles}:2: skipped an article without a url" in result.output


def test_unreadable_lines_go_to_rejects(tmp_path, tiny_model):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"text": "Mijn koffer is kwijt"}\nnot json\n{"text": ""}\n')
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["topics", str(source), "--output", str(out), "--model", str(tiny_model)])
    assert result.exit_code == 0, result.output
    rejects = (tmp_path / "out.jsonl.rejects.jsonl").read_text().splitlines()
    assert len(out.read_text().splitlines()) + len(rejects) == 3
    # The rejects file is an output too: kept without --overwrite, gone when a rerun has none.
    again = runner.invoke(app, ["topics", str(source), "--output", str(out), "--model", str(tiny_model)])
    assert again.exit_code == 2 and "exists" in again.output
    source.write_bytes(b'{"text": "Mijn koffer is kwijt"}\n')
    clean = runner.invoke(app, ["topics", str(source), "-o", str(out), "--model", str(tiny_model), "--overwrite"])
    assert clean.exit_code == 0 and not (tmp_path / "out.jsonl.rejects.jsonl").exists()


@pytest.mark.parametrize(
    "paths",
    [("same.jsonl", ["--summary", "same.jsonl"]), ("r.jsonl", ["--report", "r.jsonl.summary.json"])],
)
def test_two_outputs_on_one_file_are_refused(archive, tmp_path, paths):
    out, extra = paths
    args = ["topics", str(archive), "-o", str(tmp_path / out), *[str(tmp_path / a) if "." in a else a for a in extra]]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "are the same file" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.jsonl"]


def test_times_at_the_calendars_end_give_a_report_without_a_chart(tmp_path, tiny_model):
    records = [{"id": f"m{i}", "text": t, "created_at": "9999-12-31T23:59:59Z"} for i, (t, _) in enumerate(ARCHIVE)]
    source = write_jsonl(tmp_path / "far.jsonl", records)
    report = tmp_path / "far.html"
    args = ["topics", str(source), "-o", str(tmp_path / "far.jsonl.out"), "--report", str(report), "--all-intents"]
    result = runner.invoke(app, [*args, "--model", str(tiny_model)])
    assert result.exit_code == 0, result.output
    assert "No chart: the times lie at the calendar's end" in report.read_text()


def test_save_without_topics_keeps_the_saved_ones(archive, tmp_path, tiny_model):
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model, model_dir)
    first = ["topics", str(archive), "-o", str(tmp_path / "a.jsonl"), "--all-intents", "--model", str(model_dir)]
    assert runner.invoke(app, [*first, "--save"]).exit_code == 0
    saved = Engine.load(model_dir).topics()
    lone = write_jsonl(tmp_path / "lone.jsonl", [{"text": "Mijn koffer is kwijt"}])
    result = runner.invoke(
        app, ["topics", str(lone), "-o", str(tmp_path / "b.jsonl"), "--model", str(model_dir), "--save"]
    )
    assert result.exit_code == 2 and "nothing to save; the saved topic model is kept" in result.output
    assert saved and Engine.load(model_dir).topics() == saved


def test_more_topics_than_the_messages_can_fill_is_a_warning(archive, tmp_path, tiny_model):
    args = ["topics", str(archive), "-o", str(tmp_path / "t.jsonl"), "--all-intents", "--n-topics", "50"]
    result = runner.invoke(app, [*args, "--model", str(tiny_model)])
    assert result.exit_code == 0 and "--n-topics 50 with --min-size 3 needs at least 150 messages" in result.output


@pytest.mark.parametrize("content", [b"", b"\n\n"])
def test_empty_archive_is_a_clear_error(tmp_path, tiny_model, content):
    source = tmp_path / "empty.jsonl"
    source.write_bytes(content)
    result = runner.invoke(
        app, ["topics", str(source), "--output", str(tmp_path / "o.jsonl"), "--model", str(tiny_model)]
    )
    assert result.exit_code == 2 and "error:" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("options", "topics"), [(["--clusterer", "kmeans", "--n-topics", "2"], 2), (["--n-topics", "1"], 1)]
)
def test_other_clusterers_and_a_fixed_number_of_topics(archive, tmp_path, tiny_model, options, topics):
    out = tmp_path / "t.jsonl"
    args = ["topics", str(archive), "--output", str(out), "--all-intents", "--model", str(tiny_model), *options]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "t.jsonl.summary.json").read_text())["topics"] == topics


def test_kmeans_without_a_number_of_topics_is_a_clear_error(archive, tmp_path):
    args = ["topics", str(archive), "--output", str(tmp_path / "t.jsonl"), "--clusterer", "kmeans"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "--n-topics" in result.output


def test_missing_file_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["topics", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2 and "error:" in result.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--report", "nowhere/r.html"], "does not exist"),
        (["--summary", "nowhere/s.json"], "does not exist"),
        (["--report", "."], "is a folder"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_clustering(archive, tmp_path, extra, message):
    extra = [str(tmp_path / value) if value.startswith(("nowhere", ".")) else value for value in extra]
    result = runner.invoke(app, ["topics", str(archive), "--output", str(tmp_path / "t.jsonl"), *extra])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "t.jsonl").exists()


def test_saved_topic_model_is_used_by_analyze_and_keeps_ids(archive, tmp_path, tiny_model):
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model, model_dir)
    out = tmp_path / "t.jsonl"
    base = ["topics", str(archive), "--output", str(out), "--all-intents", "--model", str(model_dir), "--save"]
    assert runner.invoke(app, base).exit_code == 0
    first = {line["id"]: line["topic"] for line in map(json.loads, out.read_text().splitlines())}
    engine = Engine.load(model_dir)
    result = engine.analyze("Mijn koffer is kwijt, niet aangekomen op Schiphol")
    assert result["topic"] == first["m0"] and result["topic_label"]
    assert engine.analyze("Lekker weer vandaag, zon op het strand")["topic"] is None
    # Only the intents the topics were found among get one: every intent after --all-intents, and
    # questions, requests and complaints otherwise (a compliment that shares words with a topic is no FAQ).
    assert engine.topic_model.intents_ is None
    engine.topic_model.intents_ = FAQ_INTENTS
    results = engine.analyze_many(
        [
            {"text": text}
            for text in (
                "Mijn koffer is kwijt, niet aangekomen op Schiphol",
                "Top dat mijn koffer zo snel terecht was, dank jullie wel!",
                "Super service, koffer binnen een dag terug 👍 dank!",
            )
        ]
    )
    assert results[0]["topic"] == first["m0"]
    assert any(r["intent"] not in FAQ_INTENTS for r in results)
    assert all(r["topic"] is None for r in results if r["intent"] not in FAQ_INTENTS)
    # A refit keeps the ids of the topics that still exist.
    assert runner.invoke(app, [*base, "--overwrite"]).exit_code == 0
    second = {line["id"]: line["topic"] for line in map(json.loads, out.read_text().splitlines())}
    assert second == first
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert "topic_model.joblib" in manifest["files"] and "topic_model" in manifest["components"]
    # The ranker's history is labelled with the same topics, for the topic-aware history vote.
    library = Library.from_records(
        articles=[{"url": "https://x.nl/koffer", "title": "koffer kwijt"}],
        history=[{"text": "Koffer kwijt na mijn vlucht uit Rome", "used": ["https://x.nl/koffer"]}],
    )
    index = Engine.load(model_dir, library=library).suggester.index
    assert index.history_topics == [first["m1"]]


def test_tampered_topic_model_is_refused(archive, tmp_path, tiny_model):
    from webcare_nlp.errors import ModelError

    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model, model_dir)
    args = ["topics", str(archive), "--output", str(tmp_path / "t.jsonl"), "--model", str(model_dir), "--save"]
    assert runner.invoke(app, args).exit_code == 0
    with (model_dir / "topic_model.joblib").open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ModelError, match="SHA-256"):
        Engine.load(model_dir)


def test_output_dash_writes_the_lines_to_standard_output(archive, tmp_path, tiny_model, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = ["topics", str(archive), "--output", "-", "--all-intents", "--model", str(tiny_model)]
    result = runner.invoke(app, base)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == [f"m{i}" for i in range(8)]
    assert '"topics": 2' in result.stderr and "warning:" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.jsonl"]  # no "-", no "-.summary.json"
    with_summary = runner.invoke(app, [*base, "--summary", "s.json"])
    assert with_summary.exit_code == 0 and with_summary.stdout == result.stdout
    assert json.loads((tmp_path / "s.json").read_text())["topics"] == 2 and not (tmp_path / "-").exists()


def test_an_input_that_the_run_would_overwrite_is_refused(archive, tmp_path):
    # The rejects of out.jsonl would be written over the very file being read.
    source = tmp_path / "out.jsonl.rejects.jsonl"
    source.write_bytes(archive.read_bytes())
    result = runner.invoke(app, ["topics", str(source), "--output", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 2 and "which this run writes" in result.output
    assert source.read_bytes() == archive.read_bytes()


def test_save_to_a_read_only_model_is_refused_before_the_clustering(archive, tmp_path, tiny_model, monkeypatch):
    import webcare_nlp.cli.topics as topics_cli

    monkeypatch.setattr(topics_cli, "can_write", lambda folder, *files: False)
    out = tmp_path / "t.jsonl"
    result = runner.invoke(app, ["topics", str(archive), "--output", str(out), "--save", "--model", str(tiny_model)])
    assert result.exit_code == 2 and "read-only" in result.output and not out.exists()


def test_can_write_tries_the_folder_and_its_files(tmp_path, monkeypatch):
    import builtins

    from webcare_nlp.errors import can_write

    manifest = tmp_path / "manifest.json"
    manifest.write_text("{}")
    assert can_write(tmp_path, manifest) and manifest.read_text() == "{}"
    assert not can_write(tmp_path / "missing", manifest)
    real_open = builtins.open

    def read_only_file_system(path, mode="r", *args, **kwargs):  # what even root meets on a read-only mount
        if "a" in mode:
            raise OSError(30, "Read-only file system", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", read_only_file_system)
    assert not can_write(tmp_path, manifest)
