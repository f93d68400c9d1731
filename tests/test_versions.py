import datetime as dt
import json
import shutil

import pytest
from typer.testing import CliRunner

from webcare_nlp import versions
from webcare_nlp.cli import app
from webcare_nlp.errors import InputError, ModelError

runner = CliRunner()


@pytest.fixture
def models_dir(tmp_path, tiny_model):
    """A models/ folder with two versions of the tiny model and a pointer at the older one."""
    folder = tmp_path / "models"
    for name in ("team-20260101-aaaaaaa", "team-20260301-bbbbbbb"):
        shutil.copytree(tiny_model, folder / name)
    (folder / "CURRENT").write_text("team-20260101-aaaaaaa\n")
    (folder / "not-a-model").mkdir()
    return folder


def test_version_name_is_name_date_and_a_hash_of_data_and_settings():
    day = dt.date(2026, 3, 1)
    name = versions.version_name("team", data_sha256="0" * 64, settings={"seed": 1}, day=day)
    assert name.startswith("team-20260301-") and len(name.rsplit("-", 1)[1]) == 7
    assert name == versions.version_name("team", data_sha256="0" * 64, settings={"seed": 1}, day=day)
    assert name != versions.version_name("team", data_sha256="0" * 64, settings={"seed": 2}, day=day)
    with pytest.raises(InputError, match="model name"):
        versions.version_name("../evil", data_sha256="0" * 64, settings={})


def test_list_use_and_find(models_dir):
    listed = versions.list_versions(models_dir)
    assert [v.name for v in listed] == ["team-20260301-bbbbbbb", "team-20260101-aaaaaaa"]
    assert [v.current for v in listed] == [False, True]
    assert listed[0].intents and listed[0].trained_on
    versions.use_version("team-20260301", models_dir)  # a unique prefix is enough
    assert versions.current_name(models_dir) == "team-20260301-bbbbbbb"
    with pytest.raises(InputError, match="several"):
        versions.find_version("team", models_dir)
    with pytest.raises(InputError, match="there are: team-20260301-bbbbbbb, team-20260101-aaaaaaa"):
        versions.find_version("nope", models_dir)
    empty = runner.invoke(app, ["models", "use", " ", "--models-dir", str(models_dir)])
    assert empty.exit_code == 2 and "give the name of a version" in empty.output


def test_a_tampered_model_never_becomes_current(models_dir):
    victim = models_dir / "team-20260301-bbbbbbb" / "intent.joblib"
    victim.write_bytes(victim.read_bytes() + b"x")
    with pytest.raises(ModelError, match="SHA-256"):
        versions.use_version("team-20260301-bbbbbbb", models_dir)
    assert versions.current_name(models_dir) == "team-20260101-aaaaaaa"


def test_set_current_ignores_folders_outside_models(tmp_path, models_dir):
    assert not versions.set_current(tmp_path / "elsewhere", models_dir)
    assert versions.current_name(models_dir) == "team-20260101-aaaaaaa"


def test_training_writes_a_new_version(tmp_path, tiny_corpus, tiny_config):
    from webcare_nlp.training import train

    result = train(data=tiny_corpus, config=tiny_config, version="team", models_dir=tmp_path)
    assert result.output is not None and result.output.parent == tmp_path
    assert result.output.name.startswith(f"team-{dt.date.today():%Y%m%d}-")
    manifest = json.loads((result.output / "manifest.json").read_text())
    assert manifest["training_data"]["sources"] == {"files": 30}
    assert [v.name for v in versions.list_versions(tmp_path)] == [result.output.name]


def test_models_cli(models_dir):
    listed = runner.invoke(app, ["models", "list", "--models-dir", str(models_dir)])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert any(line.startswith("*") and "team-20260101-aaaaaaa" in line for line in lines)
    used = runner.invoke(app, ["models", "use", "team-20260301-bbbbbbb", "--models-dir", str(models_dir)])
    assert used.exit_code == 0 and versions.current_name(models_dir) == "team-20260301-bbbbbbb"
    missing = runner.invoke(app, ["models", "use", "nope", "--models-dir", str(models_dir)])
    assert missing.exit_code == 2 and "error:" in missing.output
    as_json = runner.invoke(app, ["models", "list", "--json", "--models-dir", str(models_dir)])
    assert json.loads(as_json.output)[0]["name"] == "team-20260301-bbbbbbb"
    typo = runner.invoke(app, ["models", "list", "--models-dir", str(models_dir / "modles")])
    assert typo.exit_code == 2 and "does not exist" in typo.output  # not "no models yet"


def test_models_compare(models_dir, tmp_path):
    from tests.conftest import tiny_records, write_jsonl

    data = write_jsonl(tmp_path / "labelled.jsonl", tiny_records())
    a, b = (str(models_dir / name) for name in ("team-20260101-aaaaaaa", "team-20260301-bbbbbbb"))
    result = runner.invoke(app, ["models", "compare", a, b, "--data", str(data), "--bootstrap", "200"])
    assert result.exit_code == 0, result.output
    assert "intent" in result.output and "ECE" in result.output and "95% CI" in result.output
    # the same model twice: every difference is zero
    compared = runner.invoke(app, ["models", "compare", a, b, "--data", str(data), "--json", "--bootstrap", "50"])
    rows = json.loads(compared.output)["rows"]
    assert rows and all(row["difference"] == 0 for row in rows)
    # Its macro-F1 is the one `evaluate` reports for the same model and file.
    from webcare_nlp.engine import Engine
    from webcare_nlp.evaluation import evaluate

    expected = evaluate(Engine.load(a), tiny_records()).labels["intent"].macro_f1
    (row,) = [row for row in rows if row["metric"] == "intent macro-F1"]
    assert row["a"] == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("command", [["models", "list"], ["models", "use"], ["models", "compare"], ["review"]])
def test_version_and_review_commands_have_help_with_an_example(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and f"webcare {' '.join(command)}" in result.output


def damage(models_dir, name, text):
    """A copy of a version under `name` whose manifest is `text`, or the original edited by `text(manifest)`."""
    folder = models_dir / name
    shutil.copytree(models_dir / "team-20260101-aaaaaaa", folder)
    path = folder / "manifest.json"
    if callable(text):
        manifest = json.loads(path.read_text())
        text(manifest)
        text = json.dumps(manifest)
    path.write_text(text)
    return folder


def test_a_model_missing_a_component_never_becomes_current(models_dir):
    damage(models_dir, "team-noint", lambda manifest: manifest["components"].remove("intent"))
    with pytest.raises(ModelError, match="no intent component"):
        versions.use_version("team-noint", models_dir)
    assert versions.current_name(models_dir) == "team-20260101-aaaaaaa"
    listed = {v.name: v for v in versions.list_versions(models_dir)}
    assert "no intent component" in (listed["team-noint"].damaged or "")
    result = runner.invoke(app, ["models", "use", "team-noint", "--models-dir", str(models_dir)])
    assert result.exit_code == 2 and "no intent component" in result.output


def test_a_damaged_manifest_is_listed_as_damaged_and_never_used(models_dir):
    damage(models_dir, "team-badtype", lambda manifest: manifest.update({"training_data": "x"}))
    damage(models_dir, "team-broken", "{not json")
    listed = versions.list_versions(models_dir)
    by_name = {v.name: v for v in listed}
    assert {"team-20260101-aaaaaaa", "team-20260301-bbbbbbb", "team-badtype", "team-broken"} == set(by_name)
    assert "'training_data' must be an object" in (by_name["team-badtype"].damaged or "")
    assert "not valid JSON" in (by_name["team-broken"].damaged or "")
    assert by_name["team-20260101-aaaaaaa"].damaged is None and by_name["team-20260101-aaaaaaa"].current

    result = runner.invoke(app, ["models", "list", "--models-dir", str(models_dir)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("team-broken" in line and "DAMAGED" in line for line in lines)
    assert any(line.startswith("warning: team-badtype is damaged") for line in lines)
    assert any(line.startswith("*") and "team-20260101-aaaaaaa" in line for line in lines)
    as_json = runner.invoke(app, ["models", "list", "--json", "--models-dir", str(models_dir)])
    assert as_json.exit_code == 0
    rows = json.loads(as_json.stdout)
    assert {row["name"]: row["damaged"] is not None for row in rows}["team-broken"] is True

    for name, why in (("team-broken", "not valid JSON"), ("team-badtype", "'training_data' must be")):
        with pytest.raises(ModelError, match=why):
            versions.use_version(name, models_dir)
        used = runner.invoke(app, ["models", "use", name, "--models-dir", str(models_dir)])
        assert used.exit_code == 2 and "damaged" in used.output and "No model called" not in used.output
    assert versions.current_name(models_dir) == "team-20260101-aaaaaaa"


@pytest.mark.parametrize(("pointer", "expected"), [("", "is empty"), ("team-gone\n", "names 'team-gone'")])
def test_a_current_pointer_to_no_model_is_warned_about(models_dir, pointer, expected):
    (models_dir / "CURRENT").write_text(pointer)
    warning = versions.current_warning(models_dir)
    assert warning is not None and expected in warning
    result = runner.invoke(app, ["models", "list", "--models-dir", str(models_dir)])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert any(line.startswith("warning:") and expected in line for line in lines)
    assert not any(line.startswith("*") for line in lines)
    (models_dir / "CURRENT").write_text("team-20260301-bbbbbbb\n")
    assert versions.current_warning(models_dir) is None
