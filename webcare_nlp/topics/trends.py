"""Topics over time: volume per topic per day or hour, spikes above a topic's own baseline, new topics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import numpy as np

BUCKETS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
# More than a year without a message splits an archive: a date beyond such a silence is a mistype (2999,
# 0001) or another archive, and buckets stretched over it would number in the hundreds of thousands. A leap
# year's 366 days between two messages on the same date is no silence.
SILENCE = timedelta(days=366)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 `created_at` (or Unix time in seconds or milliseconds) as a naive UTC datetime, or None
    when it is missing or unreadable. A time without an offset is taken as UTC.

    Example:
        >>> parse_time("2026-01-06T23:41:00+01:00")
        datetime.datetime(2026, 1, 6, 22, 41)
        >>> parse_time("gisteren") is None
        True
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _epoch(value)
    if not isinstance(value, str) or not value.strip():
        return None
    if value.strip().isdigit():  # an export's Unix time, as text
        return _epoch(int(value.strip()))
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    except (ValueError, OverflowError):  # OverflowError: "0001-01-01T00:00+01:00" is before year 1 in UTC
        return None


def _epoch(value: float) -> datetime | None:
    """Unix time in seconds, or in milliseconds (as JavaScript and many exports write it), as UTC."""
    if value != value or value < 0:  # NaN or before 1970
        return None
    seconds = value / 1000 if value >= 1e11 else value  # 1e11 seconds is the year 5138
    try:
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None


def outside_bulk(created: list[datetime | None]) -> list[bool]:
    """For each time, whether the trends should leave it out: it lies outside the archive's bulk.

    The bulk is the largest stretch of dates in which no year passes without a message (of equally large
    stretches, the latest). A time of None is never outside; it is left out anyway.

    Example:
        >>> times = [datetime(2026, 3, day) for day in (1, 2, 3)] + [datetime(2999, 1, 1), datetime(1, 1, 1), None]
        >>> outside_bulk(times)
        [False, False, False, True, True, False]
    """
    dated = sorted(c for c in created if c is not None)
    if not dated:
        return [False] * len(created)
    cuts = [i for i, (a, b) in enumerate(pairwise(dated), start=1) if b - a > SILENCE]
    stretches = list(zip([0, *cuts], [*cuts, len(dated)], strict=True))
    start, end = max(reversed(stretches), key=lambda s: s[1] - s[0])
    first, last = dated[start], dated[end - 1]
    return [c is not None and not first <= c <= last for c in created]


def _floor(moment: datetime, bucket: str) -> datetime:
    return (
        moment.replace(minute=0, second=0, microsecond=0)
        if bucket == "hour"
        else moment.replace(hour=0, minute=0, second=0, microsecond=0)
    )


def stamp(moment: datetime, bucket: str) -> str:
    """A bucket's start as text: "2026-03-23" for days, "2026-03-23 14:00" for hours (UTC)."""
    return moment.strftime("%Y-%m-%d %H:00" if bucket == "hour" else "%Y-%m-%d")


@dataclass
class Trends:
    """Volume per topic per bucket, the spikes found in it, and the topics new in the last window."""

    bucket: str
    starts: list[datetime]
    volumes: dict[str, list[int]]
    spikes: list[dict[str, Any]] = field(default_factory=list)
    new_topics: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "timezone": "UTC",  # the buckets' days and hours; a time without an offset is read as UTC
            "starts": [stamp(s, self.bucket) for s in self.starts],
            "volumes": self.volumes,
            "spikes": self.spikes,
            "new_topics": self.new_topics,
        }


def severity(z: float) -> str:
    return "high" if z >= 6 else "medium" if z >= 4 else "low"


def find_spikes(
    counts: list[int], *, baseline: int = 7, min_history: int = 3, z_threshold: float = 3.0, min_count: int = 3
) -> list[tuple[int, float, float]]:
    """(bucket index, baseline mean, z) of every bucket whose count jumps above the previous buckets.

    The spread is at least the Poisson spread sqrt(mean), so a quiet topic going from 0 to 1 is no spike.

    Example:
        >>> [(i, round(z, 1)) for i, _, z in find_spikes([1, 0, 2, 1, 1, 0, 1, 9, 1])]
        [(7, 8.8)]
    """
    spikes = []
    for i in range(min_history, len(counts)):
        history = np.asarray(counts[max(0, i - baseline) : i], dtype=float)
        mean = float(history.mean())
        spread = max(float(history.std()), float(np.sqrt(mean)), 0.5)
        z = (counts[i] - mean) / spread
        if counts[i] >= min_count and z >= z_threshold:
            spikes.append((i, mean, z))
    return spikes


def topic_trends(
    topics: list[str | None],
    created: list[datetime | None],
    *,
    bucket: str = "auto",
    baseline: int = 7,
    new_window: int | None = None,
) -> Trends | None:
    """Volume, spikes and new topics; None when no message has a usable time.

    Args:
        topics: each message's topic id (None: no topic).
        created: each message's time (None: unknown, left out); drop the times `outside_bulk` names first.
        bucket: "day", "hour", or "auto" (hours when the archive spans at most three days).
        baseline: number of preceding buckets a spike is measured against.
        new_window: buckets at the end in which a topic's first message makes it new (default: the baseline).
    """
    dated = [(t, c) for t, c in zip(topics, created, strict=True) if t is not None and c is not None]
    if not dated:
        return None
    first, last = min(c for _, c in dated), max(c for _, c in dated)
    if bucket == "auto":
        bucket = "hour" if last - first <= timedelta(days=3) else "day"
    step = BUCKETS[bucket]
    start = _floor(first, bucket)
    n_buckets = int((_floor(last, bucket) - start) / step) + 1
    starts = [start + i * step for i in range(n_buckets)]
    counts: dict[str, Counter[int]] = {}
    for topic, moment in dated:
        counts.setdefault(topic, Counter())[int((_floor(moment, bucket) - start) / step)] += 1
    volumes = {topic: [c[i] for i in range(n_buckets)] for topic, c in sorted(counts.items())}
    spikes: list[dict[str, Any]] = []
    for topic, series in volumes.items():
        for i, mean, z in find_spikes(series, baseline=baseline):
            spikes.append(
                {
                    "topic": topic,
                    "start": stamp(starts[i], bucket),
                    "count": series[i],
                    "baseline": round(mean, 2),
                    "z": round(z, 1),
                    "severity": severity(z),
                }
            )
    spikes.sort(key=lambda s: (str(s["start"]), float(s["z"])), reverse=True)
    window = new_window or baseline
    new_topics = []
    if n_buckets > window:
        for topic, series in volumes.items():
            first_bucket = next(i for i, count in enumerate(series) if count)
            if first_bucket >= n_buckets - window:
                new_topics.append(
                    {"topic": topic, "first_seen": stamp(starts[first_bucket], bucket), "count": sum(series)}
                )
    return Trends(bucket=bucket, starts=starts, volumes=volumes, spikes=spikes, new_topics=new_topics)
