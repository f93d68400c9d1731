import json
import shutil

import pytest

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
    assert manifest["format_version"] == 1
    assert {"scikit-learn", "spacy", "webcare_nlp"} <= set(manifest["versions"])
    assert set(manifest["files"]) >= {"intent.joblib", "MODEL_CARD.md", "confusion_intent.png"}


def test_tampered_file_is_refused(tiny_model, tmp_path):
    model = copy(tiny_model, tmp_path)
    with (model / "intent.joblib").open("ab") as handle:
        handle.write(b"\x00")
    with pytest.raises(ModelError, match="SHA-256"):
        Engine.load(model)


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
