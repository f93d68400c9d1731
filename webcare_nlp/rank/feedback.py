"""What agents did with suggestions (used, edited, rejected), kept in SQLite and fed back as history.

Every text is stored masked (the customer's message, the suggestion as shown and the reply as sent), so
the store holds no phone numbers, e-mail addresses or order numbers.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from webcare_nlp import schema
from webcare_nlp.errors import InputError
from webcare_nlp.text.pii import PLACEHOLDERS, Entity, find_entities, mask

ACTIONS = ("used", "edited", "rejected")
LABEL_FIELDS = ("intent", "sentiment", "reactive", "reply_expected", "platform")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    message_id TEXT,
    text TEXT NOT NULL,
    company TEXT,
    suggestion_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('used', 'edited', 'rejected')),
    suggested_text TEXT,
    final_text TEXT,
    edit_distance INTEGER,
    labels TEXT,
    agent TEXT
);
CREATE INDEX IF NOT EXISTS feedback_suggestion ON feedback (suggestion_id);
"""


def edit_distance(first: str, second: str) -> int:
    """Levenshtein distance in characters.

    Example:
        >>> edit_distance("Hoi Sanne", "Hoi Sanne!")
        1
    """
    from rapidfuzz.distance import Levenshtein

    return int(Levenshtein.distance(first, second))


class FeedbackStore:
    """An SQLite file of agent feedback, created on first use, in WAL mode for concurrent writers.

    Example:
        >>> import tempfile, pathlib
        >>> store = FeedbackStore(pathlib.Path(tempfile.mkdtemp()) / "feedback.db")
        >>> row = store.record(suggestion_id="gen-sorry-01", action="used", text="Mijn pakket is kwijt")
        >>> store.history()[0]["used"]
        ['gen-sorry-01']
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and self.path.is_dir():
            raise InputError(f"{self.path} is a folder; give a file for the feedback database.")
        if not self.path.parent.exists():
            raise InputError(f"The folder of the feedback database does not exist: {self.path.parent}")
        try:
            with closing(self._connect()) as connection:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path} is not a usable SQLite feedback database ({exc}).") from exc

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute("PRAGMA busy_timeout=30000")
        return connection

    def record(
        self,
        *,
        suggestion_id: str,
        action: str,
        text: str,
        message_id: str | None = None,
        company: str | None = None,
        suggested_text: str | None = None,
        final_text: str | None = None,
        labels: dict[str, Any] | None = None,
        agent: str | None = None,
    ) -> dict[str, Any]:
        """Store one piece of feedback and return it as stored (with its edit distance).

        Args:
            suggestion_id: the template id or article url the agent acted on.
            action: used, edited (give `final_text`) or rejected.
            text: the customer's message; it is stored masked.
            suggested_text: the filled-in suggestion as shown, to measure the agent's edit; stored masked.
            final_text: what the agent sent after editing; stored masked.
            labels: corrected labels (intent, sentiment, reactive, reply_expected, platform).
        """
        if action not in ACTIONS:
            raise InputError(f"Unknown action {action!r}; use one of: {', '.join(ACTIONS)}.")
        if not isinstance(suggestion_id, str) or not suggestion_id.strip():
            raise InputError("Feedback needs the id of the suggestion (template id or article url).")
        clean = schema.check_text(text)
        for name, value in (
            ("suggestion_id", suggestion_id),
            ("message_id", message_id),
            ("company", company),
            ("agent", agent),
        ):
            if value is not None:
                schema.check_field(name, value)
        for name, value in (("suggested_text", suggested_text), ("final_text", final_text)):
            if value is not None and value.strip():
                try:
                    schema.check_text(value)
                except InputError as exc:  # the same rules as a message text: no binary, no half characters
                    raise InputError(f"{name}: {exc}") from None
        if action == "edited" and not (isinstance(final_text, str) and final_text.strip()):
            raise InputError("Feedback with action 'edited' needs the final text the agent sent.")
        checked_labels = _check_labels(labels)
        # Measured on the texts as written: masking would hide an edit made inside a phone number.
        distance = edit_distance(suggested_text, final_text) if suggested_text and final_text else None
        found = find_entities(clean)
        row = {
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "message_id": message_id,
            "text": mask(clean, found),
            "company": company,
            "suggestion_id": suggestion_id,
            "action": action,
            "suggested_text": _masked(suggested_text, found),
            "final_text": _masked(final_text, found),
            "edit_distance": distance,
            "labels": json.dumps(checked_labels, ensure_ascii=False) if checked_labels else None,
            "agent": agent,
        }
        with closing(self._connect()) as connection, connection:
            cursor = connection.execute(
                f"INSERT INTO feedback ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
            )
            row["id"] = cursor.lastrowid
        return row

    def last_id(self) -> int:
        """The id of the newest row (0 when empty): a cheap way to see that feedback came in."""
        with closing(self._connect()) as connection:
            return int(connection.execute("SELECT COALESCE(MAX(id), 0) FROM feedback").fetchone()[0])

    def rows(self) -> list[dict[str, Any]]:
        with closing(self._connect()) as connection:
            connection.row_factory = sqlite3.Row
            return [dict(r) for r in connection.execute("SELECT * FROM feedback ORDER BY id")]

    def history(self) -> list[dict[str, Any]]:
        """Feedback as reply-history records: used and edited suggestions count as sent, rejected ones against."""
        out = []
        for row in self.rows():
            sent = row["action"] in ("used", "edited")
            out.append(
                {
                    "id": f"feedback-{row['id']}",
                    "text": row["text"],
                    "company": row["company"],
                    "used": [row["suggestion_id"]] if sent else [],
                    "rejected": [] if sent else [row["suggestion_id"]],
                    "created_at": row["created_at"],
                }
            )
        return out

    def corrections(self) -> list[dict[str, Any]]:
        """Messages whose labels an agent corrected, newest correction per message text, oldest first: applied
        in this order, the newest correction of a message wins also over one of the same text written a
        little differently ("Pakket kwijt" and "pakket  kwijt")."""
        latest: dict[str, dict[str, Any]] = {}
        for row in self.rows():
            if row["labels"]:
                latest.pop(row["text"], None)  # to the end: the order is that of each text's newest correction
                latest[row["text"]] = {"id": f"feedback-{row['id']}", "text": row["text"], **json.loads(row["labels"])}
        return list(latest.values())

    def summary(self) -> dict[str, Any]:
        """Counts per action and the mean edit distance of edited suggestions."""
        rows = self.rows()
        # Of edited suggestions only: a "used" one sent with a small change is still counted as used.
        edits = [r["edit_distance"] for r in rows if r["action"] == "edited" and r["edit_distance"] is not None]
        return {
            **{action: sum(r["action"] == action for r in rows) for action in ACTIONS},
            "mean_edit_distance": round(sum(edits) / len(edits), 1) if edits else None,
        }


def _masked(text: str | None, from_message: list[Entity]) -> str | None:
    """A reply masked as a message is, and every value found in the customer's message masked wherever it
    stands in it: filled in after "abonnementsnummer (" a customer number lacks the words that find it."""
    if not text:
        return text
    masked = mask(text, find_entities(text))
    for entity in sorted(from_message, key=lambda e: -len(e.text)):  # "12345678" before a "1234" inside it
        if len(entity.text) >= 4:
            masked = masked.replace(entity.text, PLACEHOLDERS[entity.kind])
    return masked


def _check_labels(labels: dict[str, Any] | None) -> dict[str, Any]:
    if not labels:
        return {}
    if not isinstance(labels, dict):
        raise InputError("Corrected labels must be an object such as {'intent': 'complaint'}.")
    unknown = sorted(set(labels) - set(LABEL_FIELDS))
    if unknown:
        raise InputError(f"Unknown label field(s) {', '.join(unknown)}; use: {', '.join(LABEL_FIELDS)}.")
    allowed = {"sentiment": schema.SENTIMENTS, "platform": schema.PLATFORMS}
    for field, values in allowed.items():
        if field in labels and labels[field] not in values:
            raise InputError(f"Unknown {field} {labels[field]!r}; use one of: {', '.join(values)}.")
    for field in ("reactive", "reply_expected"):
        if field in labels and not isinstance(labels[field], bool):
            raise InputError(f"{field} must be true or false.")
    if "intent" in labels and (not isinstance(labels["intent"], str) or not labels["intent"].strip()):
        raise InputError("intent must be a label name.")
    if "intent" in labels:  # open to a team's own intents, but never control bytes or half characters
        schema.check_field("intent", labels["intent"])
    return dict(labels)
