import json

import pytest
from typer.testing import CliRunner

from webcare_nlp.cli import app
from webcare_nlp.errors import InputError
from webcare_nlp.records import Reject
from webcare_nlp.review import pick_for_review, review_score

runner = CliRunner()

ARCHIVE = [
    "Waar blijft mijn pakket nou?",
    "Top geholpen, dank jullie!",
    "Kunnen jullie mij terugbellen over mijn factuur?",
    "Wat een gedoe weer met de app",
    "Wat een gedoe weer met de app!!",  # a near-duplicate of the line above
    "Mooi weer vandaag",
    "Ik wil mijn abonnement opzeggen, niemand reageert 😡",
    "Tip: zet de levertijd in de bevestiging",
]


def _scores(**top):  # type: ignore[no-untyped-def]
    return {
        "intent": max(top["intent"], key=top["intent"].get),
        "intent_scores": top["intent"],
        "sentiment": max(top["sentiment"], key=top["sentiment"].get),
        "sentiment_scores": top["sentiment"],
        "reactive_probability": top.get("reactive", 0.9),
    }


def test_an_unsure_message_scores_higher_than_a_sure_one():
    sure = _scores(intent={"complaint": 0.95, "request": 0.05}, sentiment={"negative": 0.9, "neutral": 0.1})
    unsure = _scores(intent={"complaint": 0.5, "request": 0.45}, sentiment={"negative": 0.9, "neutral": 0.1})
    assert review_score([unsure])[0] > review_score([sure])[0]
    assert "intent unsure" in review_score([unsure])[1][0]


def test_disagreement_between_models_counts_most():
    a = _scores(intent={"complaint": 0.9, "request": 0.1}, sentiment={"negative": 0.9, "neutral": 0.1})
    b = _scores(intent={"complaint": 0.2, "request": 0.8}, sentiment={"negative": 0.9, "neutral": 0.1})
    score, reasons = review_score([a, b])
    assert score > 1 and "models disagree on intent: complaint / request" in reasons


def test_picks_n_best_without_near_duplicates_and_keeps_rejects(tiny_model):
    from webcare_nlp.engine import Engine

    engine = Engine.load(tiny_model)
    lines = [(i, {"id": str(i), "text": t}) for i, t in enumerate(ARCHIVE, start=1)]
    lines.insert(2, (99, Reject(99, "not valid JSON", "{oops")))
    picked, summary = pick_for_review([engine, engine], lines, n=3, chunk_size=3)
    assert summary.read == len(ARCHIVE) + 1 and summary.rejected == 1 and summary.picked == 3
    assert [c.score for c in picked] == sorted((c.score for c in picked), reverse=True)
    texts = [c.message["text"] for c in picked]
    assert not {"Wat een gedoe weer met de app", "Wat een gedoe weer met de app!!"} <= set(texts)
    everything, _ = pick_for_review([engine], lines, n=100)
    assert len(everything) == len(ARCHIVE) - 1  # every readable message but the near-duplicate
    with pytest.raises(InputError):
        pick_for_review([], lines, n=3)


def test_a_burst_of_near_copies_does_not_crowd_out_distinct_messages(tiny_model):
    from webcare_nlp.engine import Engine

    engine = Engine.load(tiny_model)
    scores = {c.message["text"]: c.score for c in pick_for_review([engine], _lines(ARCHIVE), n=100)[0]}
    burst_text = max(scores, key=scores.get)  # the most uncertain message, sent forty times with a counter
    burst = [f"{burst_text} ({i})" for i in range(40)]
    picked, summary = pick_for_review([engine], _lines(burst + ARCHIVE), n=4, chunk_size=1000)
    texts = [c.message["text"] for c in picked]
    assert len(picked) == 4 and sum(text.startswith(burst_text) for text in texts) == 1
    assert summary.skipped_near_duplicates >= 39


def _lines(texts):
    return [(i, {"id": str(i), "text": t}) for i, t in enumerate(texts, start=1)]


def test_review_cli(tmp_path, tiny_model):
    source = tmp_path / "archive.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in ARCHIVE) + "not json\n")
    output = tmp_path / "to_label.jsonl"
    args = ["review", str(source), "--output", str(output), "--n", "4", "--model", str(tiny_model)]
    result = runner.invoke(app, [*args, "--with-model", str(tiny_model)])
    assert result.exit_code == 0, result.output
    picked = [json.loads(line) for line in output.read_text().splitlines()]
    assert [p["review"]["rank"] for p in picked] == [1, 2, 3, 4]
    assert all(p["text"] in ARCHIVE and p["review"]["reasons"] and "intent" in p["review"]["suggested"] for p in picked)
    rejects = [json.loads(line) for line in (tmp_path / "to_label.jsonl.rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [len(ARCHIVE) + 1]
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "--overwrite" in again.output
    missing = runner.invoke(app, ["review", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o.jsonl")])
    assert missing.exit_code == 2 and "error:" in missing.output


def test_review_reads_a_csv_archive_as_score_does(tmp_path, tiny_model):
    as_jsonl, as_csv = tmp_path / "archive.jsonl", tmp_path / "archive.csv"
    as_jsonl.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(ARCHIVE)))
    rows = "".join(f'{i},"{t}"\n' for i, t in enumerate(ARCHIVE))
    as_csv.write_text("id,text\n" + rows + "99,\n", encoding="utf-8")  # the last row has no text
    picked = {}
    for source in (as_jsonl, as_csv):
        output = tmp_path / f"{source.suffix[1:]}.jsonl"
        result = runner.invoke(app, ["review", str(source), "-o", str(output), "--n", "3", "--model", str(tiny_model)])
        assert result.exit_code == 0, result.output
        picked[source.suffix] = [
            (p["id"], p["review"]["score"]) for p in map(json.loads, output.read_text().splitlines())
        ]
    assert picked[".csv"] == picked[".jsonl"]
    rejects = (tmp_path / "csv.jsonl.rejects.jsonl").read_text().splitlines()
    assert [json.loads(r)["line"] for r in rejects] == [len(ARCHIVE) + 2]


def test_review_output_dash_writes_to_standard_output(tmp_path, tiny_model, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "archive.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in ARCHIVE) + "not json\n")
    result = runner.invoke(app, ["review", str(source), "--output", "-", "--n", "4", "--model", str(tiny_model)])
    assert result.exit_code == 0, result.output
    picked = [json.loads(line) for line in result.stdout.splitlines()]
    assert [p["review"]["rank"] for p in picked] == [1, 2, 3, 4]
    assert '"raw": "not json"' in result.stderr and '"picked": 4' in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.jsonl"]  # no "-", no "-.rejects.jsonl"
