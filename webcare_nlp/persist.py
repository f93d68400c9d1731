"""Model artefacts on disk: joblib files plus a manifest with versions and SHA-256 hashes.

This is the only module that touches joblib. Pickles run code when loaded, so a file is loaded only
when the manifest lists it and its hash matches (the approach of skops).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib

from webcare_nlp import __version__
from webcare_nlp.errors import ModelError

# 2: the TF-IDF vocabularies are stored packed (`features.packing`); format 1 (plain dicts) still loads.
FORMAT_VERSION = 2
SUPPORTED_FORMATS = (1, 2)
MANIFEST = "manifest.json"
# The components `Engine.load` cannot do without: the label models, the text pipeline, the vectorizer and
# the settings. (engine.LABEL_MODELS names the label models; persist must not import the engine.)
LABEL_COMPONENTS = ("intent", "sentiment", "reactive", "platform")
REQUIRED_COMPONENTS = (*LABEL_COMPONENTS, "text_pipeline", "vectorizer", "settings")
# Manifest fields and the JSON type each must have when present; anything else means a damaged manifest.
_FIELD_TYPES: dict[str, type] = {
    "components": list,
    "files": dict,
    "versions": dict,
    "labels": dict,
    "training_data": dict,
    "metrics_cv": dict,
}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    import numpy
    import sklearn
    import spacy

    return {
        "webcare_nlp": __version__,
        "scikit-learn": sklearn.__version__,
        "spacy": spacy.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def save_artefact(
    directory: Path, components: dict[str, Any], manifest: dict[str, Any], extra_files: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Write each component as `<name>.joblib`, then the manifest listing every file's hash.

    `extra_files` are files already written in `directory` (the model card, plots) to hash as well.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for name, component in components.items():
        path = directory / f"{name}.joblib"
        joblib.dump(component, path, compress=3)
        files[path.name] = sha256_of(path)
    for name in extra_files:
        files[name] = sha256_of(directory / name)
    full = {
        "format_version": FORMAT_VERSION,
        "versions": library_versions(),
        **manifest,
        "components": sorted(components),
        "files": files,
    }
    (directory / MANIFEST).write_text(json.dumps(full, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    return full


def add_component(directory: Path, name: str, component: Any, manifest: dict[str, Any]) -> dict[str, Any]:
    """Add (or replace) one component of an existing artefact, e.g. the topic model beside the engine.

    Every file the manifest lists is checked against its hash first, so that rewriting the manifest
    never blesses a file that was changed after training. `manifest` fields are merged in.
    """
    directory = Path(directory)
    full = read_manifest(directory)
    _check_versions(full, directory)
    for filename, digest in full.get("files", {}).items():
        path = directory / filename
        if filename == f"{name}.joblib":
            continue
        if not path.is_file() or sha256_of(path) != digest:
            raise ModelError(f"{path} is missing or does not match its manifest; refusing to add {name} to it.")
    path = directory / f"{name}.joblib"
    joblib.dump(component, path, compress=3)
    full.update(manifest)
    full["files"] = {**full.get("files", {}), path.name: sha256_of(path)}
    full["components"] = sorted({*full.get("components", []), name})
    (directory / MANIFEST).write_text(json.dumps(full, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    return full


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise ModelError(
            f"No model at {directory}: {MANIFEST} is missing. Train one with 'webcare train' "
            "or point --model at a folder that 'webcare train' wrote."
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"The manifest {path} is not valid JSON ({exc}); the artefact is damaged.") from exc
    if not isinstance(manifest, dict):
        raise ModelError(f"The manifest {path} is not a JSON object; the artefact is damaged.")
    _check_shape(manifest, path)
    return manifest


def _check_shape(manifest: dict[str, Any], path: Path) -> None:
    """Refuse a manifest whose fields have the wrong JSON types (a hand edit gone wrong)."""

    def damaged(what: str) -> ModelError:
        return ModelError(f"The manifest {path} is damaged: {what}.")

    for key, kind in _FIELD_TYPES.items():
        if key in manifest and not isinstance(manifest[key], kind):
            expected = "a list" if kind is list else "an object"
            raise damaged(f"{key!r} must be {expected}, not {type(manifest[key]).__name__}")
    if not all(isinstance(name, str) for name in manifest.get("components", [])):
        raise damaged("'components' must be a list of names")
    if not all(isinstance(digest, str) for digest in manifest.get("files", {}).values()):
        raise damaged("'files' must map each file to its SHA-256")
    if not all(isinstance(version, str) for version in manifest.get("versions", {}).values()):
        raise damaged("'versions' must map each library to its version")
    for task, labels in manifest.get("labels", {}).items():
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise damaged(f"'labels.{task}' must be a list of labels")


def check_components(manifest: dict[str, Any], directory: Path) -> None:
    missing = [name for name in REQUIRED_COMPONENTS if name not in manifest.get("components", [])]
    if missing:
        raise ModelError(
            f"The model at {directory} is incomplete: its manifest lists no {', '.join(missing)} "
            f"component{'s' if len(missing) > 1 else ''} (a model needs {', '.join(REQUIRED_COMPONENTS)}). "
            "Retrain it with 'webcare train' or restore its original manifest.json."
        )


def _check_labels(components: dict[str, Any], manifest: dict[str, Any], directory: Path) -> None:
    """The manifest's label sets must be the classes the loaded label models predict."""
    for task, labels in manifest.get("labels", {}).items():
        if task not in LABEL_COMPONENTS:
            continue
        classes = getattr(components[task], "classes_", None)
        if classes is None:
            raise ModelError(f"The {task} model at {directory} is not a fitted classifier; the artefact is damaged.")
        known = {str(label) for label in classes}
        if set(labels) != known:
            raise ModelError(
                f"The manifest of the model at {directory} is damaged: its labels.{task} ({', '.join(labels)}) "
                f"do not match the {task} model's classes ({', '.join(sorted(known))}). "
                "Restore the original manifest.json or retrain with 'webcare train'."
            )
    settings = components["settings"]
    if not isinstance(settings, dict) or "review_margin" not in settings:
        raise ModelError(f"The settings of the model at {directory} lack 'review_margin'; the artefact is damaged.")


def _check_versions(manifest: dict[str, Any], directory: Path) -> None:
    fmt = manifest.get("format_version")
    if fmt not in SUPPORTED_FORMATS:
        raise ModelError(
            f"The model at {directory} has artefact format {fmt!r}; this webcare-nlp ({__version__}) reads "
            f"formats {SUPPORTED_FORMATS}. Retrain it with 'webcare train' or install the version that wrote it."
        )
    saved = manifest.get("versions", {}).get("scikit-learn", "")
    current = metadata.version("scikit-learn")  # not sklearn.__version__: importing it costs a reading process
    if saved.split(".")[:1] != current.split(".")[:1]:
        raise ModelError(
            f"The model at {directory} was trained with scikit-learn {saved}; this is {current}. "
            "Pickled models do not survive a major version change: retrain with 'webcare train'."
        )
    if saved.split(".")[:2] != current.split(".")[:2]:
        warnings.warn(
            f"The model at {directory} was trained with scikit-learn {saved}, this is {current}; "
            "predictions may differ slightly. Retrain to be sure.",
            stacklevel=3,
        )


def verify_artefact(directory: Path) -> dict[str, Any]:
    """Check an artefact's manifest, versions and file hashes without unpickling anything; return the manifest.

    Raises ModelError for a missing, tampered or incompatible artefact. Cheap (hashing about 20 MB), so a
    run can refuse a bad model before it starts worker processes or a cluster that would each load it.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    _check_versions(manifest, directory)
    check_components(manifest, directory)
    files = manifest.get("files", {})
    for name in manifest.get("components", []):
        filename = f"{name}.joblib"
        path = directory / filename
        if filename not in files:
            raise ModelError(f"{path} is not listed in the manifest's hashes; refusing to load it.")
        if not path.is_file():
            raise ModelError(f"The model at {directory} is incomplete: {filename} is missing.")
        if sha256_of(path) != files[filename]:
            raise ModelError(
                f"{path} does not match the SHA-256 in its manifest: the file was changed after training. "
                "Refusing to load it; retrain or restore the original file."
            )
    return manifest


def load_artefact(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify and load an artefact; return (components, manifest).

    Raises ModelError for a missing, tampered or incompatible artefact, before unpickling anything.
    """
    directory = Path(directory)
    manifest = verify_artefact(directory)
    components = {name: joblib.load(directory / f"{name}.joblib") for name in manifest.get("components", [])}
    _check_labels(components, manifest, directory)
    return components, manifest


PROJECT_ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = PROJECT_ROOT / "models"
CURRENT_POINTER = "CURRENT"


def resolve_model_dir(model: str | Path | None = None) -> Path:
    """Find a model folder: a path, a name under models/, or (None) the one models/CURRENT names.

    The environment variable WEBCARE_MODEL overrides the default.
    """
    if model is None:
        model = os.environ.get("WEBCARE_MODEL") or None
    if model is None:
        pointer = MODELS_DIR / CURRENT_POINTER
        if not pointer.is_file():
            raise ModelError(f"No current model: {pointer} is missing. Train one with 'webcare train' or pass --model.")
        try:
            model = pointer.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelError(f"{pointer} cannot be read ({exc}); set it with 'webcare models use NAME'.") from None
        if not model:
            raise ModelError(f"{pointer} is empty; set it with 'webcare models use NAME' or pass --model.")
    if not str(model).strip():
        raise ModelError("The model path is empty: give a folder that 'webcare train' wrote, or a model name.")
    path = Path(model)
    if not path.is_dir() and (MODELS_DIR / str(model)).is_dir():
        path = MODELS_DIR / str(model)
    if not path.is_dir():
        raise ModelError(
            f"No model folder at {model!s}: give a folder that 'webcare train' wrote, or a name in {MODELS_DIR}."
        )
    return path
