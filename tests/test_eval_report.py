import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import tiny_records, write_jsonl
from webcare_nlp.cli import app
from webcare_nlp.engine import Engine
from webcare_nlp.errors import InputError
from webcare_nlp.evaluation import evaluate, write_report
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
    only_reply = render_html(evaluate(tiny_engine, [{"text": "hoi", "reply_expected": True}], source="r.jsonl"))
    assert "no intent, sentiment or reactive labels" in only_reply
    with pytest.raises(InputError, match=r"u\.jsonl has no gold labels"):
        evaluate(tiny_engine, [{"text": "hoi"}], source="u.jsonl")
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


def _table_rows_in_code_fences(markdown: str) -> list[str]:
    fenced, inside = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside and line.startswith("|"):
            fenced.append(line)
    return fenced


def test_the_folder_report_holds_markdown_tables_not_a_code_fence(tmp_path, tiny_engine):
    result = evaluate(tiny_engine, tiny_records(), source="tiny.jsonl")
    report = write_report(result, tmp_path / "report").read_text(encoding="utf-8")
    assert _table_rows_in_code_fences(report) == []
    assert report.count("| class | precision | recall | F1 | support |\n|---|") == 3  # intent, sentiment, reactive
    intent = result.labels["intent"]
    header = "| true / predicted | " + " | ".join(intent.classes) + " |"
    first_row = f"| {intent.classes[0]} | " + " | ".join(map(str, intent.confusion[0])) + " |"
    assert f"{header}\n|---|{'---:|' * len(intent.classes)}\n{first_row}\n" in report
    assert "![intent: confusion](confusion_intent.png)" in report


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


def _bad_gold_file(tmp_path: Path) -> Path:
    records = tiny_records()
    records[1]["intent"], records[3]["reactive"], records[5]["intent"] = "banana", "maybe", ["complaint"]
    return write_jsonl(tmp_path / "bad.jsonl", records)


@pytest.mark.parametrize("command", ["evaluate", "compare"])
def test_bad_gold_labels_are_refused_with_their_lines(tmp_path, tiny_model, command):
    data = _bad_gold_file(tmp_path)
    args = ["models", "compare", str(tiny_model), str(tiny_model), "--data", str(data)]
    result = runner.invoke(app, args if command == "compare" else ["evaluate", str(data), "--model", str(tiny_model)])
    assert result.exit_code == 2 and "error: The file" in result.output and "3 problem(s)" in result.output
    assert "bad.jsonl:2: unknown intent 'banana'" in result.output
    assert "bad.jsonl:4: reactive must be true or false" in result.output
    assert "bad.jsonl:6: unknown intent ['complaint']" in result.output


def test_gold_labels_are_checked_against_the_models_intents_and_may_be_partial(tiny_engine):
    # Partly labelled rows are fine; a label they do carry is checked as `webcare train` checks it.
    partial = [{"text": "Lange wachttijd.", "sentiment": "negative"}, {"text": "Top!", "reactive": False}]
    assert set(evaluate(tiny_engine, partial, source="p.jsonl").labels) == {"sentiment", "reactive"}
    with pytest.raises(InputError, match=r"p\.jsonl:2: reply_expected must be true or false"):
        evaluate(tiny_engine, [partial[0], {"text": "Top!", "reply_expected": "ja"}], source="p.jsonl")


@pytest.mark.parametrize("command", ["evaluate", "compare"])
def test_a_file_without_gold_labels_is_refused_naming_the_fields(tmp_path, tiny_model, command):
    data = write_jsonl(tmp_path / "plain.jsonl", [{"id": r["id"], "text": r["text"]} for r in tiny_records()])
    args = ["models", "compare", str(tiny_model), str(tiny_model), "--data", str(data)]
    result = runner.invoke(app, args if command == "compare" else ["evaluate", str(data), "--model", str(tiny_model)])
    assert result.exit_code == 2 and "plain.jsonl has no gold labels" in result.output
    assert "intent, sentiment, reactive" in result.output and "gold_templates" in result.output
    assert "Evaluation of" not in result.output


def test_a_class_predicted_where_it_never_belongs_counts_in_the_macro_average(tiny_engine):
    # Every gold intent is a complaint; whatever else the model says is a false positive of its class.
    records = [{"id": str(i), "text": text, "intent": "complaint"} for i, text in enumerate(TEXTS_OF_SEVERAL_KINDS)]
    result = evaluate(tiny_engine, records)
    score = result.labels["intent"]
    predicted = [r["intent"] for r in result.predictions]
    from sklearn.metrics import f1_score

    assert set(predicted) != {"complaint"}  # otherwise this test shows nothing
    assert score.macro_f1 == pytest.approx(f1_score(["complaint"] * len(records), predicted, average="macro"))
    summary = result.summary()["intent"]
    assert set(summary["per_class"]) == set(predicted) | {"complaint"}
    assert summary["per_class"]["complaint"]["support"] == len(records)
    assert summary["confusion"]["classes"] == score.classes
    assert sum(map(sum, summary["confusion"]["matrix"])) == len(records)
    # The HTML report's table shows the same macro average as its heading.
    page = render_html(result, model="tiny")
    section = page.split("<h2>intent</h2>", 1)[1].split("<h2>", 1)[0]
    macro_row = re.search(r"<td>macro avg</td>(?:<td class=\"n\">[^<]*</td>){2}<td class=\"n\">([0-9.]+)</td>", section)
    assert macro_row is not None and float(macro_row.group(1)) == pytest.approx(score.macro_f1, abs=0.001)


TEXTS_OF_SEVERAL_KINDS = [
    "Mijn koffer is kwijt, dit is de derde keer!",
    "Wat is jullie openingstijd op zondag?",
    "Top geholpen door Sanne, dank je wel!",
    "Kunnen jullie mijn abonnement opzeggen per 1 juni?",
    "Gratis iPhone!! Klik hier www.winnen-nu.nl",
    "Misschien een idee om de app een donkere modus te geven",
]
