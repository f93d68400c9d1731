"""The server's settings: defaults, then a TOML settings file, then `WEBCARE_*` environment variables.

`get_settings()` is the cached FastAPI dependency; tests override it (FastAPI's "Settings" recipe).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webcare_nlp.errors import InputError

ENV_PREFIX = "WEBCARE_"
SETTINGS_FILE_ENV = "WEBCARE_SETTINGS"


def default_database() -> Path:
    """Where feedback is kept unless told otherwise: the user's data folder (XDG)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "webcare-nlp" / "feedback.sqlite3"


class Settings(BaseModel):
    """Everything `webcare serve` can be told; each field is also `WEBCARE_<FIELD>` in the environment.

    Example:
        >>> Settings.from_sources(environ={"WEBCARE_TIMEOUT_SECONDS": "5"}).timeout_seconds
        5.0
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = Field(None, description="Model folder or name under models/ (default: models/CURRENT).")
    templates: str | None = Field(None, description="Reply templates (.jsonl/.yaml); default: the shipped library.")
    articles: str | None = Field(None, description="Knowledge-base articles (.jsonl/.yaml); default: shipped.")
    history: str | None = Field(None, description="Reply history (.jsonl); default: the shipped history.")
    shared_by_history: bool = Field(
        False, description="Also suggest another company's item to a company whose agents sent it before."
    )
    database: Path = Field(default_factory=default_database, description="SQLite file for agents' feedback.")
    api_token: str | None = Field(None, description="When set, every API call needs 'Authorization: Bearer ...'.")
    agent_initials: str = Field("", max_length=12, description="Signature under suggested replies, e.g. ^IB.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS; none by default.")
    max_body_bytes: int = Field(1_000_000, ge=1_000, description="Larger request bodies get 413.")
    timeout_seconds: float = Field(10.0, gt=0, le=3_600, description="A request that takes longer gets 503.")
    max_batch: int = Field(100, ge=1, le=10_000, description="Most messages one POST /score may hold.")
    feedback_refresh_seconds: float = Field(
        5.0,
        ge=0,
        le=86_400,
        description="How often the server looks for feedback other processes recorded (0: only its own).",
    )

    @classmethod
    def from_sources(
        cls, *, environ: Mapping[str, str] | None = None, file: str | Path | None = None, **overrides: Any
    ) -> Settings:
        """Merge defaults < settings file < environment < `overrides` (CLI options; None means unset)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        path = file or environ.get(SETTINGS_FILE_ENV)
        if path:
            values.update(_read_file(Path(path)))
        for name in cls.model_fields:
            raw = environ.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                values[name] = [o.strip() for o in raw.split(",") if o.strip()] if name == "cors_origins" else raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise InputError(f"Invalid server settings ({problems}).") from None

    def to_environ(self) -> dict[str, str]:
        """These settings as `WEBCARE_<FIELD>` variables, which `from_sources` reads back unchanged."""
        environ = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            text = ",".join(value) if isinstance(value, list) else str(value)
            environ[ENV_PREFIX + name.upper()] = text
        return environ


def _read_file(path: Path) -> dict[str, Any]:
    """A TOML file with the settings at top level or under a [serve] table."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"Settings file {path} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"Settings file {path} is a folder; give the TOML file.") from None
    except OSError as exc:
        raise InputError(f"Settings file {path} cannot be read: {exc.strerror or exc}.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"Settings file {path} is not valid TOML: {exc}") from None
    table = data.get("serve", data)
    if not isinstance(table, dict):
        raise InputError(f"In the settings file {path}, serve must be a table: [serve] and the settings below it.")
    return dict(table)


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment and the settings file, read once per process."""
    return Settings.from_sources()
