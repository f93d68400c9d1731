"""Ranking internals added for speed and for teams' own histories: dense products, history profiles,
re-weighting on a team's history, and rankers that name their features."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from webcare_nlp.dataset import TRAINING_DATA
from webcare_nlp.engine import Engine
from webcare_nlp.errors import ModelError
from webcare_nlp.rank import products
from webcare_nlp.rank.index import FEATURES, LibraryIndex, Query
from webcare_nlp.rank.library import Library
from webcare_nlp.rank.products import dense_product
from webcare_nlp.rank.ranker import Ranker
from webcare_nlp.rank.tuning import MIN_OWN_HISTORY


@pytest.mark.parametrize("rows", [1, 3, 40])
def test_dense_product_equals_scipy(rows: int) -> None:
    a = sparse.random(rows, 50, density=0.2, format="csr", random_state=rows)
    b = sparse.random(50, 30, density=0.2, format="csr", random_state=rows + 1)
    assert np.allclose(dense_product(a, b), (a @ b).toarray())
    # A row scores the same alone as inside a batch (a batch of 40 takes scipy's path), also on float32.
    assert np.array_equal(dense_product(a[-1:], b)[0], dense_product(a, b)[-1])
    b32 = sparse.csr_matrix(b, dtype=np.float32)
    assert np.array_equal(dense_product(a[-1:], b32)[0], dense_product(a, b32)[-1])


def test_the_batch_kernel_sums_as_scipys_product_in_blocks_of_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    a = sparse.random(40, 50, density=0.2, format="csr", random_state=3)
    b = sparse.random(50, 30, density=0.2, format="csr", random_state=4, dtype=np.float32)
    expected = (sparse.csr_matrix(a, dtype=np.float64) @ b).toarray()
    assert products.KERNELS
    assert np.array_equal(dense_product(a, b), expected)
    monkeypatch.setattr(products, "BATCH_CELLS", 7 * 30)  # blocks of 7 rows, the last one short
    assert np.array_equal(dense_product(a, b), expected)


def test_a_row_touching_many_values_takes_scipys_path_with_the_same_sums(monkeypatch: pytest.MonkeyPatch) -> None:
    a = sparse.random(2, 50, density=0.3, format="csr", random_state=1)
    b = sparse.random(50, 30, density=0.3, format="csr", random_state=2, dtype=np.float32)
    gathered = dense_product(a, b)
    monkeypatch.setattr(products, "GATHER_LIMIT", 0)
    assert np.array_equal(dense_product(a, b), gathered)


def test_a_message_like_those_an_article_was_sent_for_matches_its_profile() -> None:
    library = Library.from_records(
        articles=[
            {"url": "https://x.nl/a", "title": "pagina a"},
            {"url": "https://x.nl/b", "title": "pagina b"},
        ],
        history=[
            {"text": "mijn wachtwoord werkt niet meer", "used": ["https://x.nl/a"]},
            {"text": "wachtwoord vergeten, hoe reset ik dat", "used": ["https://x.nl/a"]},
            {"text": "factuur klopt niet, te veel betaald", "used": ["https://x.nl/b"]},
        ],
    )
    index = LibraryIndex(library)
    rows = index.features([Query(text="ik ben mijn wachtwoord kwijt")])[0]["article"]
    profile = rows.features[:, FEATURES.index("history_profile")]
    assert profile[0] > 0.3 > 0.05 > profile[1]


def test_a_message_of_a_known_topic_leans_on_what_agents_sent_for_that_topic() -> None:
    library = Library.from_records(
        articles=[
            {"url": "https://x.nl/koffer", "title": "pagina een"},
            {"url": "https://x.nl/inlog", "title": "pagina twee"},
        ],
        history=[
            {"text": "koffer niet aangekomen", "used": ["https://x.nl/koffer"]},
            {"text": "bagage kwijt op schiphol", "used": ["https://x.nl/koffer"]},
            {"text": "inloggen lukt niet", "used": ["https://x.nl/inlog"]},
            {"text": "app geeft foutmelding bij login", "used": ["https://x.nl/inlog"]},
        ],
    )
    topics = ["t-bagage", "t-bagage", "t-login", "t-login"]
    # A message with no similar past message: only the habits behind its vote can tell the pages apart.
    query = "waar blijft mijn spullen na de reis"

    def vote(index: LibraryIndex, topic: str | None) -> np.ndarray:
        rows = index.features([Query(text=query, topic=topic)])[0]["article"]
        return rows.features[:, FEATURES.index("history_vote")]

    with_topics = LibraryIndex(library, history_topics=topics)
    assert vote(with_topics, "t-bagage")[0] > vote(with_topics, "t-bagage")[1]
    assert vote(with_topics, "t-login")[1] > vote(with_topics, "t-login")[0]
    # An unknown topic, or no topic model, falls back to the company's habits: both pages alike.
    assert vote(with_topics, "t-new")[0] == vote(with_topics, "t-new")[1]
    assert np.array_equal(vote(LibraryIndex(library), "t-bagage"), vote(with_topics, None))
    with pytest.raises(ValueError, match="history topics"):
        LibraryIndex(library, history_topics=topics[:2])


def test_a_ranker_from_another_feature_set_asks_for_a_retrain() -> None:
    ranker = Ranker().fit(np.random.default_rng(0).random((20, len(FEATURES))), np.arange(20) % 2)
    assert ranker.score_rows(np.zeros((2, len(FEATURES)))).shape == (2,)
    older = pickle.loads(pickle.dumps(ranker))  # as loaded from an artefact: no weights remembered by use
    older.feature_names_ = (*FEATURES[:-1], "a_feature_this_version_lacks")
    with pytest.raises(ModelError, match="retrain"):
        older.score_rows(np.zeros((2, len(FEATURES))))


def test_a_refitted_ranker_scores_with_its_new_weights() -> None:
    rng = np.random.default_rng(1)
    X, y = rng.random((30, len(FEATURES))), np.arange(30) % 2
    ranker = Ranker().fit(X, y)
    ranker.score_rows(X)
    ranker.fit(X, 1 - y)
    assert np.array_equal(ranker.score_rows(X), Ranker().fit(X, 1 - y).score_rows(X))


def _team_library(n: int) -> Library:
    """Two look-alike articles told apart only by what agents sent: text alone cannot rank them."""
    topics = [
        ("mijn pakket is nog niet bezorgd", "https://t.nl/pakket"),
        ("ik wil mijn abonnement opzeggen", "https://t.nl/opzeggen"),
    ]
    history = []
    for i in range(n):
        text, url = topics[i % 2]
        history.append({"id": f"h{i}", "text": f"{text} ({i})", "company": "team", "used": [url]})
    articles = [
        {"url": "https://t.nl/pakket", "title": "Algemene hulp", "company": "team"},
        {"url": "https://t.nl/opzeggen", "title": "Algemene hulp", "company": "team"},
    ]
    return Library.from_records(articles=articles, history=history)


def test_a_team_history_reweights_the_ranker_and_sets_its_threshold(tiny_model: Path) -> None:
    engine = Engine.load(tiny_model, library=_team_library(MIN_OWN_HISTORY + 10))
    report = engine.suggester.rankers.report["kinds"]["article"]
    assert report["chosen"] in {"shipped"} | {f"own C={c}{t}" for c in (0.1, 1.0, 10.0) for t in ("", ", reranked")}
    assert report[report["chosen"]]["hit@1"] >= report["shipped"]["hit@1"]
    assert engine.suggester.rankers.rankers["article"].threshold == pytest.approx(report["threshold"], abs=1e-4)
    result = engine.suggest("pakket niet bezorgd", company="team", always=True, abstain=False)
    articles = [s["id"] for s in result["suggestions"] if s["kind"] == "article"]
    assert articles[0] == "https://t.nl/pakket"


def test_a_short_history_or_adapt_false_keeps_the_shipped_ranker(tiny_model: Path) -> None:
    shipped = Engine.load(tiny_model).rankers
    short = Engine.load(tiny_model, library=_team_library(MIN_OWN_HISTORY - 10))
    assert short.suggester.rankers.rankers["article"] is shipped.rankers["article"] or (
        short.suggester.rankers.report == shipped.report
    )
    off = Engine.load(tiny_model, library=_team_library(MIN_OWN_HISTORY + 10), adapt=False)
    assert off.suggester.rankers.report == off.rankers.report


def test_the_default_history_is_not_a_teams_own_and_does_not_reweight(tiny_model: Path) -> None:
    default = Library.load()
    assert default.history and default.own_history == 0
    feedback = [{"id": "f1", "text": "waar is mijn pakket", "used": [default.templates[0].id]}]
    assert default.with_history(feedback).own_history == 1
    assert Library.load(history=TRAINING_DATA / "history").own_history > 0
    # The CLI and the API pass the default library explicitly; they must rank as an engine without one.
    explicit = Engine.load(tiny_model, library=default)
    assert explicit.suggester.rankers is explicit.rankers


def test_a_fit_feature_never_gets_a_negative_weight():
    # A history that teaches "the worse the words fit, the likelier sent" (labels from another label set can
    # do that to intent fit) must not make a ranker lift what does not fit: the feature is left out.
    import numpy as np

    from webcare_nlp.rank.index import FEATURES
    from webcare_nlp.rank.ranker import FITS, Ranker

    rng = np.random.default_rng(0)
    X = rng.random((400, len(FEATURES)))
    y = (X[:, FEATURES.index("popularity")] - X[:, FEATURES.index("word_sim")] > 0).astype(int)
    ranker = Ranker(C=10.0).fit(X, y)
    weights = ranker.weights()
    assert weights["word_sim"] == 0.0 and weights["popularity"] > 0
    assert all(weights[name] >= 0 for name in FITS)


def test_the_trees_rescore_only_the_best_rows_and_only_with_a_history() -> None:
    import numpy as np

    from webcare_nlp.rank.index import FEATURES
    from webcare_nlp.rank.ranker import HISTORY, Ranker

    rng = np.random.default_rng(3)
    X = rng.random((400, len(FEATURES)))
    # Sent when one close past message used it, whatever the rest of the history did: an interaction.
    y = ((X[:, FEATURES.index("history_max")] > 0.7) & (X[:, FEATURES.index("word_sim")] > 0.3)).astype(int)
    linear = Ranker(C=10.0).fit(X, y)
    reranked = Ranker(C=10.0, rerank=4).fit(X, y)
    assert np.array_equal(reranked.coef_, linear.coef_)  # the same logistic model underneath

    block = rng.random((10, len(FEATURES)))
    before, after = linear.score_rows(block), reranked.score_rows(block)
    top = np.argsort(-before, kind="stable")[:4]
    rest = np.setdiff1d(np.arange(10), top)
    # The best four by the logistic model are the four best still, now in the trees' order, with the
    # logistic model's four scores (the abstention thresholds' scale); the rest are as they were.
    trees_order = top[np.argsort(-reranked.trees_.predict_proba(block[top]), kind="stable")]
    assert list(np.argsort(-after, kind="stable")[:4]) == list(trees_order)
    np.testing.assert_array_equal(after[trees_order], before[top])
    np.testing.assert_array_equal(after[rest], before[rest])
    assert not np.array_equal(after, before)  # the trees did reorder here, or this shows nothing

    # A brand-new library (no trace of a history in any row) is ranked by the logistic model alone.
    cold = block.copy()
    cold[:, [FEATURES.index(name) for name in HISTORY]] = 0.0
    np.testing.assert_array_equal(reranked.score_rows(cold), linear.score_rows(cold))


def test_trees_are_chosen_for_a_team_only_when_they_rank_its_history_better(tiny_model: Path) -> None:
    from webcare_nlp.rank.tuning import MIN_RERANK_GAIN

    engine = Engine.load(tiny_model, library=_team_library(MIN_OWN_HISTORY + 10))
    report = engine.suggester.rankers.report["kinds"]["article"]
    (trees,) = [name for name in report if name.endswith(", reranked")]
    linear = report[trees.removesuffix(", reranked")]
    worth = report[trees]["mrr"] >= linear["mrr"] + MIN_RERANK_GAIN
    best = max(v["mrr"] for name, v in report.items() if isinstance(v, dict) and (worth or name != trees))
    assert report[report["chosen"]]["mrr"] == best
    assert (report["chosen"] == trees) <= worth
    assert (engine.suggester.rankers.rankers["article"].rerank > 0) == (report["chosen"] == trees)


def test_a_ranker_saved_before_the_trees_loads_as_the_logistic_model_alone() -> None:
    rng = np.random.default_rng(2)
    X, y = rng.random((30, len(FEATURES))), np.arange(30) % 2
    ranker = Ranker(C=1.0).fit(X, y)
    state = ranker.__getstate__()
    del state["rerank"], state["booster_"], state["trees_"]  # as an artefact of the version before wrote it
    older = Ranker.__new__(Ranker)
    older.__setstate__(state)
    assert older.get_params()["rerank"] == 0
    np.testing.assert_array_equal(older.set_params(threshold=0.2).score_rows(X), ranker.score_rows(X))
