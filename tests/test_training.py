import dataclasses
import json

import pytest
from typer.testing import CliRunner

from tests.conftest import tiny_records, write_jsonl
from webcare_nlp.cli import app
from webcare_nlp.errors import InputError
from webcare_nlp.training import TrainingConfig, check_output, check_training_data, train

runner = CliRunner()


def test_training_is_reproducible(tiny_corpus, tiny_config, tiny_model, tmp_path):
    again = tmp_path / "again"
    train(data=tiny_corpus, output=again, config=tiny_config)
    first = json.loads((tiny_model / "manifest.json").read_text())["files"]
    second = json.loads((again / "manifest.json").read_text())["files"]
    joblibs = {name for name in first if name.endswith(".joblib")}
    assert joblibs and {n: first[n] for n in joblibs} == {n: second[n] for n in joblibs}


def test_the_svm_families_in_parallel_threads_are_reproducible(tiny_corpus, tiny_config, tmp_path):
    # liblinear seeds global state: its fits take turns, the NB-scaled SVM's inner fits too.
    config = dataclasses.replace(tiny_config, families=("linear_svc", "nb_svc", "soft_vote"), n_jobs=2)
    files = []
    for name in ("first", "second"):
        train(data=tiny_corpus, output=tmp_path / name, config=config)
        written = json.loads((tmp_path / name / "manifest.json").read_text())["files"]
        files.append({n: h for n, h in written.items() if n.endswith(".joblib")})
    assert files[0] and files[0] == files[1]
    assert "nb_svc" in (tmp_path / "first" / "MODEL_CARD.md").read_text()


def test_model_card_reports_every_family(tiny_model):
    card = (tiny_model / "MODEL_CARD.md").read_text()
    for name in ("logreg", "complement_nb", "intent", "sentiment", "reactive", "Known limits"):
        assert name in card


def test_bad_training_rows_are_reported_with_their_line(tmp_path):
    records = tiny_records()
    records[2] = {**records[2], "intent": "klacht"}
    records[4] = {**records[4], "reply_expected": not records[4]["reply_expected"]}
    records[6] = {**records[6], "id": records[5]["id"]}
    del records[8]["text"]
    write_jsonl(tmp_path / "messages" / "bad.jsonl", records)
    with pytest.raises(InputError) as caught:
        train(data=tmp_path, config=TrainingConfig(min_per_class=1))
    message = str(caught.value)
    assert "bad.jsonl:3: unknown intent 'klacht'" in message
    assert "bad.jsonl:5: reply_expected" in message
    assert "bad.jsonl:7: duplicate id" in message
    assert "bad.jsonl:9: The message has no 'text' field" in message


def test_too_few_examples_per_class_is_refused(tiny_corpus):
    with pytest.raises(InputError, match="at least 50"):
        train(data=tiny_corpus, config=TrainingConfig(min_per_class=50))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("seed = 3\nlearning_rate = 0.1", "Unknown training settings \\['learning_rate'\\]"),
        ('word_weight = "heavy"', "word_weight = 'heavy' should be of type float"),
        ("folds = true", "folds = True should be of type int"),
        ("word_weight = 0", "word_weight must be above 0"),
        ('families = ["logreg", "forest"]', "Unknown model families \\['forest'\\]"),
        ('families = ["soft_vote"]', "name at least two besides it"),
        ('families = ["logreg", "soft_vote"]', "name at least two besides it"),
        ("families = []", "families is empty"),
        ("folds = 1", "folds must be 2 or more"),
        # Every setting's range and shape, named before any training.
        ("n_jobs = 0", "n_jobs = 0 must be 1 or more"),
        ("max_char_features = -5", "max_char_features = -5 must be 1 or more"),
        ("rank_folds = 1", "rank_folds = 1 must be 0 \\(no ranker\\) or 2 or more"),
        ("rank_folds = -1", "rank_folds = -1 must be 0"),
        ("metadata_dropout = 2.0", "metadata_dropout = 2.0 must be from 0 up to"),
        ("review_margin = -1.0", "review_margin = -1.0 must be from 0 to 0.5"),
        ("pair_strength = -3.0", "pair_strength = -3.0 must be from 0 to 1"),
        ("min_per_class = -4", "min_per_class = -4 must be 1 or more"),
        ("seed = -1", "seed = -1 must be from 0 to 4294967295"),
        ("families = 5", "families = 5 should be a list of names"),
        ('families = "complement_nb"', "families = 'complement_nb' should be a list of names"),
        ('intents = "question,complaint"', "intents = 'question,complaint' should be a list of names"),
    ],
)
def test_a_bad_setting_in_a_config_file_is_refused_by_name(tmp_path, settings, message):
    config = tmp_path / "train.toml"
    config.write_text(f"[train]\n{settings}\n")
    with pytest.raises(InputError, match=message):
        TrainingConfig.from_file(config)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[trian]\nseed = 3\n", "\\['trian'\\] outside its \\[train\\] table"),
        ("seed = 3\n", "\\['seed'\\] outside its \\[train\\] table"),
        ("train = 3\n", "train must be a table"),
        ('{"train": {"seed": 3}}', "TOML with a \\[train\\] table"),
    ],
)
def test_a_config_file_whose_settings_would_be_ignored_is_refused(tmp_path, content, message):
    config = tmp_path / "train.toml"
    config.write_text(content)
    with pytest.raises(InputError, match=message):
        TrainingConfig.from_file(config)


@pytest.mark.parametrize(("label", "value"), [("sentiment", "neutral"), ("platform", "brand")])
def test_a_label_with_a_class_missing_is_refused_before_training(tmp_path, label, value):
    records = [{**r, label: value} for r in tiny_records()]
    if label == "platform":  # on the brand's own platform every message but spam expects a reply (seed 002)
        records = [{**r, "reply_expected": r["intent"] != "other"} for r in records]
    with pytest.raises(InputError, match=f"{label} .*'{'positive' if label == 'sentiment' else 'consumer'}': 0"):
        check_training_data(records, TrainingConfig(min_per_class=2, folds=2))


def test_a_stopped_save_keeps_the_model_it_was_replacing(tiny_model, tiny_corpus, tiny_config, tmp_path, monkeypatch):
    import shutil

    from webcare_nlp import persist
    from webcare_nlp.engine import Engine

    output = tmp_path / "model"
    shutil.copytree(tiny_model, output)
    before = {p.name: p.read_bytes() for p in output.iterdir()}

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the new model's files are being written

    monkeypatch.setattr(persist, "save_artefact", stopped)
    with pytest.raises(KeyboardInterrupt):
        train(data=tiny_corpus, output=output, config=dataclasses.replace(tiny_config, seed=7))
    assert {p.name: p.read_bytes() for p in output.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no working folder left behind
    assert Engine.load(output).manifest["name"] == "tiny"  # the model as it was, loading cleanly


def test_the_default_data_is_the_projects_wherever_train_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["train", "--output", str(tmp_path / "m"), "--no-current", "--config", "nope.toml"])
    assert result.exit_code == 2 and "nope.toml" in result.output  # the config is read first, relative to here
    from webcare_nlp.dataset import TRAINING_DATA, load_labelled

    assert TRAINING_DATA.is_absolute() and load_labelled(TRAINING_DATA)


def test_labelled_csv_is_found_whatever_the_case_of_its_suffix_and_a_bad_byte_named_by_line(tmp_path):
    from webcare_nlp.dataset import load_labelled

    rows = "text,intent,sentiment,reactive,reply_expected\nWaar is mijn pakket?,question,neutral,true,true\n"
    (tmp_path / "UPPER.CSV").write_text(rows)
    assert [r["text"] for r in load_labelled(tmp_path / "UPPER.CSV")] == ["Waar is mijn pakket?"]
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(rows.encode() * 1 + "Caf\xe9 dicht?,question,neutral,true,true\n".encode("latin-1"))
    with pytest.raises(InputError, match=f"{bad}:3: not valid UTF-8 \\(byte 3 of the line\\)"):
        load_labelled(bad)


def test_good_settings_in_a_config_file_are_read(tmp_path):
    config = tmp_path / "train.toml"
    config.write_text('[train]\nseed = 3\nword_weight = 2\nfamilies = ["logreg", "sgd", "soft_vote"]\n')
    read = TrainingConfig.from_file(config, folds=4)
    assert (read.seed, read.word_weight, read.families, read.folds) == (3, 2, ("logreg", "sgd", "soft_vote"), 4)


def test_a_soft_vote_of_the_other_families_is_cross_validated_and_fitted_calibrated(tiny_corpus):
    import dataclasses

    from sklearn.ensemble import VotingClassifier

    from webcare_nlp.features.vectorize import Observation
    from webcare_nlp.training import fit_engine

    families = ("logreg", "complement_nb", "soft_vote")
    config = TrainingConfig(folds=2, families=families, min_per_class=2, max_char_features=2000, rank_folds=0)
    result = train(data=tiny_corpus, config=config)
    for report in result.reports.values():
        members = report.families["soft_vote"]["params"]
        assert members == {name: report.families[name]["params"] for name in ("logreg", "complement_nb")}
    # Whichever won on this tiny corpus, a chosen soft vote is fitted with calibrated members and calibrated
    # as a whole, and the engine's fast probabilities are the model's own.
    records = tiny_records()
    reports = {
        task: dataclasses.replace(r, chosen="soft_vote", chosen_params=r.families["soft_vote"]["params"])
        for task, r in result.reports.items()
    }
    pipeline = result.engine.text_pipeline
    engine = fit_engine(pipeline.process_many([r["text"] for r in records]), records, reports, config, pipeline)
    vote = engine.models["sentiment"]
    inner = vote.calibrated_classifiers_[0].estimator  # the vote, calibrated once more as a whole
    assert isinstance(inner, VotingClassifier) and len(inner.estimators_) == 2
    engine.label_pairs = None  # the probabilities as the models give them, before the label-pair step
    text = "Waarom is mijn pakket nog steeds niet bezorgd??"
    analysed = engine.analyze(text)
    matrix = engine.vectorizer.transform([Observation(pipeline.process_many([text])[0], None, None)])
    expected = dict(zip(vote.classes_, vote.predict_proba(matrix)[0], strict=True))
    assert analysed["sentiment_scores"] == pytest.approx(expected, abs=1e-4)


def test_an_output_that_is_a_file_or_a_folder_of_other_files_is_refused_before_training(tmp_path, tiny_model):
    data = write_jsonl(tmp_path / "small.jsonl", tiny_records())
    existing = tmp_path / "existing_file"
    existing.write_text("keep me")
    result = runner.invoke(app, ["train", "--data", str(data), "--output", str(existing), "--no-current"])
    assert result.exit_code == 2 and "error:" in result.output and "is a file" in result.output
    assert existing.read_text() == "keep me"
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds other files and no model"):
        train(data=data, output=other, config=TrainingConfig(min_per_class=1))
    assert [f.name for f in other.iterdir()] == ["notes.txt"]
    with pytest.raises(InputError, match="existing_file is a file"):
        check_output(existing / "model")
    # A new, an empty and an existing model folder are fine: training writes (over) the model there.
    (tmp_path / "empty").mkdir()
    for fine in (tmp_path / "new" / "model", tmp_path / "empty", tiny_model):
        check_output(fine)


def _with_three_compliments() -> list[dict[str, object]]:
    records = tiny_records()
    compliments = [i for i, r in enumerate(records) if r["intent"] == "compliment"]
    return [r for i, r in enumerate(records) if i not in compliments[3:]]


def test_classes_too_small_to_calibrate_on_the_folds_are_refused_before_training():
    records = _with_three_compliments()
    # A soft vote calibrates within each calibration part: 3 compliments leave 1 there, fewer than 2 folds.
    with pytest.raises(InputError, match=r"intent \{'compliment': 3\}: with folds = 2 and soft_vote.*at least 4"):
        check_training_data(records, TrainingConfig(min_per_class=3, folds=2))
    with pytest.raises(InputError, match=r"intent \{'compliment': 3\}: with folds = 4, calibration needs at least 4"):
        check_training_data(records, TrainingConfig(min_per_class=3, folds=4, families=("logreg",)))
    check_training_data(records, TrainingConfig(min_per_class=3, folds=2, families=("logreg", "complement_nb")))


def test_a_soft_vote_fold_too_small_to_calibrate_is_refused():
    # Five negatives, each under another intent: the folds (stratified by intent) do not spread them evenly.
    records = tiny_records()
    for i, record in enumerate(records):
        if i in (0, 5, 10, 15, 20):
            record["sentiment"] = "negative"
        elif record["sentiment"] == "negative":
            record["sentiment"] = "neutral"
    families = ("logreg", "complement_nb")
    config = TrainingConfig(min_per_class=1, folds=3, seed=0, families=families)
    check_training_data(records, config)
    with pytest.raises(InputError, match=r"sentiment \{'negative': 2\} in training fold 2 of 3"):
        check_training_data(records, dataclasses.replace(config, families=(*families, "soft_vote")))


def test_train_help_shows_the_config_table():
    result = runner.invoke(app, ["train", "--help"])
    assert result.exit_code == 0 and "with a [train] table" in " ".join(result.output.replace("│", " ").split())
