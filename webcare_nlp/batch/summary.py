"""What a scoring run did: lines read, scored, rejected and blank, label counts, and the throughput."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

# The labels counted in the summary; `topic` is null for every message of a model without saved topics.
COUNTED = ("intent", "sentiment", "reply_expected", "topic")
# How a message that fits no topic (topic null) is counted in the readable summary.
UNASSIGNED = "unassigned"
# With --fields: per kept input field, how many scored messages had it.
KEPT_FIELDS = "kept_fields"
# How many of the lines that repeat an earlier line's id the summary names; all of them are counted.
SHOWN_REPEATS = 5


def count_labels(results: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    """Per counted label, how often each value occurs in `results`; a null topic counts as "unassigned"."""
    counts = {key: Counter(str(r.get(key)) for r in results) for key in COUNTED if key != "topic"}
    counts["topic"] = Counter(UNASSIGNED if r.get("topic") is None else str(r["topic"]) for r in results)
    return counts


class SeenIds:
    """The ids of the scored messages of one input so far, to find the lines that repeat one.

    Only the ids are kept, so memory grows with the number of distinct ids (about 100 bytes each), never
    with the messages.
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def repeats(self, ids: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
        """The (line, id) pairs of `ids` whose id an earlier pair had; each id is remembered once."""
        for line, message_id in ids:
            if message_id in self._seen:
                yield line, message_id
            else:
                self._seen.add(message_id)


@dataclass
class ScoreSummary:
    """Counts of a scoring run.

    Blank lines hold no message: they are counted in `blank` and go neither to the output nor to the
    rejects, so `lines == scored + rejected` always holds, where `lines` counts the non-blank lines.
    """

    lines: int = 0
    scored: int = 0
    rejected: int = 0
    blank: int = 0
    seconds: float = 0.0
    # Lines done before this run started, when it resumed an unfinished run.
    resumed_at: int = 0
    counts: dict[str, Counter[str]] = field(default_factory=lambda: {k: Counter() for k in COUNTED})
    # What the library skipped while loading (file:line and why), for the user to see.
    warnings: list[str] = field(default_factory=list)
    # Lines whose id an earlier line had (scored all the same; a join on id would mix them up), and the
    # first few of them as (line, id). A resumed run counts them again from the input.
    repeated_ids: int = 0
    repeated_id_lines: list[tuple[int, str]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Messages (scored or rejected) per second in this run."""
        done = self.lines - self.resumed_at
        return done / self.seconds if self.seconds > 0 else 0.0

    def add(self, *, lines: int, scored: int, rejected: int, counts: dict[str, Counter[str]]) -> None:
        self.lines += lines
        self.scored += scored
        self.rejected += rejected
        for key, counter in counts.items():
            self.counts.setdefault(key, Counter()).update(counter)

    def note_repeats(self, repeats: Iterable[tuple[int, str]]) -> None:
        """Count lines that repeat an earlier line's id, keeping the first `SHOWN_REPEATS` with their lines."""
        for line, message_id in repeats:
            self.repeated_ids += 1
            if len(self.repeated_id_lines) < SHOWN_REPEATS:
                self.repeated_id_lines.append((line, message_id))

    def repeated_ids_text(self) -> str:
        """The repeated ids in words: how many lines, and the first few ids with their lines."""
        shown = ", ".join(f"{message_id!r} at line {line:,}" for line, message_id in self.repeated_id_lines)
        more = self.repeated_ids - len(self.repeated_id_lines)
        plural = "s repeat" if self.repeated_ids != 1 else " repeats"
        return f"{self.repeated_ids:,} line{plural} the id of an earlier line: {shown}" + (
            f" and {more:,} more" if more else ""
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "scored": self.scored,
            "rejected": self.rejected,
            "blank": self.blank,
            "resumed_at": self.resumed_at,
            "seconds": round(self.seconds, 3),
            "messages_per_second": round(self.rate, 1),
            **{k: dict(v) for k, v in self.counts.items()},
            **({"warnings": self.warnings} if self.warnings else {}),
            **(
                {
                    "repeated_ids": self.repeated_ids,
                    "repeated_id_lines": [{"line": line, "id": i} for line, i in self.repeated_id_lines],
                }
                if self.repeated_ids
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreSummary:
        summary = cls(lines=data["lines"], scored=data["scored"], rejected=data["rejected"], blank=data.get("blank", 0))
        summary.counts = {k: Counter(data.get(k, {})) for k in COUNTED}
        # The state of a run started before null topics were counted as "unassigned" says "None".
        if "None" in summary.counts["topic"]:
            summary.counts["topic"][UNASSIGNED] += summary.counts["topic"].pop("None")
        if KEPT_FIELDS in data:
            summary.counts[KEPT_FIELDS] = Counter(data[KEPT_FIELDS])
        return summary

    def absent_fields(self, fields: tuple[str, ...]) -> list[str]:
        """The kept fields (`--fields`) that no scored message had: most likely a misspelt name."""
        seen = self.counts.get(KEPT_FIELDS, Counter())
        return [name for name in fields if not seen[name]] if self.scored else []

    def render(self) -> str:
        """A few readable lines for the end of a run."""
        rows = [
            f"scored {self.scored:,} of {self.lines:,} lines, rejected {self.rejected:,}"
            + (f", {self.blank:,} blank lines skipped" if self.blank else "")
            + (f" (resumed at line {self.resumed_at:,})" if self.resumed_at else ""),
            f"{self.rate:,.{0 if self.rate >= 10 else 1}f} messages/s over {self.seconds:.1f} s",
        ]
        for key in COUNTED:
            counter = self.counts.get(key, Counter())
            if key == "topic" and set(counter) == {UNASSIGNED}:
                # Most often a model without saved topics, which assigns none: say how to get them.
                rows.append(f"{key:15s} none assigned (topics come from `webcare topics ARCHIVE --save`)")
            elif counter:
                rows.append(f"{key:15s} " + ", ".join(f"{value} {n:,}" for value, n in counter.most_common()))
        if self.repeated_ids:
            rows.append(f"{'repeated ids':15s} {self.repeated_ids_text()}")
        return "\n".join(rows)
