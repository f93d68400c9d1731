"""The fast per-message paths give exactly what the plain ones give: TF-IDF, probabilities, cues, PII, language."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from webcare_nlp.classify.fast import _Calibration, _zeroed, fast_predict_proba
from webcare_nlp.classify.models import calibrated, soft_vote
from webcare_nlp.features.cues import INTENSIFIERS, NEGATIONS, polarity_counts, polarity_lexicon
from webcare_nlp.features.fast_tfidf import char_wb_counts, term_counts, tfidf_weight
from webcare_nlp.features.vectorize import _dense_entries, _entries, _side_by_side
from webcare_nlp.text.language import LanguageIdentifier
from webcare_nlp.text.pii import find_entities

TEXTS = [
    "waar is mijn pakket ??",
    "top geholpen , dank jullie wel 👍",
    "<handle> koffer kwijt !! waardeloos",
    "mijn pakket is nog steeds niet bezorgd {ordernummer}",
    "",
    "   ",
]


def _same(a: sp.spmatrix, b: sp.spmatrix) -> bool:
    a, b = sp.csr_matrix(a), sp.csr_matrix(b)
    a.sort_indices()
    b.sort_indices()
    return (
        np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices) and np.array_equal(a.data, b.data)
    )


def test_char_ngrams_equal_scikit_learns_to_the_bit():
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, dtype=np.float32)
    vectorizer.fit(TEXTS[:4])
    new = ["waar blijft mijn koffer ??", "pakket pakket pakket", "nieuw woord", ""]
    cache: dict = {}
    assert _same(tfidf_weight(vectorizer, char_wb_counts(vectorizer, new, cache)), vectorizer.transform(new))
    assert cache  # the second call is served from the cache and gives the same
    assert _same(tfidf_weight(vectorizer, char_wb_counts(vectorizer, new, cache)), vectorizer.transform(new))
    for text in [*new, "pakket pakket koffer pakket"]:  # one message takes its own path
        assert _same(tfidf_weight(vectorizer, char_wb_counts(vectorizer, [text], cache)), vectorizer.transform([text]))


def _bits(a: sp.spmatrix, b: sp.spmatrix) -> bool:
    """The same CSR arrays, dtypes and all (no sorting or conversion first)."""
    return a.shape == b.shape and all(
        getattr(a, name).dtype == getattr(b, name).dtype and np.array_equal(getattr(a, name), getattr(b, name))
        for name in ("indptr", "indices", "data")
    )


def test_one_message_features_equal_its_row_of_a_batch_to_the_bit():
    from webcare_nlp.features.vectorize import MessageVectorizer, Observation
    from webcare_nlp.text.pipeline import TextPipeline

    texts = [
        "Waar blijft mijn pakket?? @bezorgbeer",
        "Top geholpen door Sanne, dank jullie wel 👍",
        "KOFFER KWIJT!!! waardeloos #fail",
        "mijn pakket is nog steeds niet bezorgd, order 12345678",
        "??",
        "Nieuwe woorden die het model nooit zag: fietsbel, zonnescherm",
    ]
    processed = TextPipeline().process_many(texts)
    observations = [
        Observation(p, channel, platform)
        for p, channel, platform in zip(
            processed,
            ["twitter", None, "review", "email", None, "forum"],
            [None, "brand", None, "consumer", None, None],
            strict=True,
        )
    ]
    vectorizer = MessageVectorizer(min_df=1, word_weight=1.4).fit(observations[:4])
    batch = vectorizer.transform(observations)
    for row, observation in enumerate(observations):
        assert _bits(vectorizer.transform([observation]), batch[row])


def test_library_index_vectors_of_one_message_equal_its_row_of_a_batch_to_the_bit():
    from webcare_nlp.rank.index import LibraryIndex
    from webcare_nlp.rank.library import HistoryEntry, Library, Template

    library = Library(
        templates=[Template(id="t1", title="Vertraging", text="Sorry voor de vertraging van je pakket, {naam}.")],
        history=[HistoryEntry(id="h1", text="Waar blijft mijn pakket?", used=("t1",))],
    )
    index = LibraryIndex(library)
    texts = ["Waar blijft mijn pakket??", "", "vertraging vertraging, financiële schade", "🙂 {ordernummer}"]
    word, char = index.vectorize(texts)
    for row, text in enumerate(texts):
        one_word, one_char = index.vectorize([text])
        assert _bits(one_word, word[row]) and _bits(one_char, char[row])


def test_term_counts_equal_scikit_learns_to_the_bit():
    documents = [text.split() for text in TEXTS]
    vectorizer = TfidfVectorizer(analyzer=lambda terms: terms, sublinear_tf=True, dtype=np.float32).fit(documents)
    new = [["waar", "is", "is", "onbekend"], [], ["koffer", "kwijt"]]
    assert _same(tfidf_weight(vectorizer, term_counts(vectorizer, new)), vectorizer.transform(new))


def test_blocks_side_by_side_equal_scipys_hstack_to_the_bit():
    rng = np.random.default_rng(3)
    sparse_blocks = [
        sp.random(7, width, density=0.3, format="csr", random_state=i, dtype=np.float32)
        for i, width in enumerate((9, 4))
    ]
    dense = (rng.random((7, 5)) > 0.6) * rng.random((7, 5)).astype(np.float32)
    dense[2] = 0.0  # a message with no cue at all
    ours = _side_by_side([(_entries(b), b.shape[1]) for b in sparse_blocks] + [(_dense_entries(dense), 5)], n_rows=7)
    theirs = sp.hstack([*sparse_blocks, sp.csr_matrix(dense)], format="csr", dtype=np.float32)
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(ours, name), getattr(theirs, name)), name
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype


def test_fast_probabilities_equal_the_calibrated_models_own():
    rng = np.random.default_rng(3)
    x = sp.csr_matrix(rng.random((60, 30)) * (rng.random((60, 30)) < 0.3), dtype=np.float32)
    y = np.array(["vraag", "klacht", "compliment"] * 20)
    model = CalibratedClassifierCV(LinearSVC(random_state=0), method="sigmoid", cv=3, ensemble=False).fit(x, y)
    predict = fast_predict_proba(model, 30)
    assert predict != model.predict_proba
    assert np.array_equal(predict(x), model.predict_proba(x))
    binary = CalibratedClassifierCV(LinearSVC(random_state=0), cv=3, ensemble=False).fit(x, y == "klacht")
    assert np.array_equal(fast_predict_proba(binary, 30)(x), binary.predict_proba(x))


def _calibrated_as_scikit_learn(calibration, scores):
    """scikit-learn's `_CalibratedClassifier.predict_proba` after the response values, line by line."""
    proba = np.zeros((len(scores), calibration.n_classes))
    for column, position in enumerate(calibration.positions):
        a, b = calibration.slopes[column], calibration.offsets[column]
        proba[:, position] = expit(-(a * scores[:, column] + b))  # _SigmoidCalibration.predict
    if calibration.n_classes == 2:
        proba[:, 0] = 1.0 - proba[:, 1]
    else:
        denominator = np.sum(proba, axis=1)[:, np.newaxis]
        uniform = np.full_like(proba, 1 / calibration.n_classes)
        proba = np.divide(proba, denominator, out=uniform, where=denominator != 0)
    proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
    return proba


@pytest.mark.parametrize("positions", [[0, 1, 2], [2, 0, 1]])
def test_calibration_shortcuts_equal_the_guarded_arithmetic(positions):
    # A row whose sigmoids all underflow (denominator 0: uniform) next to ordinary rows.
    calibration = _Calibration(np.array(positions), np.array([-1.0, -2.0, -0.5]), np.array([0.1, -0.2, 0.3]), 3)
    scores = np.array([[-900.0, -900.0, -2000.0], [0.3, -1.2, 2.0], [5.0, 5.0, 5.0]])
    assert calibration.in_order == (positions == [0, 1, 2])
    expected = _calibrated_as_scikit_learn(calibration, scores)
    assert np.allclose(expected[0], 1 / 3)
    assert np.array_equal(calibration.proba(scores), expected)


def test_naive_bayes_and_soft_vote_twins_equal_scikit_learns_to_the_bit():
    rng = np.random.default_rng(1)
    x = sp.csr_matrix(rng.random((90, 30)) * (rng.random((90, 30)) < 0.3), dtype=np.float32)
    y = np.array(["vraag", "klacht", "compliment"] * 30)
    members = {
        "linear_svc": {"C": 0.3},
        "nb_svc": {"C": 0.3},
        "logreg": {"C": 10.0},
        "complement_nb": {"alpha": 0.3},
        "sgd": {"alpha": 3e-5},
    }
    ignore = np.array([3, 7])  # columns a model was trained without, as the platform model's
    for labels in (y, y == "klacht"):
        bayes = CalibratedClassifierCV(ComplementNB(), cv=3, ensemble=False).fit(x, labels)
        assert fast_predict_proba(bayes, 30) != bayes.predict_proba
        assert np.array_equal(fast_predict_proba(bayes, 30)(x), bayes.predict_proba(x))
        for vote in (soft_vote(members, 0, folds=3), calibrated(soft_vote(members, 0, folds=3), folds=3)):
            vote.fit(x, labels)
            predict = fast_predict_proba(vote, 30, ignore=ignore)
            assert predict != vote.predict_proba
            assert np.array_equal(predict(x), vote.predict_proba(_zeroed(x, ignore)))


def test_a_model_without_a_fast_twin_keeps_its_own_predict_proba():
    x = sp.csr_matrix(np.eye(6, dtype=np.float32))
    model = CalibratedClassifierCV(ComplementNB(), method="isotonic", cv=2, ensemble=False).fit(x, [0, 1] * 3)
    assert fast_predict_proba(model, 6) == model.predict_proba


def _polarity_reference(tokens: list[str]) -> tuple[int, int]:
    # The plain loop over every position: what the fast check must agree with.
    lexicon, positive, negative = polarity_lexicon(), 0, 0
    starts = {phrase.split(" ")[0] for phrase in lexicon}
    end, before = -1, 0
    for i in range(len(tokens)):
        if tokens[i] in INTENSIFIERS and i + 1 < len(tokens) and tokens[i + 1] in starts:
            continue
        for n in (3, 2, 1):
            sign = lexicon.get(" ".join(tokens[i : i + n]))
            if sign is None:
                continue
            if any(t in NEGATIONS for t in tokens[max(0, i - 3) : i]):
                sign = -sign
            if i == end and sign != before:
                break
            end, before = i + n, sign
            positive, negative = (positive + 1, negative) if sign > 0 else (positive, negative + 1)
            break
    return positive, negative


WORDS = sorted({word for phrase in polarity_lexicon() for word in phrase.split(" ")})[:60]


EXTRA_TOKENS = ["niet", "geen", "super", "amai", "pakket", "?", " ", "heel goed", "\n"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*WORDS, *EXTRA_TOKENS]), max_size=12))
def test_polarity_counts_equal_the_plain_loop(tokens):
    assert polarity_counts(tokens) == _polarity_reference(tokens)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("KLANTNUMMER 12345678, bel me", ["customer_number"]),
        ("Mijn Polisnummer is PL-2291-8812", ["policy_number"]),
        ("geen cijfers en geen codes hier", []),
        ("mail naar an@voorbeeld.nl", ["email"]),
        ("klantnummer 1234567 en order #SH-4482913", ["customer_number", "order_number"]),
        ("kLANTNUMMER 7654321 met een ı erin", ["customer_number"]),
    ],
)
def test_keyword_codes_are_found_whatever_the_case(text, kinds):
    assert [entity.kind for entity in find_entities(text)] == kinds


def test_plainly_dutch_posts_skip_lingua_and_the_rest_do_not():
    identifier = LanguageIdentifier()
    assert identifier.detect_many(
        [
            "Ik heb mijn pakket nog steeds niet ontvangen, wanneer komt het?",
            "I have not received my parcel yet, when will it arrive?",
            "Ich habe mein Paket noch nicht bekommen, wann kommt es?",
            "??",
        ]
    ) == ["nl", "en", "de", "nl"]


def test_library_index_rows_equal_a_transform_of_each_part():
    # The index fits its vectorisers once on templates + articles + history and splits the rows.
    from webcare_nlp.rank.index import LibraryIndex, _transform
    from webcare_nlp.rank.library import HistoryEntry, Library, Template

    library = Library(
        templates=[
            Template(id="t1", title="Vertraging", text="Sorry voor de vertraging van je pakket, {naam}."),
            Template(id="t2", title="Wachtwoord", text="Je wachtwoord herstel je via de app."),
        ],
        history=[
            HistoryEntry(id="h1", text="Waar blijft mijn pakket?", used=("t1",)),
            HistoryEntry(id="h2", text="Wachtwoord vergeten, help", used=("t2",)),
            HistoryEntry(id="h3", text="Pakket kwijt!!", used=("t1",)),
        ],
    )
    index = LibraryIndex(library)
    history = [entry.text for entry in library.history]
    templates = [t.document for t in library.templates]
    for vectorizer, rows, past in (
        (index.word_vectorizer, index._word["template"], index._history_word),
        (index.char_vectorizer, index._char["template"], index._history_char),
    ):
        for got, texts in ((rows, templates), (past, history)):
            want = _transform(vectorizer, texts)
            assert got.shape == want.shape and got.has_sorted_indices
            np.testing.assert_array_equal(got.indices, want.indices)
            np.testing.assert_allclose(got.toarray(), want.toarray(), rtol=1e-6)
    assert index._word["article"].shape[0] == 0


@pytest.mark.parametrize(
    ("tokens", "counts"),
    [
        (["super", "!"], (1, 0)),
        (["super", "slecht", "geholpen", "!"], (0, 1)),  # intensifier, then what "slecht" says of "geholpen"
        (["snel", "geholpen"], (2, 0)),
        (["niet", "slecht"], (1, 0)),
        (["vriendelijk", "maar", "traag"], (1, 1)),
    ],
)
def test_polarity_counts_of_intensifiers_modifiers_and_negation(tokens, counts):
    assert polarity_counts(tokens) == counts


def test_candidate_features_of_a_mixed_batch_equal_each_message_alone_and_the_full_products():
    # A few messages are compared with their company's allowed candidates only; a batch makes one product
    # and cuts it per company: neither may change a feature, to the bit.
    from webcare_nlp.rank.index import FEATURES, LibraryIndex, Query
    from webcare_nlp.rank.library import HistoryEntry, Library, Template
    from webcare_nlp.rank.products import dense_product

    library = Library(
        templates=[
            Template(id="a1", company="a", text="Je pakket van A komt morgen, {naam}."),
            Template(id="b1", company="b", text="Pakket kwijt bij B? Stuur je ordernummer."),
            Template(id="any", text="Sorry voor het wachten op je pakket."),
        ],
        history=[
            HistoryEntry(id="h1", text="Waar blijft mijn pakket?", company="a", used=("a1",)),
            HistoryEntry(id="h2", text="pakket kwijt!!", company="b", used=("b1",)),
        ],
    )
    shared_only = Library(templates=[t for t in library.templates if not t.company], history=library.history)
    queries = [
        Query("waar is mijn pakket", company="b"),
        Query("pakket kwijt, help", company=None),
        Query("wachten op mijn pakket", company="a"),
        Query("mijn pakket is weg", company="b"),
    ]
    column = FEATURES.index("char_sim")
    for lib in (library, shared_only):
        index = LibraryIndex(lib)
        together = index.features(queries)
        _, char = index.vectorize([q.text for q in queries])
        full_char = dense_product(char, index._t[("char", "template")])
        batch = index.features(queries * 5)  # over BLOCK messages: one product for all, cut per company
        for m, query in enumerate(queries):
            alone = index.features([query])[0]["template"]
            for mixed in (together[m]["template"], batch[m + 4 * len(queries)]["template"]):
                np.testing.assert_array_equal(alone.indices, mixed.indices)
                np.testing.assert_array_equal(alone.features, mixed.features)
                np.testing.assert_array_equal(mixed.features[:, column], full_char[m, mixed.indices])
    assert LibraryIndex(library).features(queries)[0]["template"].indices.tolist() == [1, 2]  # b's own, shared


@pytest.mark.parametrize("m", [1, 5, 40])
def test_a_product_on_the_used_rows_equals_the_full_product_to_the_bit(m):
    from webcare_nlp.rank.products import dense_product, dense_product_on

    rng = np.random.default_rng(m)
    a = sp.random(m, 300, density=0.05, format="csr", random_state=rng, dtype=np.float64)
    full = sp.random(300, 12, density=0.02, format="csr", random_state=rng, dtype=np.float32)
    used = np.flatnonzero(np.diff(full.indptr))
    assert 0 < len(used) < 300
    np.testing.assert_array_equal(dense_product_on(a, used, sp.csr_matrix(full[used])), dense_product(a, full))
    assert dense_product_on(a, np.array([], dtype=int), sp.csr_matrix((0, 12))).shape == (m, 12)


@pytest.mark.parametrize("rows", [0, 1, 3, 4, 165])
def test_scores_of_stacked_candidate_blocks_equal_each_blocks_own_to_the_bit(rows):
    # Suggestions score the blocks of many messages with one stacked product.
    from webcare_nlp.rank.ranker import Ranker

    rng = np.random.default_rng(rows)
    X = rng.random((40, 13))
    ranker = Ranker(C=10.0).fit(X, (X[:, 0] > 0.5).astype(int))
    blocks = rng.random((7, rows, 13))
    stacked = ranker.score_rows(blocks)
    for block, scores in zip(blocks, stacked, strict=True):
        np.testing.assert_array_equal(ranker.score_rows(block), scores)


@pytest.mark.parametrize("rows", [1, 12, 300])
def test_flat_trees_score_as_scikit_learns_own_walk_to_the_bit(rows):
    # The ranker's trees are walked with numpy for a message's few rows and by scikit-learn for a batch's
    # many: the two must give the same numbers, or a message would rank differently alone and in a batch.
    from sklearn.ensemble import HistGradientBoostingClassifier

    from webcare_nlp.rank.trees import COMPILED_FROM, FlatTrees, scores

    rng = np.random.default_rng(rows)
    X = rng.random((500, 6))
    y = ((X[:, 0] + X[:, 1] * X[:, 2] + rng.normal(0, 0.2, 500)) > 0.9).astype(int)
    booster = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=7, random_state=0).fit(X, y)
    flat = FlatTrees.from_booster(booster)
    new = rng.random((rows, 6))
    expected = booster.predict_proba(new)[:, 1]
    np.testing.assert_array_equal(flat.predict_proba(new), expected)
    np.testing.assert_array_equal(scores(booster, flat, new), expected)
    assert (rows > COMPILED_FROM) == (rows == 300)


@pytest.mark.parametrize("rows", [0, 1, 5, 12, 40])
def test_reranked_scores_of_stacked_blocks_equal_each_blocks_own_to_the_bit(rows):
    from webcare_nlp.rank.index import FEATURES
    from webcare_nlp.rank.ranker import Ranker

    rng = np.random.default_rng(rows)
    X = rng.random((200, len(FEATURES)))
    y = (X[:, 0] * X[:, FEATURES.index("history_vote")] > 0.3).astype(int)
    ranker = Ranker(C=10.0, rerank=12).fit(X, y)
    blocks = rng.random((7, rows, len(FEATURES)))
    stacked = ranker.score_rows(blocks)
    for block, scores in zip(blocks, stacked, strict=True):
        np.testing.assert_array_equal(ranker.score_rows(block), scores)
