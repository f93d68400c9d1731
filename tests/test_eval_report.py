import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import tiny_records, write_jsonl
from webcare_nlp.cli import app
from webcare_nlp.engine import Engine
from webcare_nlp.evaluation import evaluate
from webcare_nlp.report import render_html

runner = CliRunner()
DEVSET = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "devset"


@pytest.fixture(scope="module")
def tiny_engine(tiny_model):  # type: ignore[no-untyped-def]
    return Engine.load(tiny_model)


def _self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no CDN, nothing fetched
    assert "data:image/png;base64," in page


def test_report_has_labels_languages_plots_and_worst_errors(tiny_engine):
    records = tiny_records()
    records[0]["text"] = "Bel me op 06-12345678, waar is mijn koffer <script>?"
    page = render_html(evaluate(tiny_engine, records, source="tiny.jsonl"), model="tiny")
    _self_contained(page)
    for heading in ("Summary", "intent", "sentiment", "reactive", "Per language", "Worst errors"):
        assert f">{heading}" in page
    assert page.count("data:image/png;base64,") == 6  # a confusion matrix and a reliability diagram per label
    assert "&lt;script&gt;" in page and "06-12345678" not in page  # escaped, and shown masked


def test_report_on_partly_labelled_and_unlabelled_files(tiny_engine):
    only_sentiment = [{"id": "1", "text": "Lange wachttijd.", "sentiment": "negative"}]
    page = render_html(evaluate(tiny_engine, only_sentiment, source="s.jsonl"))
    assert ">sentiment<" in page and ">intent<" not in page
    unlabelled = render_html(evaluate(tiny_engine, [{"text": "hoi"}], source="u.jsonl"))
    assert "no intent, sentiment or reactive labels" in unlabelled
    gold = [{**tiny_records()[0], "gold_templates": ["air-bagage-01"]}]
    note = render_html(evaluate(tiny_engine, gold, source="g.jsonl"))
    assert "Suggestions" in note  # scored, or a note that says why not


def test_evaluate_cli_html_and_folder_reports(tmp_path, tiny_model):
    data = write_jsonl(tmp_path / "labelled.jsonl", tiny_records())
    html_path = tmp_path / "report.html"
    result = runner.invoke(app, ["evaluate", str(data), "--report", str(html_path), "--model", str(tiny_model)])
    assert result.exit_code == 0, result.output
    _self_contained(html_path.read_text())
    folder = tmp_path / "reports"
    result = runner.invoke(app, ["evaluate", str(data), "--report", str(folder), "--model", str(tiny_model)])
    assert result.exit_code == 0 and (folder / "report.md").is_file()
    assert json.loads((folder / "metrics.json").read_text())["n"] == 30
    nowhere = runner.invoke(app, ["evaluate", str(data), "--report", str(tmp_path / "no" / "r.html")])
    assert nowhere.exit_code == 2 and "does not exist" in nowhere.output


def test_evaluate_reads_a_labelled_csv_as_train_does(tmp_path, tiny_model):
    import csv

    records = tiny_records()
    data, labelled = tmp_path / "labelled.jsonl", tmp_path / "labelled.csv"
    write_jsonl(data, records)
    with labelled.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    from_jsonl = runner.invoke(app, ["evaluate", str(data), "--json", "--model", str(tiny_model)])
    from_csv = runner.invoke(app, ["evaluate", str(labelled), "--json", "--model", str(tiny_model)])
    assert from_csv.exit_code == 0, from_csv.output
    jsonl_metrics, csv_metrics = json.loads(from_jsonl.output), json.loads(from_csv.output)
    assert csv_metrics.pop("source").endswith(".csv") and jsonl_metrics.pop("source").endswith(".jsonl")
    assert csv_metrics == jsonl_metrics


@pytest.mark.skipif(not DEVSET.is_dir(), reason="the dev set lives in ../shared/data/ (evaluation only)")
def test_report_on_the_dev_set(engine):
    from webcare_nlp.records import read_jsonl_records

    records = read_jsonl_records(DEVSET / "messages.jsonl")
    page = render_html(evaluate(engine, records, source=str(DEVSET / "messages.jsonl")))
    _self_contained(page)
    assert f"{len(records)} messages" in page and ">Per language<" in page


def test_ranking_is_scored_only_against_the_library_the_gold_ids_come_from(tiny_engine):
    known = tiny_engine.suggester.library.templates[0].id
    scored = evaluate(tiny_engine, [{**tiny_records()[0], "gold_templates": [known]}], source="g.jsonl")
    assert scored.ranking_note == "" and scored.ranking["template_n"] == 1
    assert scored.ranking["template_answered"] in (0.0, 1.0)
    foreign = evaluate(tiny_engine, [{**tiny_records()[0], "gold_templates": ["other-team-07"]}], source="f.jsonl")
    assert foreign.ranking == {} and "--templates" in foreign.ranking_note
