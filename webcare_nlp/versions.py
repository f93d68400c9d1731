"""Model versions under models/: versioned folder names, the CURRENT pointer, listing and switching."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webcare_nlp import persist
from webcare_nlp.errors import InputError, ModelError

# <name>-<YYYYMMDD>-<7 hex>: the name a team chooses, the training day and a hash of data and settings.
_VERSIONED = re.compile(r"^(?P<name>.+)-(?P<date>\d{8})-(?P<hash>[0-9a-f]{7})$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class ModelVersion:
    """One model folder under models/ and the facts its manifest holds."""

    name: str
    path: Path
    current: bool
    trained_on: int | None
    data_sha256: str
    created: str
    intents: tuple[str, ...]
    metrics: dict[str, float]
    damaged: str | None = None  # why its manifest cannot be read, for a folder listed as damaged

    def as_dict(self) -> dict[str, Any]:
        return {
            "damaged": self.damaged,
            "name": self.name,
            "path": str(self.path),
            "current": self.current,
            "messages": self.trained_on,
            "data_sha256": self.data_sha256[:12],
            "created": self.created,
            "intents": list(self.intents),
            "cv_macro_f1": self.metrics,
        }


def short_hash(*parts: str) -> str:
    """Seven hex digits of SHA-256 over `parts`; the same data and settings give the same hash."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:7]


def version_name(name: str, *, data_sha256: str, settings: dict[str, Any], day: dt.date | None = None) -> str:
    """The folder name of a new version: `<name>-<YYYYMMDD>-<short hash of data and settings>`.

    Example:
        >>> version_name("webcare", data_sha256="ab" * 32, settings={"seed": 13}, day=dt.date(2026, 5, 1))
        'webcare-20260501-febbec7'
    """
    if not _NAME.match(name):
        raise InputError(f"The model name {name!r} must be letters, digits, '-', '_' or '.', at most 64 characters.")
    day = day or dt.date.today()
    return f"{name}-{day:%Y%m%d}-{short_hash(data_sha256, json.dumps(settings, sort_keys=True, default=str))}"


def current_name(models_dir: Path | None = None) -> str | None:
    """The name models/CURRENT points at, or None when there is no pointer or it cannot be read
    (`current_warning` says why)."""
    pointer = (models_dir or persist.MODELS_DIR) / persist.CURRENT_POINTER
    if not pointer.is_file():
        return None
    try:
        return pointer.read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def current_warning(models_dir: Path | None = None) -> str | None:
    """What is wrong with models/CURRENT (empty, or naming no model under `models_dir`), else None.

    No pointer at all is not a warning: a fresh models/ folder has none until the first training.
    """
    models_dir = models_dir or persist.MODELS_DIR
    pointer = models_dir / persist.CURRENT_POINTER
    if not pointer.is_file():
        return None
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        return f"{pointer} cannot be read ({exc}); there is no current model. Set one with 'webcare models use NAME'."
    if not name:
        return f"{pointer} is empty; there is no current model. Set one with 'webcare models use NAME'."
    if not (models_dir / name / persist.MANIFEST).is_file():
        return (
            f"{pointer} names {name!r}, but there is no such model under {models_dir}; "
            "set one with 'webcare models use NAME'."
        )
    return None


def _version(path: Path, current: str | None) -> ModelVersion | None:
    """The version in `path`; None when it holds no manifest, one marked damaged when its manifest is bad."""
    if not (path / persist.MANIFEST).is_file():
        return None
    try:
        manifest = persist.read_manifest(path)
        persist.check_components(manifest, path)
    except ModelError as exc:
        return _damaged(path, current, str(exc))
    data = manifest.get("training_data", {})
    try:
        metrics = {
            str(task): float(values.get("macro_f1", float("nan")))
            for task, values in manifest.get("metrics_cv", {}).items()
            if isinstance(values, dict)
        }
    except (TypeError, ValueError) as exc:
        return _damaged(path, current, f"The manifest {path / persist.MANIFEST} is damaged: a macro_f1 ({exc}).")
    created = manifest.get("created", "")
    if not created:
        match = _VERSIONED.match(path.name)
        created = f"{match['date'][:4]}-{match['date'][4:6]}-{match['date'][6:]}" if match else ""
    messages = data.get("messages")
    return ModelVersion(
        name=path.name,
        path=path,
        current=path.name == current,
        trained_on=messages if isinstance(messages, int) and not isinstance(messages, bool) else None,
        data_sha256=str(data.get("sha256", "")),
        created=str(created),
        intents=tuple(manifest.get("labels", {}).get("intent", ())),
        metrics=metrics,
    )


def _damaged(path: Path, current: str | None, why: str) -> ModelVersion:
    return ModelVersion(
        name=path.name,
        path=path,
        current=path.name == current,
        trained_on=None,
        data_sha256="",
        created="",
        intents=(),
        metrics={},
        damaged=why,
    )


def list_versions(models_dir: Path | None = None) -> list[ModelVersion]:
    """Every model folder with a manifest under `models_dir`, newest first (by creation, then name).

    A folder whose manifest cannot be read is listed too, with `damaged` saying why (last: it has no date).
    """
    models_dir = models_dir or persist.MODELS_DIR
    current = current_name(models_dir)
    if not models_dir.is_dir():
        return []
    found = [_version(path, current) for path in sorted(models_dir.iterdir()) if path.is_dir()]
    versions = [v for v in found if v is not None]
    return sorted(versions, key=lambda v: (v.created, v.name), reverse=True)


def find_version(name: str, models_dir: Path | None = None) -> ModelVersion:
    """The version called `name` (or a unique prefix of it), else an InputError listing the choices."""
    versions = list_versions(models_dir)
    exact = [v for v in versions if v.name == name]
    matches = exact or [v for v in versions if v.name.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(v.name for v in versions) or "none"
    if not matches:
        raise InputError(f"No model called {name!r} under {models_dir or persist.MODELS_DIR}; there are: {names}.")
    raise InputError(f"{name!r} matches several models ({', '.join(v.name for v in matches)}); give the full name.")


def use_version(name: str, models_dir: Path | None = None) -> ModelVersion:
    """Point models/CURRENT at the version `name` after checking that its artefact loads cleanly."""
    models_dir = models_dir or persist.MODELS_DIR
    version = find_version(name, models_dir)
    if version.damaged:
        raise ModelError(f"The model {version.name} cannot become current: {version.damaged}")
    persist.load_artefact(version.path)  # a tampered or incompatible model must never become current
    set_current(version.path, models_dir)
    return version


def set_current(model_dir: Path, models_dir: Path | None = None) -> bool:
    """Point CURRENT at `model_dir` when it lives in `models_dir`; return whether the pointer moved."""
    models_dir = (models_dir or persist.MODELS_DIR).resolve()
    model_dir = Path(model_dir).resolve()
    if model_dir.parent != models_dir:
        return False
    # Write then rename, so a reader never sees a half-written pointer.
    pointer = models_dir / persist.CURRENT_POINTER
    partial = pointer.with_suffix(".tmp")
    partial.write_text(model_dir.name + "\n", encoding="utf-8")
    partial.replace(pointer)
    return True
