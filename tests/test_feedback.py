"""The SQLite feedback store: masking, edit distance, history and corrections, bad input, concurrency."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from webcare_nlp.errors import InputError
from webcare_nlp.rank.feedback import FeedbackStore


def test_feedback_is_stored_masked_with_its_edit_distance(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.db")
    row = store.record(
        suggestion_id="t1",
        action="edited",
        text="Bel me op 06-12345678 over order KJ-40815523",
        suggested_text="Hoi Sanne, sorry! Order KJ-40815523 komt eraan.",
        final_text="Hoi Sanne, sorry hoor! Order KJ-40815523 komt eraan, mail ons op klant@example.nl.",
    )
    assert row["edit_distance"] == 35  # " hoor" and ", mail ons op klant@example.nl"
    stored = store.rows()[0]
    assert "06-12345678" not in stored["text"] and "{telefoon}" in stored["text"]
    # The suggestion as shown and the reply as sent are masked as well: filled in, they hold case data too.
    assert stored["suggested_text"] == "Hoi Sanne, sorry! Order {ordernummer} komt eraan."
    assert stored["final_text"] == "Hoi Sanne, sorry hoor! Order {ordernummer} komt eraan, mail ons op {email}."
    assert row["final_text"] == stored["final_text"]


def test_a_value_from_the_message_is_masked_in_the_reply_whatever_words_stand_around_it(tmp_path: Path) -> None:
    # Filled in after "abonnementsnummer (", the customer's number lacks the keyword that finds it alone.
    store = FeedbackStore(tmp_path / "f.db")
    store.record(
        suggestion_id="t1",
        action="used",
        text="Ik wil opzeggen per 1 juni, mijn klantnummer is 12345678",
        suggested_text="Hoi, we zeggen abonnementsnummer (12345678) op per 1 juni.",
        final_text="Hoi, we zeggen abonnementsnummer (12345678) op per 1 juni. ^JV",
    )
    stored = store.rows()[0]
    assert "12345678" not in stored["suggested_text"] + stored["final_text"]
    assert stored["suggested_text"] == "Hoi, we zeggen abonnementsnummer ({klantnummer}) op per 1 juni."


def test_history_and_corrections(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.db")
    store.record(suggestion_id="t1", action="used", text="pakket kwijt", company="kistje")
    store.record(suggestion_id="t2", action="rejected", text="pakket kwijt", labels={"intent": "complaint"})
    history = store.history()
    assert history[0]["used"] == ["t1"] and history[0]["company"] == "kistje"
    assert history[1]["used"] == [] and history[1]["rejected"] == ["t2"]
    assert store.corrections() == [{"id": "feedback-2", "text": "pakket kwijt", "intent": "complaint"}]
    assert store.summary() == {"used": 1, "edited": 0, "rejected": 1, "mean_edit_distance": None}
    # The mean edit distance is of edited suggestions: a used one sent with a changed letter does not count.
    store.record(suggestion_id="t1", action="used", text="pakket kwijt", suggested_text="Hoi!", final_text="Hoi!!")
    store.record(suggestion_id="t1", action="edited", text="pakket kwijt", suggested_text="Hoi", final_text="Hallo")
    assert store.summary() == {"used": 2, "edited": 1, "rejected": 1, "mean_edit_distance": 4.0}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "liked"}, "Unknown action"),
        ({"action": "edited"}, "needs the final text"),
        ({"suggestion_id": ""}, "needs the id"),
        ({"text": ""}, "empty"),
        ({"labels": {"mood": "x"}}, "Unknown label field"),
        ({"labels": {"sentiment": "angry"}}, "Unknown sentiment"),
        ({"agent": "Ilse\x1b[31m"}, "'agent' holds control characters"),
        ({"company": "sky\x00hop"}, "'company' holds control characters"),
        ({"action": "edited", "final_text": "Hoi\x00 daar"}, "final_text: .*binary"),
        ({"suggested_text": "Hoi \ud83d"}, "suggested_text: .*half of a character"),
    ],
)
def test_bad_feedback_is_refused_clearly(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    store = FeedbackStore(tmp_path / "f.db")
    arguments: dict[str, object] = {"suggestion_id": "t1", "action": "used", "text": "pakket kwijt", **kwargs}
    with pytest.raises(InputError, match=message):
        store.record(**arguments)  # type: ignore[arg-type]
    assert store.rows() == []


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "f.db"
    bogus.write_text("dit is geen database " * 100)
    with pytest.raises(InputError, match="not a usable SQLite"):
        FeedbackStore(bogus)
    with pytest.raises(InputError, match="does not exist"):
        FeedbackStore(tmp_path / "nope" / "f.db")


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "f.db"
    FeedbackStore(path)

    def post(i: int) -> None:
        FeedbackStore(path).record(suggestion_id=f"t{i % 3}", action="used", text=f"bericht {i}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(post, range(200)))
    assert len(FeedbackStore(path).rows()) == 200
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_engine_sees_new_feedback_and_takes_it_in_when_refreshed(tmp_path: Path, tiny_model: Path) -> None:
    from webcare_nlp.engine import Engine
    from webcare_nlp.rank.library import Library

    database = tmp_path / "feedback.sqlite3"
    library = Library.from_records(templates=[{"id": "t1", "text": "Hoi {naam}, we kijken het na. ^{initialen}"}])
    engine = Engine.load(tiny_model, library=library, feedback_db=database)
    assert engine.suggester.index.library.history == [] and not engine.feedback_changed()
    FeedbackStore(database).record(suggestion_id="t1", action="used", text="waar is mijn pakket")
    assert engine.feedback_changed()  # as `webcare suggest - --each-line` and the server look before a message
    engine.refresh_suggester()
    assert [h.used for h in engine.suggester.index.library.history] == [("t1",)] and not engine.feedback_changed()


def test_a_summary_of_a_missing_database_does_not_create_it(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from webcare_nlp.cli import app

    missing = tmp_path / "feedback.db"
    result = CliRunner().invoke(app, ["feedback", "--db", str(missing), "--summary"])
    assert result.exit_code == 2 and "No feedback database" in result.output and not missing.exists()


def test_the_cli_refuses_an_intent_the_current_model_does_not_know(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from webcare_nlp.cli import app

    monkeypatch.delenv("WEBCARE_MODEL", raising=False)
    store = tmp_path / "feedback.db"
    args = ["feedback", "--db", str(store), "--suggestion", "t1", "--action", "used", "--text", "koffer kwijt"]
    result = CliRunner().invoke(app, [*args, "--intent", "bogus"])
    assert result.exit_code == 2 and "unknown intent 'bogus'" in result.output and not store.exists()
    assert CliRunner().invoke(app, [*args, "--intent", "complaint"]).exit_code == 0
