import json

import pytest
from typer.testing import CliRunner

from tests.conftest import tiny_records
from webcare_nlp.cli import app
from webcare_nlp.corrections import merge_feedback, open_store, text_key
from webcare_nlp.engine import Engine
from webcare_nlp.errors import InputError
from webcare_nlp.rank.feedback import FeedbackStore

runner = CliRunner()


@pytest.fixture
def store(tmp_path):  # type: ignore[no-untyped-def]
    store = FeedbackStore(tmp_path / "feedback.db")
    # an agent corrects a message that is in the corpus, with other case and spacing
    store.record(
        suggestion_id="t-1", action="used", text="tip: zet de gate  ook in de app", labels={"intent": "request"}
    )
    # a new message, corrected twice (the newest correction counts) and once more in other spacing
    store.record(
        suggestion_id="t-2", action="rejected", text="Waar is mijn koffer gebleven?", labels={"intent": "question"}
    )
    store.record(
        suggestion_id="t-2", action="used", text="Waar is mijn koffer gebleven?", labels={"intent": "complaint"}
    )
    store.record(
        suggestion_id="t-3", action="used", text="waar is mijn  koffer gebleven?", labels={"intent": "complaint"}
    )
    # spam that expects a reply contradicts the rule; a used template without labels is history only
    store.record(
        suggestion_id="t-4", action="used", text="WIN een fiets!!", labels={"intent": "other", "reply_expected": True}
    )
    store.record(suggestion_id="t-5", action="used", text="Mijn pakket is er niet")
    return store


def test_text_key_ignores_case_spacing_and_pii():
    assert text_key("Bel me  op 06-12345678") == text_key("bel me op 06-87654321")


def test_corrections_merge_into_the_corpus_without_duplicates(store, tiny_model):
    records = tiny_records()
    merged = merge_feedback(records, store, engine=Engine.load(tiny_model))
    assert (merged.added, merged.corrected, len(merged.skipped)) == (1, 1, 1)
    assert "intent 'other' never gets one" in merged.skipped[0]
    assert len(merged.records) == len(records) + 1
    tip = next(r for r in merged.records if r["text"].startswith("Tip: zet de gate"))
    assert tip["intent"] == "request" and tip["reply_expected"] is True
    new = merged.records[-1]
    assert new["intent"] == "complaint" and new["_source"].startswith("feedback:")
    assert {"sentiment", "reactive", "platform", "reply_expected"} <= set(new)
    assert records[20]["intent"] == "feedback"  # the caller's records are not changed
    assert {u for h in merged.history for u in h["used"]} >= {"t-1", "t-5"}


def test_the_newest_correction_wins_over_an_older_one_of_the_same_text_written_otherwise(tmp_path, tiny_model):
    store = FeedbackStore(tmp_path / "f.db")
    for text, intent in (("Pakket kwijt, wat nu?", "complaint"), ("pakket kwijt,  wat nu?", "question")):
        store.record(suggestion_id="t", action="used", text=text, labels={"intent": intent})
    store.record(suggestion_id="t", action="used", text="Pakket kwijt, wat nu?", labels={"intent": "request"})
    merged = merge_feedback([], store, engine=Engine.load(tiny_model))
    assert [r["intent"] for r in merged.records] == ["request"]


def test_train_with_feedback_says_how_much_came_from_it(store, tiny_corpus, tiny_config, tiny_model, tmp_path):
    from webcare_nlp.training import train

    result = train(
        data=tiny_corpus, config=tiny_config, output=tmp_path / "m", feedback=store.path, base_model=tiny_model
    )
    assert result.n_messages == 31 and result.sources["feedback"] == 1 and result.sources["feedback_corrected"] == 1
    assert result.sources["feedback_history"] == 5  # every "used" record joins the ranker's history
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["training_data"]["sources"]["feedback"] == 1
    card = (tmp_path / "m" / "MODEL_CARD.md").read_text()
    assert "1 added from agents' label corrections" in card and "1 labelled rows whose labels agents corrected" in card


def test_a_missing_feedback_database_is_a_clear_error(tmp_path, tiny_corpus):
    with pytest.raises(InputError, match="No feedback database"):
        open_store(tmp_path / "nope.db")
    result = runner.invoke(app, ["train", "--data", str(tiny_corpus), "--feedback", str(tmp_path / "nope.db")])
    assert result.exit_code == 2 and "No feedback database" in result.output


def test_a_correction_whose_intent_the_model_guessed_outside_the_label_set_is_left_out(tmp_path, tiny_model):
    # Only the sentiment was corrected; the intent is the current model's guess, from another label set.
    store = FeedbackStore(tmp_path / "f.db")
    store.record(suggestion_id="t", action="used", text="Waar is mijn koffer?", labels={"sentiment": "negative"})
    merged = merge_feedback([], store, engine=Engine.load(tiny_model), intents=("order_status",))
    assert merged.records == [] and "is not in the label set" in merged.skipped[0]
