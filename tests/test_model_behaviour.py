"""Minimum-functionality checks of the shipped model: plain verdicts that no webcare agent would misread.

Written for these tests, not taken from any training or evaluation set. They guard against the model
leaning on corpus habits (length, punctuation) instead of what a short message says.
"""

from __future__ import annotations

import pytest

PLAIN = {
    "negative": [
        "Slechte service",
        "Heel slecht",
        "Vreselijk",
        "Waardeloze klantenservice",
        "Wat een slechte service.",
        "Super slecht geholpen!",
        "Ik ben niet blij",
        "Niet tevreden over de levering",
        "Nooit meer bij jullie",
        "Echt waardeloos dit",
        "De app werkt niet",
        "Terrible service",
        "Worst experience ever",
    ],
    "positive": [
        "Top service, dank jullie!",
        "Prima geholpen, dank!",
        "Heel goed geholpen",
        "Fantastische service!",
        "Great service, thanks!",
        "Dank je wel, super snel opgelost",
    ],
    "neutral": [
        "Hoe laat gaan jullie open?",
        "Wat kost een abonnement per maand?",
        "Where can I find my invoice?",
    ],
}


@pytest.fixture(scope="module")
def predicted(engine) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    texts = [(label, text) for label, items in PLAIN.items() for text in items]
    results = engine.analyze_many([{"id": str(i), "text": text} for i, (_, text) in enumerate(texts)])
    out: dict[str, list[str]] = {label: [] for label in PLAIN}
    for (label, _), result in zip(texts, results, strict=True):
        out[label].append(result["sentiment"])
    return out


def test_no_plain_verdict_reads_as_its_opposite(predicted):  # type: ignore[no-untyped-def]
    flipped = {
        "negative": [t for t, p in zip(PLAIN["negative"], predicted["negative"], strict=True) if p == "positive"],
        "positive": [t for t, p in zip(PLAIN["positive"], predicted["positive"], strict=True) if p == "negative"],
    }
    assert flipped == {"negative": [], "positive": []}


def test_plain_verdicts_mostly_right(predicted):  # type: ignore[no-untyped-def]
    right = sum(p == label for label, labels in predicted.items() for p in labels)
    total = sum(len(items) for items in PLAIN.values())
    assert right / total >= 0.85, predicted
