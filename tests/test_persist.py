import json
import shutil

import pytest

from webcare_nlp.batch.chunks import ScoreSettings, check_settings
from webcare_nlp.engine import Engine
from webcare_nlp.errors import ModelError


def copy(model, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(model, target)
    return target


def test_a_tiny_model_loads_and_analyses(tiny_model):
    engine = Engine.load(tiny_model)
    assert engine.analyze("Waar is mijn koffer?")["intent"] in engine.models["intent"].classes_
    manifest = json.loads((tiny_model / "manifest.json").read_text())
    assert manifest["format_version"] == 2
    assert {"scikit-learn", "spacy", "webcare_nlp"} <= set(manifest["versions"])
    assert set(manifest["files"]) >= {"intent.joblib", "MODEL_CARD.md", "confusion_intent.png"}


def test_tampered_file_is_refused(tiny_model, tmp_path):
    model = copy(tiny_model, tmp_path)
    with (model / "intent.joblib").open("ab") as handle:
        handle.write(b"\x00")
    with pytest.raises(ModelError, match="SHA-256"):
        Engine.load(model)


def test_a_scoring_run_refuses_a_tampered_model_before_any_worker_loads_it(tiny_model, tmp_path):
    # Workers and a Dask cluster would each print their own traceback first; the run names it once.
    model = copy(tiny_model, tmp_path)
    with (model / "sentiment.joblib").open("ab") as handle:
        handle.write(b"\x00")
    with pytest.raises(ModelError, match=r"sentiment\.joblib does not match"):
        check_settings(ScoreSettings(model=str(model)))
    check_settings(ScoreSettings(model=str(tiny_model)))  # the untouched model passes


def test_unknown_format_and_old_library_are_refused(tiny_model, tmp_path):
    model = copy(tiny_model, tmp_path)
    manifest = json.loads((model / "manifest.json").read_text())
    (model / "manifest.json").write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(ModelError, match="format 99"):
        Engine.load(model)
    manifest["versions"]["scikit-learn"] = "0.24.2"
    (model / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"scikit-learn 0\.24\.2"):
        Engine.load(model)


def test_missing_or_unlisted_files_are_refused(tiny_model, tmp_path):
    model = copy(tiny_model, tmp_path)
    (model / "sentiment.joblib").unlink()
    with pytest.raises(ModelError, match="missing"):
        Engine.load(model)
    with pytest.raises(ModelError, match=r"manifest\.json is missing"):
        Engine.load(tmp_path)


def test_packed_vocabularies_load_as_the_dicts_they_were(tiny_model, tmp_path, monkeypatch):
    import pickle

    import joblib

    from webcare_nlp.features import packing
    from webcare_nlp.persist import sha256_of

    vectorizer = Engine.load(tiny_model).vectorizer
    state = vectorizer.__getstate__()
    assert isinstance(state["char_vectorizer_"].vocabulary_, packing.PackedVocabulary)
    assert isinstance(vectorizer.char_vectorizer_.vocabulary_, dict)  # the one in memory is left alone
    again = pickle.loads(pickle.dumps(vectorizer))
    assert again.char_vectorizer_.vocabulary_ == vectorizer.char_vectorizer_.vocabulary_
    assert again.word_vectorizer_.vocabulary_ == vectorizer.word_vectorizer_.vocabulary_
    odd = packing.PacksVocabularies.__getstate__  # a term with the separator stays a plain dict
    vectorizer.word_vectorizer_.vocabulary_["a\x00b"] = len(vectorizer.word_vectorizer_.vocabulary_)
    assert isinstance(odd(vectorizer)["word_vectorizer_"].vocabulary_, dict)
    del vectorizer.word_vectorizer_.vocabulary_["a\x00b"]

    # A format-1 artefact (plain dicts) loads as before and labels alike.
    model = copy(tiny_model, tmp_path)
    monkeypatch.setattr(packing, "_packable", lambda vocabulary: False)
    joblib.dump(vectorizer, model / "vectorizer.joblib")
    monkeypatch.undo()
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["format_version"] = 1
    manifest["files"]["vectorizer.joblib"] = sha256_of(model / "vectorizer.joblib")
    (model / "manifest.json").write_text(json.dumps(manifest))
    text = "Waar blijft mijn koffer?? Al twee dagen niks gehoord @SkyHop"
    assert Engine.load(model).analyze(text) == Engine.load(tiny_model).analyze(text)


def edit_manifest(model, change):
    path = model / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def test_every_component_the_engine_needs_is_required(tiny_model, tmp_path):
    from webcare_nlp import persist
    from webcare_nlp.engine import LABEL_MODELS

    assert set(LABEL_MODELS) | {"text_pipeline", "vectorizer", "settings"} <= set(persist.REQUIRED_COMPONENTS)
    model = copy(tiny_model, tmp_path)
    edit_manifest(model, lambda manifest: manifest["components"].remove("intent"))
    with pytest.raises(ModelError, match="incomplete: its manifest lists no intent component"):
        Engine.load(model)


def test_label_sets_that_disagree_with_the_models_are_refused(tiny_model, tmp_path):
    model = copy(tiny_model, tmp_path)
    edit_manifest(model, lambda manifest: manifest["labels"]["intent"].append("order_status"))
    with pytest.raises(ModelError, match=r"labels\.intent .*order_status.* do not match"):
        Engine.load(model)


@pytest.mark.parametrize(
    ("field", "value"),
    [("training_data", "x"), ("versions", "x"), ("labels", ["intent"]), ("components", "intent"), ("files", [])],
)
def test_a_manifest_field_of_the_wrong_type_is_damaged(tiny_model, tmp_path, field, value):
    from webcare_nlp import persist

    model = copy(tiny_model, tmp_path)
    edit_manifest(model, lambda manifest: manifest.update({field: value}))
    with pytest.raises(ModelError, match=f"damaged: '{field}' must be"):
        persist.read_manifest(model)
    with pytest.raises(ModelError, match="damaged"):
        Engine.load(model)
