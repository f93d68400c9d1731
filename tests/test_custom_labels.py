import json

import pytest
from typer.testing import CliRunner

from tests.conftest import tiny_records, write_jsonl
from webcare_nlp.cli import app
from webcare_nlp.dataset import load_labelled, read_labelled_csv, validate_labelled
from webcare_nlp.errors import InputError
from webcare_nlp.training import TrainingConfig, intent_set, train

runner = CliRunner()

ORDER_STATUS = [
    "Waar is mijn bestelling 4490-117 nu?",
    "Is mijn order al verzonden?",
    "Wanneer wordt mijn bestelling bezorgd?",
    "Kunnen jullie zien waar mijn pakket is?",
    "Mijn bestelling staat nog op 'in behandeling', klopt dat?",
]
CSV_HEADER = "id,text,channel,platform,intent,sentiment,reactive,reply_expected\n"


def _order_csv(path, rows=ORDER_STATUS):  # type: ignore[no-untyped-def]
    lines = [f'o{i},"{text}",whatsapp,brand,order_status,neutral,ja,true\n' for i, text in enumerate(rows, start=1)]
    path.write_text(CSV_HEADER + "".join(lines), encoding="utf-8")
    return path


def test_csv_rows_become_records_with_their_line(tmp_path):
    path = tmp_path / "team.csv"
    path.write_text(CSV_HEADER + '1,"twee\nregels",twitter,consumer,question,neutral,false,\n2,hoi,,,,,,\n')
    first, second = read_labelled_csv(path)
    assert first["text"] == "twee\nregels" and first["reactive"] is False and "reply_expected" not in first
    assert first["_line"] == 2 and second["_line"] == 4  # the quoted newline makes row 1 two lines long
    (tmp_path / "broken.csv").write_bytes(b"text,intent\n\xff\xfe,question\n")
    with pytest.raises(InputError, match="UTF-8"):
        read_labelled_csv(tmp_path / "broken.csv")
    (tmp_path / "nohead.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="'text'"):
        read_labelled_csv(tmp_path / "nohead.csv")


def test_intent_set_spec():
    assert intent_set("+order_status")[-1] == "order_status" and len(intent_set("+order_status")) == 7
    assert intent_set("vraag, klacht") == ("vraag", "klacht")
    for bad in ("", "+", "a b,c", "only"):
        with pytest.raises(InputError):
            intent_set(bad)


def test_validation_reports_every_bad_row_with_its_line(tmp_path):
    path = tmp_path / "team.csv"
    path.write_text(
        CSV_HEADER
        + "1,Waar is mijn order?,whatsapp,brand,order_status,neutral,true,true\n"
        + "2,,whatsapp,brand,question,neutral,true,true\n"
        + "3,Hoi daar,whatsapp,brand,question,neutral,true,false\n"
        + "4,Waar is MIJN order?,whatsapp,brand,question,neutral,true,true\n"
        + "4,Nog een vraag,whatsapp,brand,question,neutral,true,true\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        train(data=path, config=TrainingConfig(min_per_class=1))
    message = str(caught.value)
    assert "team.csv:2: unknown intent 'order_status'" in message and "--intents" in message
    assert "team.csv:3: The message has no 'text' field" in message
    assert "team.csv:4: reply_expected is False, the rule says True" in message
    assert "team.csv:5: duplicate text with other labels than at team.csv:2" in message
    assert "team.csv:6: duplicate id '4'" in message


def test_per_class_minimum_names_the_class(tiny_corpus, tmp_path):
    few = _order_csv(tmp_path / "orders.csv", ORDER_STATUS[:2])
    config = TrainingConfig(min_per_class=3, intents=intent_set("+order_status"))
    with pytest.raises(InputError, match=r"'order_status': 2.*at least 3"):
        train(data=[tiny_corpus, few], config=config)
    with pytest.raises(InputError, match=r"'refund': 0"):
        train(data=tiny_corpus, config=TrainingConfig(min_per_class=2, intents=intent_set("+refund")))


def test_train_with_a_new_intent_from_a_csv(tiny_corpus, tiny_config, tmp_path):
    orders = _order_csv(tmp_path / "orders.csv")
    assert len(load_labelled([tiny_corpus, orders])) == 30 + len(ORDER_STATUS)
    config = TrainingConfig(**{**tiny_config.__dict__, "intents": intent_set("+order_status")})
    result = train(data=[tiny_corpus, orders], output=tmp_path / "model", config=config)
    assert "order_status" in result.engine.analyze("Waar is mijn bestelling?")["intent_scores"]
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert manifest["labels"]["intent"][-1] == "order_status"
    assert "order_status" in (tmp_path / "model" / "MODEL_CARD.md").read_text()
    # evaluating the new model on a file with the new intent reports it as a class
    from webcare_nlp.evaluation import evaluate

    labelled = [dict(r) for r in load_labelled(orders)]
    assert "order_status" in evaluate(result.engine, labelled).labels["intent"].classes


def test_a_team_models_confusion_matrix_has_its_own_classes_and_the_files_not_all_of_labels_md(tiny_config, tmp_path):
    team = [r for r in tiny_records() if r["intent"] in ("question", "complaint", "other")]
    data = [write_jsonl(tmp_path / "team.jsonl", team), _order_csv(tmp_path / "orders.csv")]
    config = TrainingConfig(**{**tiny_config.__dict__, "intents": intent_set("question,complaint,order_status,other")})
    engine = train(data=data, config=config).engine
    from webcare_nlp.evaluation import evaluate

    labelled = [
        {"text": "Waar blijft mijn bestelling?", "intent": "order_status"},
        {"text": "Hoe laat gaat de balie open?", "intent": "question"},
        {"text": "Al een uur in de wacht, waardeloos!", "intent": "complaint"},
        {"text": "Kunnen jullie mij terugbellen?", "intent": "request"},  # labels.md's, not the team model's
    ]
    intent = evaluate(engine, labelled).labels["intent"]
    assert intent.classes == ["question", "complaint", "other", "order_status", "request"]
    assert len(intent.confusion) == 5 and all(len(row) == 5 for row in intent.confusion)
    assert set(intent.per_class) <= set(intent.classes) and "request" in intent.per_class


def test_train_cli_refuses_bad_data_with_line_numbers(tmp_path):
    records = tiny_records()
    records[3]["intent"] = "klacht"
    data = write_jsonl(tmp_path / "bad.jsonl", records)
    result = runner.invoke(app, ["train", "--data", str(data), "--output", str(tmp_path / "m")])
    assert (
        result.exit_code == 2 and "error:" in result.output and "bad.jsonl:4: unknown intent 'klacht'" in result.output
    )
    bad_spec = runner.invoke(app, ["train", "--data", str(data), "--intents", "a b"])
    assert bad_spec.exit_code == 2 and "--intents" in bad_spec.output


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_delimiter_is_detected_from_the_header(tmp_path, delimiter):
    rows = [
        ["Text", "Intent", "Sentiment", "Reactive", "Platform"],
        ["Hoi, waar is mijn pakket?", "question", "neutral", "ja", "brand"],
        ["Top service, dank jullie!", "compliment", "positive", "nee", "consumer"],
    ]
    path = tmp_path / "team.csv"
    path.write_text("".join(delimiter.join(row) + "\n" for row in rows), encoding="utf-8")
    first, second = read_labelled_csv(path)
    # the comma in the text stays in the text: the header decides the delimiter, not the rows
    assert first == {
        "text": "Hoi, waar is mijn pakket?",
        "intent": "question",
        "sentiment": "neutral",
        "reactive": True,
        "platform": "brand",
        "_line": 2,
    }
    assert second["text"] == "Top service, dank jullie!" and second["reactive"] is False and second["_line"] == 3


def test_csv_names_match_without_case_or_spaces_and_keep_the_bom(tmp_path):
    path = tmp_path / "excel.csv"
    text = ' Text ; INTENT ;Reactive; Reply_Expected\r\n"Mijn order; waar is hij?";question;1;0\r\n'
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (record,) = read_labelled_csv(path)
    assert record == {
        "text": "Mijn order; waar is hij?",
        "intent": "question",
        "reactive": True,
        "reply_expected": False,
        "_line": 2,
    }
    (tmp_path / "twice.csv").write_text("text;Text\nhoi;dag\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"twice\.csv:1: .*'text' more than once"):
        read_labelled_csv(tmp_path / "twice.csv")


def test_csv_without_text_column_shows_the_header_and_the_delimiters_tried(tmp_path):
    path = tmp_path / "team.csv"
    path.write_text("bericht;intent;sentiment\nhoi;question;neutral\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_labelled_csv(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:1: the header row must name the columns, with at least 'text'")
    assert "found 'bericht;intent;sentiment'" in message
    assert "tried the delimiters ',' ';' '\\t' '|'" in message
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="found an empty line"):
        read_labelled_csv(tmp_path / "empty.csv")


def test_bad_bool_label_problem_shows_the_value(tmp_path):
    path = tmp_path / "team.csv"
    path.write_text(
        "Text;Intent;Sentiment;Reactive;Reply_expected;Platform\n"
        "Waar blijft mijn pakket?;question;neutral;misschien;true;brand\n"
        "Waar blijft mijn order?;question;neutral;true;soms;brand\n"
        "Waar blijft mijn retour?;question;neutral;;true;brand\n",
        encoding="utf-8",
    )
    problems = [str(p) for p in validate_labelled(load_labelled(path))]
    assert "team.csv:2: reactive must be true or false, not 'misschien'" in problems
    assert "team.csv:3: reply_expected must be true or false, not 'soms'" in problems
    assert "team.csv:4: reactive must be true or false, but it is missing" in problems
    # evaluation files may leave reactive out: no problem then
    assert not [p for p in validate_labelled(load_labelled(path), partial=True) if p.where == "team.csv:4"]


def test_train_cli_reads_a_semicolon_csv(tmp_path):
    path = tmp_path / "team.csv"
    path.write_text(
        "Text;Intent;Sentiment;Reactive;Reply_expected;Platform\n"
        "Waar blijft mijn pakket?;question;neutral;misschien;true;brand\n",
        encoding="utf-8",
    )
    args = ["train", "--data", str(path), "--output", str(tmp_path / "m"), "--no-current"]
    result = runner.invoke(app, args)
    # the file is read (no header complaint) and the bad row is refused before anything is trained
    assert result.exit_code == 2 and "header row" not in result.output
    assert "team.csv:2: reactive must be true or false, not 'misschien'" in result.output
    assert not (tmp_path / "m").exists()


def test_train_says_when_a_model_outside_models_cannot_become_current(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from webcare_nlp import training

    fake = SimpleNamespace(output=tmp_path / "elsewhere", n_messages=3, seconds=0.1, reports={}, sources={})
    monkeypatch.setattr(training, "train", lambda **_: fake)
    monkeypatch.setattr(training, "set_current", lambda path: False)  # as for any folder outside models/
    result = runner.invoke(app, ["train", "--output", str(tmp_path / "elsewhere")])
    assert result.exit_code == 0 and "models/CURRENT is unchanged" in result.output
    result = runner.invoke(app, ["train", "--output", str(tmp_path / "elsewhere"), "--no-current"])
    assert result.exit_code == 0 and "CURRENT" not in result.output and "no 'other'" not in result.output
    # A label set without "other" would give spam a reply: said before training.
    result = runner.invoke(app, ["train", "--output", str(tmp_path / "e"), "--intents", "question,complaint"])
    assert result.exit_code == 0 and "the intents have no 'other'" in result.output
