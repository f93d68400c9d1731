"""The training corpus, template library, knowledge base and history obey the spec and the datasheet."""

import re
import subprocess
import sys
from collections import Counter, defaultdict

import pytest

from webcare_nlp import schema
from webcare_nlp.dataset import (
    CORPUS_FIELDS,
    PROJECT_ROOT,
    TRAINING_DATA,
    load_labelled,
    near_duplicate_pairs,
    near_duplicate_rate,
    validate_labelled,
)
from webcare_nlp.records import read_jsonl_records

PLACEHOLDERS = {
    "naam",
    "initialen",
    "collega",
    "ordernummer",
    "boekingscode",
    "klantnummer",
    "polisnummer",
    "trackingcode",
}


@pytest.fixture(scope="module")
def corpus():
    return load_labelled(TRAINING_DATA)


def library(folder):
    return [r for path in sorted((TRAINING_DATA / folder).glob("*.jsonl")) for r in read_jsonl_records(path)]


def test_schema_labels_reply_rule_and_unique_ids(corpus):
    assert validate_labelled(corpus) == []
    for record in corpus:
        missing = [k for k in CORPUS_FIELDS if k not in record]
        assert not missing, f"{record['_source']} misses {missing}"
        assert record["channel"] in schema.CHANNELS and record["lang"] in {"nl", "en"}


def test_size_sectors_languages_and_floors(corpus):
    n = len(corpus)
    assert n >= 4000
    assert len({r["sector"] for r in corpus}) >= 12
    assert sum(r["lang"] == "en" for r in corpus) / n >= 0.10
    for field, labels in (("intent", schema.INTENTS), ("sentiment", schema.SENTIMENTS)):
        counts = Counter(r[field] for r in corpus)
        for label in labels:
            assert counts[label] / n >= 0.08, f"{field}={label} is {counts[label] / n:.1%}"


def test_near_duplicates_stay_below_three_percent(corpus):
    assert near_duplicate_rate([r["text"] for r in corpus]) < 0.03


def test_faq_topics_have_5_to_15_messages_and_companies_several(corpus):
    topics = Counter(r["faq_topic"] for r in corpus if r.get("faq_topic"))
    # The FAQ archives (faq_archive_*.jsonl) are a quarter's recurring questions of one company, where a
    # few topics are big on purpose; everywhere else a topic holds 5-15 messages.
    archived = {r["faq_topic"] for r in corpus if r.get("faq_topic") and r["_source"].startswith("faq_archive_")}
    assert archived, "the corpus has FAQ archives"
    wrong = {t: s for t, s in topics.items() if not 5 <= s <= (80 if t in archived else 15)}
    assert not wrong, wrong
    per_company = defaultdict(set)
    for record in corpus:
        if record.get("faq_topic"):
            per_company[record["company"]].add(record["faq_topic"])
            assert record["faq_topic"].startswith(record["company"] + "_")
    assert len(per_company) >= 24 and all(len(t) >= 2 for t in per_company.values())


def test_templates():
    templates = library("templates")
    assert len(templates) >= 80
    assert len({t["id"] for t in templates}) == len(templates)
    for template in templates:
        assert template["text"].strip() and template["title"].strip()
        assert set(template["intents"]) <= set(schema.INTENTS) and template["tags"]
        used = set(re.findall(r"\{(\w+)\}", template["text"]))
        assert used <= PLACEHOLDERS, (template["id"], used - PLACEHOLDERS)
        assert "{" not in re.sub(r"\{\w+\}", "", template["text"]), template["id"]
    assert sum(t.get("lang") == "en" for t in templates) >= 5


def test_articles():
    articles = library("articles")
    assert len(articles) >= 40
    assert len({a["url"] for a in articles}) == len(articles)
    for article in articles:
        assert article["url"].startswith("https://") and article["title"] and article["summary"] and article["tags"]


def test_history_refers_to_existing_templates_and_articles(corpus):
    history = library("history")
    assert len(history) >= 1000
    templates = {t["id"] for t in library("templates")}
    articles = {a["url"]: a.get("company") for a in library("articles")}
    for line in history:
        assert line["text"].strip() and line["used"]
        for used in line["used"]:
            assert used in templates or used in articles, used
            if used in articles:
                assert articles[used] == line["company"], (line["id"], used)
    corpus_texts = {r["text"] for r in corpus}
    assert sum(h["text"] in corpus_texts for h in history) / len(history) < 0.03


def test_datasheet_counts_match_a_recount():
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "datasheet_counts.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_message_is_a_near_duplicate_of_the_evaluation_sets(corpus):
    shared = PROJECT_ROOT.parent / "shared" / "data"
    files = [shared / "devset" / "messages.jsonl", *sorted((shared / "real").glob("*messages*.jsonl"))]
    files = [f for f in files if f.exists()]
    if not files:
        pytest.skip("../shared/data/ is not here")
    evaluation = [r["text"] for f in files for r in read_jsonl_records(f)]
    ours = [r["text"] for r in corpus]
    pairs = near_duplicate_pairs(ours + evaluation, threshold=0.6)
    crossing = [(i, j) for i, j, _ in pairs if i < len(ours) <= j and len(ours[i]) > 20]
    assert crossing == []


def test_second_annotator_labels_corpus_messages_and_agreement_is_printed(corpus):
    second = read_jsonl_records(TRAINING_DATA / "agreement" / "second_annotator.jsonl")
    ids = {r["id"] for r in corpus}
    assert len(second) == 200 and all(row["id"] in ids for row in second)
    for row in second:
        assert row["intent"] in schema.INTENTS and row["sentiment"] in schema.SENTIMENTS
        assert isinstance(row["reactive"], bool)
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "agreement.py")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["intent", "sentiment", "reactive"]
    assert all("n 200" in line and "kappa" in line for line in lines)
