"""A self-contained HTML report of a topic run: sizes, trends, spikes, gaps and examples; charts inlined."""

from __future__ import annotations

import base64
import io
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from webcare_nlp.topics.discover import TopicRun
from webcare_nlp.topics.trends import stamp

N_CHART_TOPICS = 8
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{margin-bottom:.2rem} h2{margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;font-size:.92rem} th,td{text-align:left;padding:.3rem .5rem;
border-bottom:1px solid #eee;vertical-align:top} th{background:#f5f5f5}
.cards{display:flex;gap:1rem;flex-wrap:wrap} .card{background:#f5f7fa;border-radius:8px;padding:.6rem 1rem}
.card b{display:block;font-size:1.4rem} .warn{background:#fff4e5;border-left:4px solid #f0a000;padding:.5rem}
.high{color:#b00020;font-weight:bold} .medium{color:#c66a00} .low{color:#666} img{max-width:100%}
ul.ex{margin:0;padding-left:1.1rem;color:#444} .muted{color:#777} td{overflow-wrap:anywhere}
"""


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _drawable(starts: list[datetime]) -> bool:
    """Whether matplotlib can draw these times: its dates, with the axis's margins, stay within years 1-9999."""
    return bool(starts) and starts[0].year > 1 and starts[-1].year < 9999


def _charts(run: TopicRun) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts: dict[str, str] = {}
    topics = sorted(run.model.active_topics(), key=lambda t: -t.size)[:20]
    if topics:
        figure, axes = plt.subplots(figsize=(10, 0.32 * len(topics) + 1))
        axes.barh([f"{t.id} {t.label}"[:45] for t in topics][::-1], [t.size for t in topics][::-1], color="#3b7dd8")
        axes.set_xlabel("messages")
        axes.set_title("Largest topics")
        charts["sizes"] = _png(figure)
        plt.close(figure)
    if run.trends is not None and run.trends.volumes and _drawable(run.trends.starts):
        trends = run.trends
        # The biggest topics, and every topic with a spike, which the spikes table lists below the chart.
        spiking = list(dict.fromkeys(spike["topic"] for spike in trends.spikes))
        top = sorted(trends.volumes, key=lambda t: -sum(trends.volumes[t]))[:N_CHART_TOPICS]
        top += [topic for topic in spiking if topic not in top and topic in trends.volumes][:N_CHART_TOPICS]
        labels = run.model.labels()
        figure, axes = plt.subplots(figsize=(10, 4))
        for topic in top:
            axes.plot(np.array(trends.starts), trends.volumes[topic], label=f"{topic} {labels.get(topic, '')}"[:40])
        for spike in trends.spikes:
            if spike["topic"] in top:
                index = [stamp(s, trends.bucket) for s in trends.starts].index(spike["start"])
                axes.scatter(np.array([trends.starts[index]]), [spike["count"]], color="#b00020", zorder=3)
        axes.set_ylabel(f"messages per {trends.bucket} (UTC)")
        axes.set_title("Volume over time (red dots: spikes)")
        axes.legend(fontsize=8, loc="upper left")
        figure.autofmt_xdate()
        charts["trends"] = _png(figure)
        plt.close(figure)
    return charts


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(run: TopicRun, *, title: str = "FAQ topics") -> str:
    """The report as one HTML string; it loads nothing from the network."""
    summary = run.summary()
    charts = _charts(run)
    labels = run.model.labels()
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"]
    parts.append(f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>")

    def share(value: float | None) -> str:
        return "–" if value is None else f"{value:.0%}"

    cards = [
        ("messages", str(summary["messages"])),
        ("clustered", str(summary["clustered"])),
        ("topics", str(summary["topics"])),
        ("unassigned", share(summary["unassigned_share"])),
        ("largest topic", share(summary["largest_topic_share"])),
    ]
    parts.append("<div class='cards'>" + "".join(f"<div class='card'><b>{v}</b>{k}</div>" for k, v in cards) + "</div>")
    parts.append(
        "<p class='muted'>Clustered: the questions, requests and complaints. Unassigned: clustered "
        "messages that fit no topic. Largest topic: its share of the clustered messages.</p>"
    )
    for warning in run.warnings:
        parts.append(f"<p class='warn'>{escape(warning)}</p>")
    if "sizes" in charts:
        parts.append(f"<h2>Topics</h2><img alt='topic sizes' src='data:image/png;base64,{charts['sizes']}'>")
    if "trends" in charts:
        parts.append(f"<h2>Trends</h2><img alt='volume over time' src='data:image/png;base64,{charts['trends']}'>")
    elif run.trends is not None and run.trends.volumes:
        note = "No chart: the times lie at the calendar's end (year 1 or 9999)."
        parts.append(f"<h2>Trends</h2><p class='muted'>{note}</p>")
    if run.trends is not None:
        spikes = run.trends.spikes
        parts.append(
            f"<h2>Spikes</h2><p class='muted'>{len(spikes)} found; a spike is a {run.trends.bucket} "
            "whose volume is far above the topic's previous ones. Days and hours are in UTC.</p>"
        )
        if spikes:
            rows = [
                [
                    escape(s["start"]),
                    escape(f"{s['topic']} {labels.get(s['topic'], '')}"),
                    str(s["count"]),
                    str(s["baseline"]),
                    f"<span class='{s['severity']}'>{s['severity']}</span> (z {s['z']})",
                ]
                for s in spikes[:30]
            ]
            parts.append(_table(["when", "topic", "count", "baseline", "severity"], rows))
        new = run.trends.new_topics
        if new:
            rows = [
                [escape(f"{n['topic']} {labels.get(n['topic'], '')}"), escape(n["first_seen"]), str(n["count"])]
                for n in new
            ]
            parts.append("<h2>New topics</h2>" + _table(["topic", "first seen", "messages"], rows))
    if run.coverage:
        gaps = [g for g in run.coverage if not g["covered"]]
        parts.append(
            f"<h2>Coverage gaps</h2><p class='muted'>{len(gaps)} of {len(run.coverage)} topics have no "
            "template or article that matches: the FAQ entries or blog posts to write, biggest first.</p>"
        )
        rows = [
            [
                escape(f"{g['topic']} {g['label']}"),
                str(g["size"]),
                escape(str(g["best_title"] or g["best_match"] or "–")),
                f"{g['score']:.2f}",
            ]
            for g in gaps[:40]
        ]
        if rows:
            parts.append(_table(["topic", "messages", "closest document", "similarity"], rows))
    rows = []
    for topic in sorted(run.topics, key=lambda t: (t.stale, -t.size)):
        examples = "<ul class='ex'>" + "".join(f"<li>{escape(x)}</li>" for x in topic.representatives) + "</ul>"
        status = "stale" if topic.stale else ("new" if topic.new else "")
        rows.append(
            [
                escape(topic.id),
                escape(topic.label),
                str(topic.size),
                escape(", ".join(topic.key_terms[:6])),
                examples,
                escape(topic.company or ""),
                status,
            ]
        )
    if rows:
        parts.append(
            "<h2>All topics</h2>" + _table(["id", "label", "size", "key terms", "examples", "company", ""], rows)
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(run: TopicRun, path: Path, *, title: str = "FAQ topics") -> Path:
    Path(path).write_text(render_html(run, title=title), encoding="utf-8")
    return Path(path)
