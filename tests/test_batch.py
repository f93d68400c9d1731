"""Batch scoring: nothing lost, input order kept, JSONL/CSV/Parquet in and out, clear errors on bad input."""

from __future__ import annotations

import gc
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from webcare_nlp.batch import ScoreSettings, score_file
from webcare_nlp.cli import app
from webcare_nlp.errors import InputError, WebcareError

runner = CliRunner()

GOOD = [
    {"id": "a", "text": "Waar blijft mijn pakket? Al een week niks gehoord", "channel": "twitter", "author": "Sanne"},
    {"id": "b", "text": "Top geholpen door Ilse ^IB, dank jullie!", "channel": "facebook", "platform": "brand"},
    {"text": "Kunnen jullie mijn abonnement opzeggen per 1 juni?", "channel": "whatsapp"},
    {"id": 7, "text": "Mijn koffer is kapot teruggekomen 😡", "author": None},
]

# One line of every kind a real archive holds: good lines between bad ones, and blank lines.
BAD_CASES = [
    json.dumps(GOOD[0]).encode(),
    b"this is not json",
    b'{"id": "no-text"}',
    b"",
    b"[1, 2, 3]",
    b'{"text": "\xff\xfe invalid utf-8"}',
    json.dumps(GOOD[1]).encode(),
    b'{"text": ""}',
    b"   \t ",
    b'{"text": 42}',
    b'{"text": ["een", "lijst"]}',
    b'{"text": "top service!", "channel": "pigeon"}',
    b'{"text": "' + b"x" * 1_100_000 + b'"}',
    b'{"text": "nul\\u0000byte"}',
    b'{"text": "half',
    b"null",
    b"\x00\x01\x02\x03 binary",
    json.dumps(GOOD[2]).encode(),
    b'{"text": "dubbel", "text": }',
    json.dumps(GOOD[3], ensure_ascii=False).encode(),
    b'{"text": "hoi \\ud83d kapot emoji"}',
    b'{"text": "hoi", "note": "\\udc00"}',
    b'{"text": "hoi", "n": ' + b"9" * 5000 + b"}",
    b"[" * 100_000,
    b'{"text": "hoi", "author": "Sa\\u0000nne\\u001b[31m"}',
    b'{"text": "hoi", "name": 5}',
]


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def _score(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["score", *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    source = tmp_path / "archive.jsonl"
    source.write_bytes(b"\n".join(BAD_CASES) + b"\n\n")
    return source


def test_every_line_is_scored_or_rejected(tmp_path, bad_file):
    output = tmp_path / "scored.jsonl"
    code, text = _score(str(bad_file), "--output", str(output), "--summary-json", "--chunk-size", "3")
    assert code == 0, text
    scored = _read_jsonl(output)
    rejects = _read_jsonl(tmp_path / "scored.jsonl.rejects.jsonl")
    blank = [i for i, raw in enumerate(BAD_CASES, start=1) if not raw.strip()] + [len(BAD_CASES) + 1]
    assert len(scored) + len(rejects) == len(BAD_CASES) + 1 - len(blank)  # lines in = out + rejected
    assert [r["id"] for r in scored] == ["a", "b", "18", "7"]  # input order; a missing id is the line number
    assert set(r["line"] for r in rejects).isdisjoint(blank)
    assert all(r["reason"] and "raw" in r for r in rejects)
    summary = json.loads(text.strip().splitlines()[-2])
    assert (summary["lines"], summary["scored"], summary["rejected"], summary["blank"]) == (
        len(scored) + len(rejects),
        len(scored),
        len(rejects),
        len(blank),
    )
    assert sum(summary["intent"].values()) == len(scored)


def test_reject_reasons_say_what_is_wrong(tmp_path, bad_file):
    output = tmp_path / "scored.jsonl"
    assert _score(str(bad_file), "--output", str(output))[0] == 0
    reasons = {r["line"]: r["reason"] for r in _read_jsonl(tmp_path / "scored.jsonl.rejects.jsonl")}
    assert "not valid JSON" in reasons[2]
    assert "no 'text'" in reasons[3]
    assert "UTF-8" in reasons[6]
    assert "string, not int" in reasons[10]
    assert "channel" in reasons[12]
    assert "limit" in reasons[13]
    assert "half of a character" in reasons[21] and "half of a character" in reasons[22]
    assert "4,300 digits" in reasons[23] and "nested deeper" in reasons[24]
    assert "field 'author' holds control characters" in reasons[25]
    assert "field 'name' must be a string" in reasons[26]  # the display name fills {naam}, as author does


def test_workers_keep_the_input_order(tmp_path, bad_file, engine):
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    score_file(str(bad_file), str(one), engine=engine, chunk_size=2)
    summary = score_file(str(bad_file), str(two), workers=2, chunk_size=2)
    assert two.read_bytes() == one.read_bytes()
    assert (tmp_path / "two.jsonl.rejects.jsonl").read_bytes() == (tmp_path / "one.jsonl.rejects.jsonl").read_bytes()
    assert summary.lines == summary.scored + summary.rejected


def test_an_in_process_run_gives_the_process_its_settings_back(tmp_path, bad_file, engine):
    # Scoring freezes the heap and uses one BLAS thread while it runs; a notebook that calls it keeps its own.
    from threadpoolctl import threadpool_info

    before = gc.get_freeze_count(), [pool["num_threads"] for pool in threadpool_info()]
    seen = []
    score_file(
        str(bad_file),
        str(tmp_path / "out.jsonl"),
        engine=engine,
        chunk_size=4,
        progress=lambda *_: seen.append((gc.get_freeze_count(), _blas_threads())),
    )
    assert seen and all(frozen > 0 and threads == {1} for frozen, threads in seen)
    assert (gc.get_freeze_count(), [pool["num_threads"] for pool in threadpool_info()]) == before


def _blas_threads() -> set[int]:
    from threadpoolctl import threadpool_info

    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_csv_and_parquet_give_the_same_labels_as_jsonl(tmp_path, engine):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(GOOD)
    frame["id"] = frame["id"].astype("string")
    frame.to_csv(tmp_path / "in.csv", index=False, sep=";")  # another delimiter: found from the header
    frame.to_parquet(tmp_path / "in.parquet")
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in GOOD), encoding="utf-8")
    reference = score_file(str(tmp_path / "in.jsonl"), str(tmp_path / "ref.jsonl"), engine=engine)
    assert reference.scored == len(GOOD)
    expected = pd.read_json(tmp_path / "ref.jsonl", lines=True, dtype=False)
    first_suggestions = json.loads((tmp_path / "ref.jsonl").read_text().splitlines()[0])["suggestions"]
    for source in ("in.csv", "in.parquet"):
        for target in ("out.csv", "out.parquet"):
            out = tmp_path / f"{source}.{target}"
            settings = ScoreSettings(fields=("author",))
            score_file(str(tmp_path / source), str(out), engine=engine, settings=settings)
            got = pd.read_csv(out, dtype=str) if target == "out.csv" else pd.read_parquet(out)
            assert "intent_scores" not in got.columns  # formats.md: no score dicts in a table
            assert got["intent"].tolist() == expected["intent"].tolist(), (source, target)
            assert got["reply_expected"].astype(str).tolist() == expected["reply_expected"].astype(str).tolist()
            assert json.loads(got["suggestions"][0]) == first_suggestions
            assert got["author"][0] == "Sanne"


def test_csv_rows_that_cannot_be_read_are_rejected_with_their_line(tmp_path, engine):
    rows = [
        b"id,text,channel",
        b'c1,"Waar is mijn pakket?",twitter',
        b"c2,te veel,velden,hier",
        b"c3,,twitter",
        b'c4,"over twee\nregels, met komma",facebook',
        b"",
        b"c5,\xff\xfe kapot,twitter",
        b'c6,"' + b"y" * 200_000 + b'",twitter',
        b"c7,Dank voor de snelle hulp,whatsapp",
    ]
    source = tmp_path / "in.csv"
    source.write_bytes(b"\n".join(rows) + b"\n")
    summary = score_file(str(source), str(tmp_path / "out.jsonl"), engine=engine)
    scored = _read_jsonl(tmp_path / "out.jsonl")
    rejects = {r["line"]: r for r in _read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")}
    assert [r["id"] for r in scored] == ["c1", "c4", "c7"]
    assert sorted(rejects) == [3, 4, 8, 9]  # line numbers of the file, a quoted newline counted
    assert "fields" in rejects[3]["reason"] and rejects[3]["raw"] == "c2,te veel,velden,hier"
    assert "UTF-8" in rejects[8]["reason"] and "\\xff" in rejects[8]["raw"]
    assert "empty" in rejects[4]["reason"]  # the text cell, not "no 'text' field"
    assert summary.lines == len(scored) + len(rejects) and summary.blank == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("no_text.csv", b"id,bericht\n1,hoi\n", "no 'text' column"),
        ("twice.csv", b"id,text,text\n1,hallo,hoi\n", "'text' more than once"),
        ("old_mac.csv", b"id,text\r1,hoi\r2,dag\r", "bare carriage return"),
        ("empty.csv", b"", "empty"),
        ("notes.txt", b"hoi\n", "Cannot tell the format"),
        ("broken.parquet", b"PAR1 not really", "not a readable Parquet file"),
        # Not UTF-8 text at all: one clear error rather than every line rejected as unreadable.
        ("u16.jsonl", '{"text": "hoi"}\n'.encode("utf-16"), "is UTF-16 text"),
        ("packed.jsonl", b"\x1f\x8b\x08\x00" + bytes(20), "is gzip-compressed"),
    ],
)
def test_unusable_input_is_a_clear_error(tmp_path, name, content, message):
    source = tmp_path / name
    source.write_bytes(content)
    code, text = _score(str(source), "--output", str(tmp_path / "out.jsonl"))
    assert code == 2 and "error:" in text and message in text
    assert not list(tmp_path.glob(".out.jsonl*"))  # no working files left behind


def test_parquet_with_a_wrong_schema_is_a_clear_error(tmp_path):
    pd = pytest.importorskip("pandas")
    pd.DataFrame({"id": ["1"], "bericht": ["hoi"]}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"id": ["1"], "text": [42]}).to_parquet(tmp_path / "b.parquet")
    code, text = _score(str(tmp_path / "a.parquet"), "--output", str(tmp_path / "out.jsonl"))
    assert code == 2 and "no 'text' column" in text
    code, text = _score(str(tmp_path / "b.parquet"), "--output", str(tmp_path / "out.jsonl"))
    assert code == 2 and "not a string column" in text


def test_a_parquet_data_set_is_checked_whole_before_the_first_row(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    folder = tmp_path / "set"
    folder.mkdir()
    pq.write_table(pa.table({"text": ["Waar blijft mijn pakket?"] * 30}), folder / "a.parquet")
    pq.write_table(pa.table({"text": [42] * 3}), folder / "b.parquet")
    code, text = _score(str(folder), "--output", str(tmp_path / "out.jsonl"), "--chunk-size", "10")
    assert code == 2 and "b.parquet" in text and "not a string column" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]  # no half run to resume
    twice = pa.Table.from_arrays([pa.array(["hoi"]), pa.array(["dag"])], names=["text", "text"])
    pq.write_table(twice, tmp_path / "twice.parquet")
    code, text = _score(str(tmp_path / "twice.parquet"), "--output", str(tmp_path / "t.jsonl"))
    assert code == 2 and "more than one column named 'text'" in text


def test_output_problems_are_clear(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "hoi, waar is mijn bestelling?"}\n', encoding="utf-8")
    code, text = _score(str(source), "--output", str(tmp_path / "missing" / "out.jsonl"))
    assert code == 2 and "does not exist" in text
    existing = tmp_path / "out.jsonl"
    existing.write_text("keep me\n")
    code, text = _score(str(source), "--output", str(existing))
    assert code == 2 and "--overwrite" in text and existing.read_text() == "keep me\n"
    code, text = _score(str(source), "--output", str(existing), "--resume")
    assert code == 2 and "no unfinished run" in text
    code, text = _score(str(source), "--output", str(existing), "--overwrite")
    assert code == 0 and len(_read_jsonl(existing)) == 1
    code, text = _score(str(source), "--output", str(source), "--overwrite")
    assert code == 2 and "which this run writes" in text
    # Nor may the input be a file the run writes beside its output, such as the rejects.
    rejects = tmp_path / "other.jsonl.rejects.jsonl"
    rejects.write_bytes(source.read_bytes())
    code, text = _score(str(rejects), "--output", str(tmp_path / "other.jsonl"))
    assert code == 2 and "which this run writes" in text and rejects.read_bytes() == source.read_bytes()
    code, text = _score(str(source), "--output", str(tmp_path / "out.xlsx"))
    assert code == 2 and "Cannot tell the format" in text


def test_empty_input_gives_an_empty_output_and_says_so(tmp_path):
    source = tmp_path / "empty.jsonl"
    source.write_bytes(b"")
    code, text = _score(str(source), "--output", str(tmp_path / "out.jsonl"))
    assert code == 0 and "holds no messages" in text
    assert (tmp_path / "out.jsonl").read_bytes() == b""


def test_standard_input_and_output(tmp_path):
    lines = "".join(json.dumps(r) + "\n" for r in GOOD) + "kapot\n"
    result = runner.invoke(app, ["score", "-", "--output", "-"], input=lines.encode())
    assert result.exit_code == 0
    scored = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"id"')]
    assert [r["id"] for r in scored] == ["a", "b", "3", "7"]
    assert '"line": 5' in result.stderr  # the reject goes to standard error


def test_a_bom_at_the_start_of_a_jsonl_file_is_not_a_reject(tmp_path, engine):
    source = tmp_path / "excel.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD[0]).encode() + b"\r\n")
    summary = score_file(str(source), str(tmp_path / "out.jsonl"), engine=engine)
    assert (summary.scored, summary.rejected) == (1, 0)


def test_suggestions_in_jsonl_and_as_a_json_string_in_csv(tmp_path, tiny_model):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in GOOD), encoding="utf-8")
    model = ["--model", str(tiny_model), "--always"]
    assert _score(str(source), "--output", str(tmp_path / "s.jsonl"), *model)[0] == 0
    assert _score(str(source), "--output", str(tmp_path / "s.csv"), *model)[0] == 0
    assert _score(str(source), "--output", str(tmp_path / "none.jsonl"), *model, "--top-k", "0")[0] == 0
    as_lists = [r["suggestions"] for r in _read_jsonl(tmp_path / "s.jsonl")]
    assert any(as_lists) and all(len(s) <= 3 for s in as_lists)
    assert all(s["kind"] in {"template", "article"} for row in as_lists for s in row)
    import csv

    with (tmp_path / "s.csv").open(encoding="utf-8", newline="") as handle:
        as_strings = [json.loads(row["suggestions"]) for row in csv.DictReader(handle)]
    assert as_strings == as_lists
    assert all(r["suggestions"] == [] for r in _read_jsonl(tmp_path / "none.jsonl"))


def test_a_forced_progress_bar_does_not_disturb_the_output(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in GOOD), encoding="utf-8")
    code, text = _score(str(source), "--output", str(tmp_path / "out.jsonl"), "--progress", "--chunk-size", "1")
    assert code == 0, text
    assert [r["id"] for r in _read_jsonl(tmp_path / "out.jsonl")] == ["a", "b", "3", "7"]


def test_kept_parquet_fields_of_any_type_reach_every_output(tmp_path, engine):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "text": ["Waar blijft mijn pakket?", "Top geholpen, dank!"],
            "created_at": pd.to_datetime(["2026-07-01 09:12", "2026-07-02 10:00"]),
            "likes": [3, 0],
        }
    )
    frame.to_parquet(tmp_path / "in.parquet")
    settings = ScoreSettings(fields=("created_at", "likes"))
    for name in ("out.jsonl", "out.csv", "out.parquet"):
        summary = score_file(str(tmp_path / "in.parquet"), str(tmp_path / name), engine=engine, settings=settings)
        assert (summary.scored, summary.rejected) == (2, 0), name
    assert _read_jsonl(tmp_path / "out.jsonl")[0]["created_at"] == "2026-07-01T09:12:00"
    assert pd.read_parquet(tmp_path / "out.parquet")["likes"].tolist() == [3, 0]  # a number stays a number
    # A timestamp is ISO 8601 text, as a JSONL created_at is: in a table once, not quoted twice.
    assert pd.read_csv(tmp_path / "out.csv", dtype=str)["created_at"].tolist() == [
        "2026-07-01T09:12:00",
        "2026-07-02T10:00:00",
    ]


def test_kept_fields_keep_their_type_in_parquet_and_a_mix_becomes_text(tmp_path, engine):
    pq = pytest.importorskip("pyarrow.parquet")
    rows = [
        {"text": "Waar is mijn pakket?", "likes": i, "share": i / 4, "flag": i % 2 == 0, "mixed": i if i < 6 else "x"}
        for i in range(8)
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    settings = ScoreSettings(fields=("likes", "share", "flag", "mixed"), top_k=0)
    # Chunks of 3: "mixed" is a number in the first two and text in the third, so the parts differ.
    score_file(str(source), str(tmp_path / "out.parquet"), engine=engine, settings=settings, chunk_size=3)
    table = pq.read_table(tmp_path / "out.parquet")
    kinds = {name: str(table.schema.field(name).type) for name in ("likes", "share", "flag", "mixed")}
    assert kinds == {"likes": "int64", "share": "double", "flag": "bool", "mixed": "string"}
    assert table.column("likes").to_pylist() == list(range(8))
    assert table.column("mixed").to_pylist() == ["0", "1", "2", "3", "4", "5", "x", "x"]


def test_what_json_cannot_hold_is_kept_as_null_or_text(tmp_path, engine):
    pd = pytest.importorskip("pandas")
    import decimal

    frame = pd.DataFrame(
        {"text": ["Waar blijft mijn pakket?", "Top!"], "score": [float("nan"), 1.5], "blob": [b"\x00\xff", None]}
    )
    frame["amount"] = [decimal.Decimal("1.50"), decimal.Decimal("2")]
    frame.to_parquet(tmp_path / "in.parquet")
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text('{"text": "Waar blijft mijn pakket?", "score": NaN}\n{"text": "Top!", "score": Infinity}\n')
    settings = ScoreSettings(fields=("score", "blob", "amount"), top_k=0)
    for source in ("in.parquet", "in.jsonl"):
        out = tmp_path / f"{source}.out.jsonl"
        score_file(str(tmp_path / source), str(out), engine=engine, settings=settings)
        for line in out.read_text().splitlines():
            json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} in the output"))  # standard JSON
    rows = _read_jsonl(tmp_path / "in.parquet.out.jsonl")
    assert [r["score"] for r in rows] == [None, 1.5] and [r["amount"] for r in rows] == ["1.50", "2.00"]
    assert rows[0]["blob"] == "AP8="  # base64


def test_a_run_that_rejects_every_line_says_so_and_writes_a_readable_csv(tmp_path):
    pd = pytest.importorskip("pandas")
    source = tmp_path / "bad.jsonl"
    source.write_text('kapot\n{"text": ""}\n{"id": {"a": 1}, "text": "hoi"}\n')
    code, text = _score(str(source), "--output", str(tmp_path / "out.csv"))
    assert code == 0 and "every line of" in text and "was rejected" in text
    assert pd.read_csv(tmp_path / "out.csv").empty
    rejects = _read_jsonl(tmp_path / "out.csv.rejects.jsonl")
    assert "The id must be a string or a number, not dict" in rejects[2]["reason"]


def test_a_kept_field_that_no_message_has_is_named_in_a_warning(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "waar blijft mijn pakket", "author": "Sanne"}\n{"text": "dank!"}\n', encoding="utf-8")
    code, text = _score(str(source), "--output", str(tmp_path / "out.jsonl"), "--fields", "author,autor")
    assert code == 0, text
    assert "no input message had the field(s) autor kept with --fields" in text
    assert [r["author"] for r in _read_jsonl(tmp_path / "out.jsonl")] == ["Sanne", None]
    code, text = _score(str(source), "--output", str(tmp_path / "again.jsonl"), "--fields", "author")
    assert code == 0 and "warning" not in text


def test_a_resumed_summary_keeps_its_kept_field_counts():
    from webcare_nlp.batch.summary import KEPT_FIELDS, ScoreSummary

    summary = ScoreSummary()
    summary.add(lines=2, scored=2, rejected=0, counts={KEPT_FIELDS: Counter({"author": 1})})
    again = ScoreSummary.from_dict(summary.as_dict())
    assert again.absent_fields(("author", "autor")) == ["autor"]


def test_the_process_that_reads_and_writes_does_not_import_the_models():
    # With worker processes the parent only reads and writes; importing scikit-learn and spaCy there
    # would delay the first worker by their import time.
    import subprocess
    import sys

    probe = (
        "import sys, webcare_nlp.batch; print(sorted({'sklearn', 'spacy', 'webcare_nlp.engine'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_bad_model_or_library_is_named_before_or_by_the_workers(tmp_path, bad_file):
    out = tmp_path / "out.jsonl"
    with pytest.raises(WebcareError, match="No model folder"):
        score_file(str(bad_file), str(out), settings=ScoreSettings(model=str(tmp_path / "nowhere")), workers=2)
    with pytest.raises(WebcareError, match="no such file"):
        score_file(str(bad_file), str(out), settings=ScoreSettings(templates=str(tmp_path / "none.yaml")), workers=2)
    # A library that exists but cannot be used is read before the workers start: its reason, not a dead pool.
    twice = tmp_path / "twice.jsonl"
    twice.write_text('{"id": "a", "text": "Hoi"}\n{"id": "a", "text": "Dag"}\n', encoding="utf-8")
    with pytest.raises(WebcareError, match="duplicate template id 'a'"):
        score_file(str(bad_file), str(out), settings=ScoreSettings(templates=str(twice)), workers=2)
    assert not out.exists()


def test_what_the_library_skips_is_reported_with_the_workers_too(tmp_path):
    templates, history = tmp_path / "t.jsonl", tmp_path / "h.jsonl"
    templates.write_text('{"id": "sorry", "text": "Hoi {naam}, sorry! ^{initialen}"}\n', encoding="utf-8")
    history.write_text('{"text": "koffer kwijt", "used": ["gone"]}\n{"text": "weg", "used": ["sorry"]}\n')
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "mijn koffer is kwijt"}\n', encoding="utf-8")
    settings = ScoreSettings(templates=str(templates), history=str(history))
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.jsonl"
        summary = score_file(str(source), str(out), settings=settings, workers=workers)
        assert summary.scored == 1 and summary.warnings == [f"{history}:1: ignored unknown template or article gone"]
        assert summary.as_dict()["warnings"] == summary.warnings


def test_settings_refuse_a_field_name_given_as_one_string():
    with pytest.raises(InputError, match="fields must be a list of column names"):
        ScoreSettings(fields="author")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="top_k must be a whole number"):
        ScoreSettings(top_k=-1)


def test_score_file_names_an_argument_of_the_wrong_type(tmp_path, bad_file):
    out = str(tmp_path / "out.jsonl")
    for arguments, message in (
        ({"chunk_size": None}, "chunk_size must be a whole number"),
        ({"workers": "2"}, "workers must be a whole number"),
        ({"settings": {"top_k": 1}}, "settings must be a ScoreSettings"),
    ):
        with pytest.raises(InputError, match=message):
            score_file(str(bad_file), out, **arguments)


def test_the_readable_summary_words_missing_topics():
    from webcare_nlp.batch.summary import ScoreSummary, count_labels

    summary = ScoreSummary()
    summary.add(lines=3, scored=3, rejected=0, counts=count_labels([{"intent": "question", "topic": None}] * 3))
    assert summary.as_dict()["topic"] == {"unassigned": 3}
    assert "none assigned (topics come from `webcare topics ARCHIVE --save`)" in summary.render()
    summary.add(lines=2, scored=2, rejected=0, counts=count_labels([{"topic": "kist_retour"}] * 2))
    topic_line = next(line for line in summary.render().splitlines() if line.startswith("topic"))
    assert topic_line.split(None, 1)[1] == "unassigned 3, kist_retour 2"
    # The state of a run that counted null topics as "None" resumes with them counted as unassigned.
    resumed = ScoreSummary.from_dict({"lines": 4, "scored": 4, "rejected": 0, "topic": {"None": 3, "t1": 1}})
    assert resumed.as_dict()["topic"] == {"unassigned": 3, "t1": 1}


# Line 3 repeats m1; line 5's id 4 is the id line 4 got for having none; line 6 is rejected, so its m1 is
# not in the output and repeats nothing.
REPEATED_IDS = [
    {"id": "m1", "text": "Waar blijft mijn pakket?"},
    {"id": "m2", "text": "Top geholpen, dank!"},
    {"id": "m1", "text": "Mijn koffer is kapot"},
    {"text": "Kunnen jullie mijn abonnement opzeggen?"},
    {"id": 4, "text": "Ik wacht al een week"},
    {"id": "m1", "text": ""},
]


def test_repeated_ids_are_named_in_a_warning_and_every_line_is_scored(tmp_path):
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in REPEATED_IDS), encoding="utf-8")
    code, text = _score(str(source), "--output", str(output), "--chunk-size", "2")
    assert code == 0, text
    assert [r["id"] for r in _read_jsonl(output)] == ["m1", "m2", "m1", "4", "4"]  # nothing dropped
    assert len(_read_jsonl(tmp_path / "out.jsonl.rejects.jsonl")) == 1
    assert "repeated ids    2 lines repeat the id of an earlier line: 'm1' at line 3, '4' at line 5" in text
    assert "warning: 2 lines repeat the id of an earlier line: 'm1' at line 3, '4' at line 5. Every line" in text
    code, text = _score(str(source), "--output", str(tmp_path / "again.jsonl"), "--summary-json")
    summary = json.loads(next(line for line in text.splitlines() if line.startswith("{")))
    assert summary["repeated_ids"] == 2
    assert summary["repeated_id_lines"] == [{"line": 3, "id": "m1"}, {"line": 5, "id": "4"}]
    unique = tmp_path / "unique.jsonl"
    unique.write_text("".join(json.dumps(r) + "\n" for r in GOOD), encoding="utf-8")
    code, text = _score(str(unique), "--output", str(tmp_path / "unique-out.jsonl"))
    assert code == 0 and "repeat" not in text


def test_repeated_ids_are_counted_across_chunks_and_workers_and_only_a_few_named(tmp_path):
    from webcare_nlp.batch.summary import SHOWN_REPEATS

    source = tmp_path / "in.jsonl"
    ids = ["a", "b", "a", "c", "b", "a", "d", "a", "b", "c", "e", "a"]  # 7 lines repeat an earlier id
    source.write_text("".join(json.dumps({"id": i, "text": f"bericht {i}"}) + "\n" for i in ids), encoding="utf-8")
    summary = score_file(str(source), str(tmp_path / "out.jsonl"), workers=2, chunk_size=2)
    assert summary.scored == len(ids) and summary.repeated_ids == 7
    assert summary.repeated_id_lines == [(3, "a"), (5, "b"), (6, "a"), (8, "a"), (9, "b")][:SHOWN_REPEATS]
    assert summary.repeated_ids_text().endswith("'b' at line 9 and 2 more")
