"""FAQ topic discovery, measured: the project's corpus (where the settings were chosen), the dev set,
banking77 with the TF-IDF + KMeans (told k=77) baseline in the same run, and fit time and memory at scale.

Each set is clustered on the lexical features alone and with the topic similarity the shipped model
learned from the corpus's labelled FAQ topics (`topics.learned`). On the corpus itself the learned
space is measured with each sector's topics held out of its training (leave one sector out), since
the shipped space has seen them all.

Unassigned messages count as singleton clusters for ARI/NMI (a wrong guess would be worse than none,
but merging them into one "null" cluster would reward leaving everything out).
Usage: python -m benchmarks.topics_eval [--scale 100000] [--only-scale]
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from typing import Any

from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from benchmarks._common import DEVSET, REAL, read_jsonl, require
from webcare_nlp import schema
from webcare_nlp.dataset import TRAINING_DATA, load_labelled
from webcare_nlp.text.pipeline import TextPipeline
from webcare_nlp.topics.cluster import KnnGraphCommunities
from webcare_nlp.topics.discover import discover_topics
from webcare_nlp.topics.learned import GuidedTopicVectorizer, TopicSpace
from webcare_nlp.topics.model import TopicModel


def _messages(records: list[dict[str, Any]], fields: tuple[str, ...] = ("id", "text", "lang", "company")) -> list[dict]:
    return [schema.check_message({k: r[k] for k in fields if k in r}, default_id=str(i)) for i, r in enumerate(records)]


def scores(gold: list[Any], predicted: list[str | None]) -> tuple[float, float]:
    singletons = [p if p is not None else f"_unassigned{i}" for i, p in enumerate(predicted)]
    gold_labels = [str(g) for g in gold]
    return adjusted_rand_score(gold_labels, singletons), normalized_mutual_info_score(gold_labels, singletons)


def evaluate(name: str, records: list[dict[str, Any]], pipeline: TextPipeline, **kwargs: Any) -> None:
    gold = [r.get("faq_topic") for r in records]
    start = time.perf_counter()
    run = discover_topics(_messages(records), text_pipeline=pipeline, keep_intents=None, **kwargs)
    seconds = time.perf_counter() - start
    ari, nmi = scores(gold, run.topics_of_messages)
    summary = run.summary()
    print(
        f"{name}: {len(records)} messages, {len(set(gold))} gold topics -> {summary['topics']} topics; "
        f"ARI {ari:.3f}  NMI {nmi:.3f}  unassigned {summary['unassigned_share']:.1%}  "
        f"largest topic {summary['largest_topic_share']:.1%}  {seconds:.1f} s"
    )


def leave_one_sector_out(records: list[dict[str, Any]], pipeline: TextPipeline) -> None:
    """Corpus topics per sector, the learned space trained on the other sectors' topics only."""
    processed = pipeline.process_many([r["text"] for r in records], langs=[r.get("lang") for r in records])
    start = time.perf_counter()
    gold: list[Any] = []
    predicted: dict[str, list[str | None]] = {"lexical": [], "learned": []}
    for sector in sorted({r["sector"] for r in records}):
        inside = [i for i, r in enumerate(records) if r["sector"] == sector]
        outside = [i for i, r in enumerate(records) if r["sector"] != sector]
        space = TopicSpace().fit([processed[i] for i in outside], [records[i]["faq_topic"] for i in outside])
        gold += [records[i]["faq_topic"] for i in inside]
        for name, vectorizer in (("lexical", None), ("learned", GuidedTopicVectorizer(space))):
            model = TopicModel(vectorizer=vectorizer).fit(
                [processed[i] for i in inside], companies=[records[i].get("company") for i in inside]
            )
            predicted[name] += [f"{sector}/{t}" if t else None for t in model.labels_]
    for name, labels in predicted.items():
        ari, nmi = scores(gold, labels)
        print(
            f"corpus, each sector's topics held out ({name}): ARI {ari:.3f}  NMI {nmi:.3f}  topics "
            f"{len({t for t in labels if t})}"
        )
    print(f"  ({time.perf_counter() - start:.0f} s for both)")


def archives(records: list[dict[str, Any]], pipeline: TextPipeline, exponents: tuple[float, ...]) -> None:
    """The corpus's FAQ archives (one company's season each, a few big topics and many small ones), each
    clustered with its sector's topics held out of the learned space, per resolution exponent: where
    `KnnGraphCommunities.size_exponent` was chosen."""
    companies = sorted({r["company"] for r in records if r["_source"].startswith("faq_archive_")})
    processed = pipeline.process_many([r["text"] for r in records], langs=[r.get("lang") for r in records])
    for company in companies:
        inside = [i for i, r in enumerate(records) if r["company"] == company]
        sector = records[inside[0]]["sector"]
        outside = [i for i, r in enumerate(records) if r["sector"] != sector]
        space = TopicSpace().fit([processed[i] for i in outside], [records[i]["faq_topic"] for i in outside])
        gold = [records[i]["faq_topic"] for i in inside]
        figures = []
        for exponent in exponents:
            model = TopicModel(
                vectorizer=GuidedTopicVectorizer(space), cluster_model=KnnGraphCommunities(size_exponent=exponent)
            ).fit([processed[i] for i in inside], companies=[company] * len(inside))
            ari, nmi = scores(gold, [str(t) if t else None for t in model.labels_])
            figures.append(f"{exponent}: ARI {ari:.3f} NMI {nmi:.3f} topics {len(model.active_topics())}")
        heading = f"archive {company} ({len(inside)} messages, {len(set(gold))} topics), by exponent: "
        print(heading + "; ".join(figures))


def kmeans_baseline(name: str, records: list[dict[str, Any]], k: int) -> None:
    start = time.perf_counter()
    matrix = TfidfVectorizer(sublinear_tf=True).fit_transform([r["text"] for r in records])
    predicted = KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(matrix)
    seconds = time.perf_counter() - start
    gold = [r["faq_topic"] for r in records]
    print(
        f"{name} baseline TF-IDF + KMeans (told k={k}): ARI {adjusted_rand_score(gold, predicted):.3f}  "
        f"NMI {normalized_mutual_info_score(gold, predicted):.3f}  unassigned 0.0%  {seconds:.1f} s"
    )


def devset_full(records: list[dict[str, Any]]) -> None:
    """All dev messages through the command's path: the engine picks questions, requests, complaints."""
    from webcare_nlp.engine import Engine

    engine = Engine.load()
    messages = _messages(records, ("id", "text", "lang", "company", "channel", "platform"))
    intents = [r["intent"] for r in engine.analyze_many(messages)]
    run = discover_topics(
        messages,
        text_pipeline=engine.text_pipeline,
        intents=intents,
        model=TopicModel(vectorizer=GuidedTopicVectorizer(engine.topic_space)),
    )
    gold = [r.get("faq_topic") or "_none" for r in records]
    predicted = [t or "_none" for t in run.topics_of_messages]
    print(
        f"dev set, all {len(records)} messages, null as its own class on both sides: "
        f"ARI {adjusted_rand_score(gold, predicted):.3f}  NMI {normalized_mutual_info_score(gold, predicted):.3f}  "
        f"clustered {sum(run.selected)}  topics {len(run.model.active_topics())}"
    )


def scale(n: int, pipeline: TextPipeline) -> None:
    """Fit time (wall and CPU: the machine may be shared) and the growth of peak memory on n messages."""
    records = load_labelled(TRAINING_DATA)
    start = time.perf_counter()
    processed = pipeline.process_many([r["text"] for r in records], langs=[r.get("lang") for r in records])
    rate = len(records) / (time.perf_counter() - start)
    print(f"text pipeline: {rate:.0f} messages/s on the {len(records)} corpus messages (not in the fit times)")
    rng = random.Random(0)
    sample = [rng.randrange(len(records)) for _ in range(n)]
    for by_company in (True, False):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start, cpu = time.perf_counter(), time.process_time()
        model = TopicModel(by_company=by_company).fit(
            [processed[i] for i in sample], companies=[records[i].get("company") for i in sample]
        )
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"fit on {n:,} messages sampled with replacement (per company: {by_company}): {seconds:.0f} s wall, "
            f"{cpu_seconds:.0f} s CPU, peak resident memory {after:.0f} MiB (+{after - before:.0f} MiB), "
            f"{len(model.active_topics())} topics"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=0, help="also fit this many sampled corpus messages")
    parser.add_argument("--skip-held-out", action="store_true", help="skip the leave-one-sector-out corpus run")
    parser.add_argument(
        "--only-scale", action="store_true", help="run only --scale, so that its peak memory is the fit's own"
    )
    args = parser.parse_args()
    from webcare_nlp.engine import Engine

    pipeline = TextPipeline()
    if args.only_scale:
        scale(args.scale or 100_000, pipeline)
        return
    space = Engine.load().topic_space

    def learned() -> TopicModel:
        return TopicModel(vectorizer=GuidedTopicVectorizer(space))

    corpus = [r for r in load_labelled(TRAINING_DATA) if r.get("faq_topic")]
    evaluate("corpus (where settings were chosen), lexical", corpus, pipeline)
    archives(corpus, pipeline, exponents=(1.0, 0.6, 0.5, 0.4, 0.3, 0.2))
    if not args.skip_held_out:
        leave_one_sector_out(corpus, pipeline)
    if require(DEVSET):
        records = read_jsonl(DEVSET)
        with_topic = [r for r in records if r.get("faq_topic")]
        evaluate("dev set, messages with a faq_topic, lexical", with_topic, pipeline)
        evaluate("dev set, messages with a faq_topic, learned", with_topic, pipeline, model=learned())
        devset_full(records)
    path = REAL / "banking77-test-topics.jsonl"
    if require(path):
        records = read_jsonl(path)
        evaluate("banking77, lexical", records, pipeline)
        evaluate("banking77, learned", records, pipeline, model=learned())
        kmeans_baseline("banking77", records, k=len({r["faq_topic"] for r in records}))
    if args.scale:
        scale(args.scale, pipeline)


if __name__ == "__main__":
    main()
