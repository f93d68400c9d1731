"""The topic similarity learned from labelled FAQ topics: what it learns, its size, and its use in `webcare topics`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.base import clone
from typer.testing import CliRunner

from tests.conftest import write_jsonl
from webcare_nlp.cli import app
from webcare_nlp.text.pipeline import TextPipeline
from webcare_nlp.topics.learned import GuidedTopicVectorizer, TopicSpace, fit_topic_space
from webcare_nlp.topics.vectorize import TopicVectorizer

# Five labelled topics; "schade" messages say the same thing with different words.
LABELLED = {
    "schade": ["Pakket kwam kapot aan", "Doos beschadigd, vaas gebroken", "Scherm gebarsten bij levering"],
    "inloggen": ["Inloggen in de app lukt niet", "Kan niet inloggen, wachtwoord fout", "App blijft hangen bij login"],
    "retour": ["Hoe stuur ik iets retour?", "Retourlabel printen lukt niet", "Kan ik terugsturen in België?"],
    "factuur": ["Factuur klopt niet", "Te veel betaald op mijn factuur", "Dubbele afschrijving op de rekening"],
    "levering": ["Wanneer wordt mijn pakket bezorgd?", "Bezorger is niet geweest", "Levering vertraagd"],
}


@pytest.fixture(scope="module")
def pipeline() -> TextPipeline:
    return TextPipeline()


@pytest.fixture(scope="module")
def space(pipeline) -> TopicSpace:
    texts = [t for group in LABELLED.values() for t in group]
    labels = [topic for topic, group in LABELLED.items() for _ in group]
    return TopicSpace().fit(pipeline.process_many(texts, langs=["nl"] * len(texts)), labels)


def test_the_learned_space_joins_what_the_labels_joined(space, pipeline):
    rows = space.transform(pipeline.process_many(["Mijn lamp is kapot", "Glas gebarsten", "Inloggen lukt niet"]))
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    # "kapot" and "gebarsten" share no word, but both point to the damage topic.
    assert rows[0] @ rows[1] > rows[0] @ rows[2]
    assert space.topics_[int(np.argmax(rows[1]))] == "schade"


def test_weights_are_pruned_per_topic(pipeline):
    texts = [t for group in LABELLED.values() for t in group]
    labels = [topic for topic, group in LABELLED.items() for _ in group]
    small = TopicSpace(keep_per_topic=5).fit(pipeline.process_many(texts, langs=["nl"] * len(texts)), labels)
    assert (np.diff(small.weights_.tocsc().indptr) <= 5).all()


def test_fewer_than_five_topics_learn_nothing(pipeline):
    records = [{"text": t, "faq_topic": "a" if i % 2 else "b"} for i, t in enumerate(["x y", "y z", "z x", "x x"])]
    assert fit_topic_space(pipeline.process_many([r["text"] for r in records]), records) is None


def test_guided_vectorizer_clones_and_without_a_space_is_the_lexical_one(space, pipeline):
    processed = pipeline.process_many(["Pakket kapot", "App doet het niet", "Factuur fout"])
    assert (
        GuidedTopicVectorizer().fit(processed).transform(processed) != TopicVectorizer().fit_transform(processed)
    ).nnz == 0
    guided = clone(GuidedTopicVectorizer(space, weight=0.5)).fit(processed)
    matrix = guided.transform(processed)
    assert matrix.shape[1] == len(guided.word_vectorizer_.vocabulary_) + len(guided.char_vectorizer_.vocabulary_) + 5
    assert guided.transform([]).shape == (0, matrix.shape[1])


def test_shipped_model_carries_the_space_and_the_command_can_leave_it_out(engine, tmp_path):
    assert engine.topic_space is not None and len(engine.topic_space.topics_) >= 100
    assert "topic_space.joblib" in engine.manifest["files"]
    records = [{"id": f"m{i}", "text": t, "lang": "nl"} for i, t in enumerate(t for g in LABELLED.values() for t in g)]
    archive = write_jsonl(tmp_path / "archive.jsonl", records)
    runner = CliRunner()
    for extra in ([], ["--lexical-only"]):
        out = tmp_path / f"topics{len(extra)}.jsonl"
        result = runner.invoke(app, ["topics", str(archive), "--output", str(out), "--all-intents", *extra])
        assert result.exit_code == 0, result.output
        assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [r["id"] for r in records]
