"""FAQ topics: clustering, labels, ids over refits, outliers, trends, coverage and bad input."""

from __future__ import annotations

import pytest

from webcare_nlp.errors import InputError
from webcare_nlp.text.pipeline import TextPipeline
from webcare_nlp.topics.ctfidf import class_tfidf, short_label
from webcare_nlp.topics.discover import discover_topics
from webcare_nlp.topics.model import TopicModel
from webcare_nlp.topics.trends import find_spikes, outside_bulk, parse_time, topic_trends

BAGGAGE = [
    "Mijn koffer is niet aangekomen op Schiphol",
    "Koffer kwijt na mijn vlucht uit Rome, wat nu?",
    "@SkyHop waar is mijn koffer? Al 3 dagen kwijt",
    "Bagage niet aangekomen, koffer nog steeds zoek",
]
APP = [
    "De app doet het niet, kan niet inloggen",
    "Inloggen in de app lukt al de hele dag niet",
    "App storing? Ik kan niet inloggen",
    "Waarom kan ik niet inloggen in jullie app",
]
REFUND = [
    "Wanneer krijg ik mijn geld terug van de geannuleerde vlucht?",
    "Nog steeds geen terugbetaling voor mijn geannuleerde vlucht",
    "Geld terug van geannuleerde vlucht duurt lang",
]


@pytest.fixture(scope="module")
def pipeline() -> TextPipeline:
    return TextPipeline()


def messages(texts: list[str], **fields: object) -> list[dict[str, object]]:
    return [{"id": f"m{i}", "text": text, "lang": "nl", **fields} for i, text in enumerate(texts)]


def test_finds_the_topics_without_being_told_how_many(pipeline):
    run = discover_topics(messages(BAGGAGE + APP), text_pipeline=pipeline, keep_intents=None)
    topics = run.topics_of_messages
    assert len(run.model.active_topics()) == 2
    assert len(set(topics[:4])) == 1 and len(set(topics[4:])) == 1 and topics[0] != topics[4]


def test_same_input_same_topics_and_ids(pipeline):
    first = discover_topics(messages(BAGGAGE + APP + REFUND), text_pipeline=pipeline, keep_intents=None)
    second = discover_topics(messages(BAGGAGE + APP + REFUND), text_pipeline=pipeline, keep_intents=None)
    assert first.assignments() == second.assignments()
    assert [t.as_dict() for t in first.topics] == [t.as_dict() for t in second.topics]


def test_labels_never_use_stop_words_handles_or_placeholders(pipeline):
    texts = [f"@SkyHop hoi, mijn koffer is kwijt, boeking K7PQ2{c} 06-1234567{i}" for i, c in enumerate("ABCD")]
    run = discover_topics(messages(texts), text_pipeline=pipeline, keep_intents=None)
    (topic,) = run.model.active_topics()
    words = " ".join([topic.label, *topic.key_terms]).split()
    assert "koffer" in words
    assert not {"hoi", "mijn", "is", "<handle>", "{boekingscode}", "{telefoon}", "<num>"} & set(words)
    assert len(topic.representatives) <= 3 and all("06-" not in r for r in topic.representatives)


def test_class_tfidf_and_short_label():
    docs = [["koffer", "kwijt"], ["koffer", "kwijt", "schiphol"], ["app", "storing"], ["app", "inloggen"]]
    terms = class_tfidf(docs, [0, 0, 1, 1])
    assert terms[0][0][0] in {"koffer", "kwijt", "koffer kwijt"}
    assert short_label([t for t, _ in terms[0]]) == "koffer kwijt"
    assert short_label([]) == ""


def test_outliers_stay_unassigned_and_are_reported(pipeline):
    odd = ["Mag mijn hond mee in de trein naar Parijs?"]
    run = discover_topics(messages(BAGGAGE + APP + odd), text_pipeline=pipeline, keep_intents=None)
    summary = run.summary()
    assert run.topics_of_messages[-1] is None
    assert summary["unassigned"] >= 1 and 0 < summary["unassigned_share"] < 0.5
    assert summary["largest_topic_size"] == 4 and summary["largest_topic_share"] == pytest.approx(4 / 9, abs=1e-3)


def test_refit_keeps_ids_adds_new_and_marks_stale(pipeline):
    first = TopicModel().fit(pipeline.process_many(BAGGAGE + APP, langs=["nl"] * 8))
    old = dict(zip(["bagage", "app"], [first.labels_[0], first.labels_[4]], strict=True))
    second = TopicModel().fit(pipeline.process_many(BAGGAGE + REFUND, langs=["nl"] * 7), previous=first)
    assert second.labels_[0] == old["bagage"]
    refund = second.labels_[-1]
    assert refund not in old.values()
    by_id = {t.id: t for t in second.topics_}
    assert by_id[old["app"]].stale and by_id[old["app"]].size == 0
    assert by_id[refund].new and not by_id[old["bagage"]].new


def test_a_topic_that_grew_with_new_wording_keeps_its_id(pipeline):
    first = TopicModel().fit(pipeline.process_many(BAGGAGE + APP, langs=["nl"] * 8))
    grown = [
        "Bagage zoek geraakt bij overstap, koffer nergens",
        "Koffer vermist sinds de landing, bagageband leeg",
        "Mijn bagage is nooit op de band verschenen",
        "Kwijtgeraakte koffer, wie helpt mij met de bagage",
    ]
    assert first.predict(pipeline.process_many(grown, langs=["nl"] * 4)) == [None] * 4  # too far for the old model
    second = TopicModel().fit(pipeline.process_many(BAGGAGE + grown + APP, langs=["nl"] * 12), previous=first)
    assert second.labels_[:8] == [first.labels_[0]] * 8 and second.labels_[8] == first.labels_[4]
    assert not any(t.stale for t in second.topics_)


def test_predict_assigns_new_messages_and_respects_company(pipeline):
    model = TopicModel().fit(
        pipeline.process_many(BAGGAGE + APP, langs=["nl"] * 8), companies=["skyhop"] * 4 + ["bank"] * 4
    )
    new = pipeline.process_many(["Mijn koffer is kwijt, niet aangekomen", "Lekker weer vandaag"], langs=["nl", "nl"])
    assert model.predict(new, companies=["skyhop", "skyhop"]) == [model.labels_[0], None]
    assert model.predict(new[:1], companies=["bank"]) == [None]


def test_spikes_and_new_topics():
    assert find_spikes([1, 1, 1, 1, 1, 1, 1, 1]) == []
    created = [parse_time(f"2026-03-{day:02d}T10:00:00+01:00") for day in range(1, 21)]
    topics = ["t01"] * 20
    # t01 jumps on the last day; t02 only exists in the last days.
    created += [parse_time("2026-03-20T12:00:00+01:00")] * 8 + [parse_time("2026-03-19T09:00:00Z")] * 3
    topics += ["t01"] * 8 + ["t02"] * 3
    trends = topic_trends(topics, created, bucket="auto")
    assert trends is not None and trends.bucket == "day"
    assert trends.spikes[0]["topic"] == "t01" and trends.spikes[0]["start"] == "2026-03-20"
    assert trends.spikes[0]["severity"] in {"medium", "high"}
    assert [n["topic"] for n in trends.new_topics] == ["t02"]


def test_coverage_gaps_sorted_by_volume(pipeline):
    documents = [
        {"id": "bagage-01", "title": "Koffer kwijt", "text": "Wat vervelend dat je koffer niet is aangekomen!"},
        {"url": "https://x.nl/help/weer", "title": "Het weer", "summary": "Zon en regen"},
    ]
    run = discover_topics(
        messages(BAGGAGE + APP + REFUND), text_pipeline=pipeline, keep_intents=None, documents=documents
    )
    by_label = {row["topic"]: row for row in run.coverage}
    assert by_label[run.topics_of_messages[0]]["covered"]
    gaps = [row for row in run.coverage if not row["covered"]]
    assert run.topics_of_messages[4] in {row["topic"] for row in gaps}
    assert [row["size"] for row in gaps] == sorted((row["size"] for row in gaps), reverse=True)


def test_a_topic_with_no_document_of_its_company_has_no_closest_document(pipeline):
    other = {"id": "other-koffer", "company": "Railway", "title": "Koffer kwijt", "text": "Je koffer is zoek?"}
    own = {"id": "own-geld", "company": "SkyHop ", "title": "Geld terug", "text": "Geld terug van je vlucht"}
    archive = messages(BAGGAGE + REFUND, company="skyhop")
    run = discover_topics(archive, text_pipeline=pipeline, keep_intents=None, documents=[other])
    (baggage,) = [row for row in run.coverage if row["topic"] == run.topics_of_messages[0]]
    # Another company's template neither covers the topic nor is named as its closest document.
    assert not baggage["covered"] and baggage["best_match"] is None and baggage["score"] == 0
    run = discover_topics(archive, text_pipeline=pipeline, keep_intents=None, documents=[other, own])
    (refund,) = [row for row in run.coverage if row["topic"] == run.topics_of_messages[-1]]
    assert refund["best_match"] == "own-geld" and refund["covered"]  # its company, compared without case


def test_a_brands_own_name_does_not_hold_a_topic_together(pipeline):
    # Unrelated messages that each name the brand, among two real FAQ topics of that brand.
    named = [
        "Buurvers de zelfscan is stuk",
        "Buurvers heeft geen glutenvrije pasta meer",
        "Bij Buurvers zijn de koelvakken leeg",
    ]
    run = discover_topics(
        messages(BAGGAGE + APP + named, company="buurvers"), text_pipeline=pipeline, keep_intents=None
    )
    topics = run.topics_of_messages
    assert {topic for topic in topics[-3:] if topic} - set(topics[:8]) == set()  # no topic of their own
    assert all(topic.label for topic in run.model.topics_)  # never an empty label


def test_content_terms_leave_out_flemish_function_words_and_stray_marks(pipeline):
    from webcare_nlp.topics.vectorize import content_terms

    terms = content_terms(pipeline.process("da ge gene factuur krijg, 'n rekening \\n", lang="nl"))
    assert "factuur" in terms and not {"da", "ge", "gene", "krijg", "'n", "\\n"} & set(terms)


def test_stale_topics_keep_no_messages_of_the_archive_they_came_from(pipeline):
    first = TopicModel().fit(pipeline.process_many(BAGGAGE + APP, langs=["nl"] * 8))
    second = TopicModel().fit(pipeline.process_many(BAGGAGE + REFUND, langs=["nl"] * 7), previous=first)
    stale = [t for t in second.topics_ if t.stale]
    assert stale and all(t.representatives == [] and t.label for t in stale)


# -- bad input -------------------------------------------------------------------------------------
def test_no_messages_is_a_clear_error(pipeline):
    with pytest.raises(InputError, match="no messages"):
        discover_topics([], text_pipeline=pipeline)


def test_no_questions_gives_no_topics_and_says_why(pipeline):
    compliments = messages(["Top geholpen, dank!", "Wat een fijne crew ❤️", "Super snel geholpen"])
    run = discover_topics(compliments, text_pipeline=pipeline, intents=["compliment"] * 3)
    assert run.model.active_topics() == [] and all(t is None for t in run.topics_of_messages)
    assert "nothing to group" in run.warnings[0]


def test_single_message_gives_no_topics(pipeline):
    run = discover_topics(messages(BAGGAGE[:1]), text_pipeline=pipeline, keep_intents=None)
    assert run.topics_of_messages == [None] and "Only 1 message" in run.warnings[0]
    assert run.summary()["unassigned_share"] == 1.0


def test_identical_messages_form_one_topic(pipeline):
    run = discover_topics(messages([BAGGAGE[0]] * 6), text_pipeline=pipeline, keep_intents=None)
    assert len(run.model.active_topics()) == 1 and len(set(run.topics_of_messages)) == 1
    assert run.topics_of_messages[0] is not None and run.model.active_topics()[0].label


def test_messages_without_content_words_are_outliers(pipeline):
    run = discover_topics(messages(["??", "!!!", "@SkyHop", "ok"]), text_pipeline=pipeline, keep_intents=None)
    assert run.topics_of_messages == [None] * 4


def test_broken_created_at_is_reported_and_left_out_of_trends(pipeline):
    records = messages(BAGGAGE + APP)
    for i, record in enumerate(records):
        record["created_at"] = "gisteren" if i == 0 else f"2026-03-{i + 1:02d}T10:00:00+01:00"
    run = discover_topics(records, text_pipeline=pipeline, keep_intents=None)
    assert len(run.model.active_topics()) == 2
    assert any("neither an ISO 8601 time nor a Unix time" in w and "m0" in w for w in run.warnings)
    assert run.trends is not None and sum(sum(v) for v in run.trends.volumes.values()) == 7


def test_large_archive_path_links_micro_clusters(pipeline):
    # max_exact=6 forces the path that large archives take (micro-clusters, then linkage).
    from webcare_nlp.topics.cluster import CosineAverageLinkage

    model = TopicModel(cluster_model=CosineAverageLinkage(max_exact=6), min_size=2)
    model.fit(pipeline.process_many(BAGGAGE * 2 + APP * 2, langs=["nl"] * 16))
    assert len(set(model.labels_[:8])) == 1 and len(set(model.labels_[8:])) == 1
    assert model.labels_[0] != model.labels_[8] and None not in model.labels_


def test_large_archive_path_of_the_graph_links_micro_clusters(pipeline):
    from webcare_nlp.topics.cluster import KnnGraphCommunities

    model = TopicModel(cluster_model=KnnGraphCommunities(max_exact=12, n_neighbors=2), min_size=2)
    model.fit(pipeline.process_many(BAGGAGE * 2 + APP * 2, langs=["nl"] * 16))
    assert len(set(model.labels_[:8])) == 1 and len(set(model.labels_[8:])) == 1
    assert model.labels_[0] != model.labels_[8] and None not in model.labels_


def test_graph_communities_never_mix_separate_groups_and_are_seeded():
    import numpy as np

    from webcare_nlp.topics.cluster import KnnGraphCommunities

    rng = np.random.default_rng(0)
    for per_group in (8, 100):  # below and far above the reference size, where the resolution grows
        rows = np.repeat(np.eye(8)[:4], per_group, axis=0) + rng.normal(0, 0.05, (4 * per_group, 8))
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        labels = KnnGraphCommunities().fit_predict(rows)
        groups = np.repeat(np.arange(4), per_group)
        assert len(set(labels.tolist())) >= 4
        assert all(len(set(groups[labels == label].tolist())) == 1 for label in set(labels.tolist()))
        assert labels.tolist() == KnnGraphCommunities().fit_predict(rows).tolist()


def test_fixed_number_of_topics_uses_linkage():
    from webcare_nlp.topics.cluster import CosineAverageLinkage, KnnGraphCommunities, make_cluster_model

    assert isinstance(make_cluster_model("graph"), KnnGraphCommunities)
    assert isinstance(make_cluster_model("graph", n_topics=5), CosineAverageLinkage)


def test_copies_of_a_text_join_their_topic_instead_of_forming_their_own(pipeline):
    # Seventeen copies of each text (retweets, pasted complaints) must give the topics of the texts.
    texts = BAGGAGE + APP
    model = TopicModel().fit(pipeline.process_many(texts * 17, langs=["nl"] * len(texts) * 17))
    assert len(model.active_topics()) == 2
    assert model.labels_[: len(texts)] == model.labels_[len(texts) : 2 * len(texts)]


def test_the_resolution_grows_with_the_archive_as_its_size_exponent_says():
    import numpy as np

    from webcare_nlp.topics.cluster import KnnGraphCommunities

    rng = np.random.default_rng(0)
    rows = np.vstack([centre + 0.15 * rng.random((60, 8)) for centre in np.eye(8)[:4]])
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    counts = [len(set(KnnGraphCommunities(size_exponent=e).fit_predict(rows))) for e in (0.0, 0.6, 1.0)]
    # A constant resolution finds the four groups of 60; a growing one splits them, the more the faster.
    assert counts[0] == 4 and 4 < counts[1] < counts[2]


def test_raw_dicts_are_checked_and_a_bad_one_is_named():
    with pytest.raises(InputError, match="message 2: The message text must be a string, not int"):
        discover_topics([{"text": "waar is mijn pakket"}, {"text": 5}])
    run = discover_topics([{"text": "waar is mijn pakket"}] * 3, keep_intents=None)
    assert run.topics_of_messages[0] is not None and len(set(run.topics_of_messages)) == 1


def test_dates_far_from_the_archive_are_left_out_of_the_trends_not_the_topics(pipeline):
    records = messages(BAGGAGE + APP)
    for i, record in enumerate(records):
        record["created_at"] = f"2026-03-{i + 1:02d}T10:00:00+01:00"
    clean = discover_topics(records, text_pipeline=pipeline, keep_intents=None)
    records[0]["created_at"], records[5]["created_at"] = "2999-01-01T00:00:00+00:00", "0001-01-01T00:00:00Z"
    run = discover_topics(records, text_pipeline=pipeline, keep_intents=None)
    assert run.topics_of_messages == clean.topics_of_messages
    assert run.trends is not None and len(run.trends.starts) == 7  # 2 .. 8 March, not a thousand years of days
    assert sum(sum(v) for v in run.trends.volumes.values()) == 6
    assert any(w.startswith("2 message(s)") and "m0 (2999" in w and "m5 (0001" in w for w in run.warnings)


def test_outside_bulk_keeps_a_long_archive_and_drops_a_mistyped_year():
    months = [parse_time(f"{2024 + m // 12}-{m % 12 + 1:02d}-15T10:00:00Z") for m in range(30)]
    assert not any(outside_bulk([*months, None]))
    assert outside_bulk([*months, parse_time("2999-01-01T00:00:00Z")])[-1]
    assert parse_time("0001-01-01T00:00:00+01:00") is None  # before year 1 in UTC: unreadable, not a crash


def test_unix_times_are_read_as_created_at():
    # Seconds or milliseconds, as a number or as text, as exports write them; taken as UTC.
    assert parse_time(1767225600) == parse_time("1767225600") == parse_time("2026-01-01T00:00:00Z")
    assert parse_time(1767225600123).isoformat() == "2026-01-01T00:00:00.123000"
    assert parse_time(-5) is None and parse_time(float("nan")) is None and parse_time(True) is None


def test_fewer_topics_than_asked_for_is_said(pipeline):
    model = TopicModel(n_topics=5, min_size=2)
    run = discover_topics(messages(BAGGAGE + APP), text_pipeline=pipeline, keep_intents=None, model=model)
    found = len([t for t in run.model.active_topics() if t.size])
    assert found < 5 and any(f"{found} topics found for the 5 asked" in w for w in run.warnings)
