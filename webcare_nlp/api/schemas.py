"""Request bodies of the HTTP API, validated with the library's own rules (labels.md, formats.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from webcare_nlp import errors, schema

_SHORT = 200


def _one_of(allowed: tuple[str, ...], description: str) -> Any:
    return Field(None, description=description, json_schema_extra={"enum": [*allowed, None]})


def _short_field(value: str | None, info: ValidationInfo) -> str | None:
    """An id or name: no control characters or half characters (the library's rule), named by its field."""
    return value if value is None else schema.check_field(str(info.field_name), value)


def _named_field(value: str, info: ValidationInfo) -> str:
    """An id that must name something: not blank."""
    if not value.strip():
        raise ValueError(f"The field {info.field_name!r} is blank; give the id.")
    return schema.check_field(str(info.field_name), value)


def _check_choice(value: str | None, allowed: tuple[str, ...], field: str) -> str | None:
    if value is None or value == "":
        return None
    if value not in allowed:
        raise ValueError(f"Unknown {field} {value!r}; use one of: {', '.join(allowed)}.")
    return value


class MessageIn(BaseModel):
    """One customer message (labels.md). Only `text` is required; unknown fields are ignored."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [{"text": "@SkyHop mijn koffer is nog steeds niet terecht!!", "channel": "twitter"}]
        },
    )

    text: str = Field(..., description="The message as written.", max_length=errors.MAX_TEXT_CHARS)
    id: str | None = Field(None, max_length=_SHORT)
    channel: str | None = _one_of(schema.CHANNELS, "Where the message was posted.")
    platform: str | None = _one_of(schema.PLATFORMS, "brand or consumer; inferred when left out.")
    lang: str | None = Field(None, max_length=8, description="ISO 639-1; detected when left out.")
    company: str | None = Field(None, max_length=_SHORT)
    sector: str | None = Field(None, max_length=_SHORT)
    author: str | None = Field(None, max_length=_SHORT, description="The customer's name, used in the greeting.")
    created_at: str | None = Field(None, max_length=64)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return schema.check_text(value)

    _short = field_validator("id", "lang", "company", "sector", "author", "created_at")(_short_field)

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        return _check_choice(value, schema.CHANNELS, "channel")

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str | None) -> str | None:
        return _check_choice(value, schema.PLATFORMS, "platform")

    def fields(self) -> dict[str, Any]:
        """The message as the engine takes it (unset fields left out)."""
        return self.model_dump(exclude_none=True)


class SuggestIn(MessageIn):
    """A message plus how many suggestions to return."""

    # Strict: a top_k of true or "3", or an always of "yes", is a client's mistake, not a value to coerce.
    top_k: int = Field(
        3, ge=1, le=10, strict=True, description="How many suggestions of each kind (templates, then articles)."
    )
    always: bool = Field(False, strict=True, description="Suggest even when no reply is expected.")
    initials: str | None = Field(
        None, max_length=_SHORT, description="The agent's signature for {initialen}; the server's when left out."
    )

    _initials = field_validator("initials")(_short_field)


class ScoreIn(BaseModel):
    """A small batch of messages (at most the server's `max_batch`)."""

    model_config = ConfigDict(extra="forbid")

    messages: list[MessageIn] = Field(..., min_length=1, description="The messages, in order.")
    suggest: bool = Field(False, strict=True, description="Add ranked suggestions to every result.")
    top_k: int = Field(3, ge=1, le=10, strict=True, description="With suggest: how many of each kind.")


class LabelsIn(BaseModel):
    """An agent's correction of the predicted labels (used by `webcare train --feedback`)."""

    model_config = ConfigDict(extra="forbid")

    intent: str | None = Field(
        None, max_length=_SHORT, description="The right intent: one the serving model predicts (a team's own too)."
    )
    sentiment: str | None = _one_of(schema.SENTIMENTS, "The right sentiment.")
    reactive: bool | None = Field(None, strict=True)
    reply_expected: bool | None = Field(None, strict=True)
    platform: str | None = _one_of(schema.PLATFORMS, "The right platform.")

    _intent = field_validator("intent")(_short_field)  # checked against the serving model's intents

    @field_validator("sentiment")
    @classmethod
    def _sentiment(cls, value: str | None) -> str | None:
        return _check_choice(value, schema.SENTIMENTS, "sentiment")

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str | None) -> str | None:
        return _check_choice(value, schema.PLATFORMS, "platform")


class FeedbackIn(BaseModel):
    """What the agent did with a suggestion: used it, edited it (with the final text) or rejected it."""

    model_config = ConfigDict(extra="forbid")

    message_id: str = Field(..., min_length=1, max_length=_SHORT)
    suggestion_id: str = Field(..., min_length=1, max_length=2_000, description="Template id or article url.")
    action: Literal["used", "edited", "rejected"]
    text: str = Field(..., max_length=errors.MAX_TEXT_CHARS, description="The customer's message.")
    company: str | None = Field(None, max_length=_SHORT)
    suggested_text: str | None = Field(
        None, max_length=errors.MAX_TEXT_CHARS, description="The filled-in suggestion as shown (measures the edit)."
    )
    final_text: str | None = Field(
        None, validate_default=True, max_length=errors.MAX_TEXT_CHARS, description="The reply as sent."
    )
    labels: LabelsIn | None = None
    agent: str | None = Field(None, max_length=100)

    _ids = field_validator("message_id", "suggestion_id")(_named_field)
    _short = field_validator("company", "agent")(_short_field)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return schema.check_text(value)

    @field_validator("suggested_text")
    @classmethod
    def _suggested_text(cls, value: str | None) -> str | None:
        return value if not (value or "").strip() else schema.check_text(value)

    @field_validator("final_text")
    @classmethod
    def _edited_needs_final_text(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("action") == "edited" and not (value or "").strip():
            raise ValueError("An 'edited' suggestion needs the final text the agent sent.")
        return value if not (value or "").strip() else schema.check_text(value)
