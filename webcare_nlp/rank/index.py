"""The search index over one library: text vectors of templates, articles and history, and the
per-candidate features the ranker scores.

It is built from the library alone (no labels), so it works on a team's own library on first use.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from webcare_nlp.errors import InputError
from webcare_nlp.features.fast_tfidf import WordRows, char_wb_counts, char_wb_row, tfidf_weight_row
from webcare_nlp.rank.library import PLACEHOLDER, Article, Library, Template
from webcare_nlp.rank.products import BLOCK, dense_product, dense_product_on, row_slices
from webcare_nlp.text.normalize import fold_diacritics
from webcare_nlp.text.pipeline import build_nlp

FEATURES = (
    "intent_fit",
    "sentiment_fit",
    "word_sim",
    "char_sim",
    "title_sim",
    "history_vote",
    "history_max",
    "history_profile",
    "popularity",
    "same_company",
    "lang_match",
    "channel_fit",
    "has_history",
)
# Where each of FEATURES comes from in `features`: its per-candidate arrays and text similarities by name.
_FEATURE_SOURCES = (
    "intent_fit",
    "sentiment_fit",
    "word",
    "char",
    "title",
    "vote_share",
    "history_max",
    "profile",
    "popularity",
    "same_company",
    "lang_match",
    "channel_fit",
    "has_history",
)
KINDS = ("template", "article")
# A kind's transposed text matrices by name; with the vocabulary rows they keep when cut for a company.
Columns = dict[str, tuple[np.ndarray | None, sparse.csr_matrix]]
PAIR_CACHE_LIMIT = 100_000  # remembered candidate pairs of `LibraryIndex.similarity`; memory stays flat
# How many past messages' worth of evidence the company's overall habits count for in the history vote.
PRIOR_WEIGHT = 1.0
_WORD = re.compile(r"[^\W\d_]{2,}")
# What _WORD leaves of "hasn't", "doesn't": function words like the stop words, so never a term.
CONTRACTION_STEMS = frozenset(
    {"aren", "couldn", "didn", "doesn", "don", "hadn", "hasn", "haven", "isn", "wasn", "weren", "wouldn", "shouldn"}
)
_NOISE = re.compile(r"@\w+|#|https?://\S+|www\.\S+")


@cache
def _lemma_table(lang: str) -> Any:
    return build_nlp(lang).get_pipe("lemmatizer").lookups.get_table("lemma_lookup")


@cache
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS as EN
    from spacy.lang.nl.stop_words import STOP_WORDS as NL

    greetings = {"hoi", "hallo", "hi", "hey", "beste", "dag"}
    return frozenset(fold_diacritics(w) for w in NL | EN) | greetings | CONTRACTION_STEMS


def lemmas(text: str) -> list[str]:
    """Content-word lemmas of a text: placeholders, handles, urls and stop words left out.

    Example:
        >>> lemmas("@KistjeHelpt mijn pakketten zijn nog steeds niet bezorgd {ordernummer}")
        ['pakket', 'bezorgd']
    """
    return [lemma for _, lemma in _content_words(text)]


def lemma_forms(text: str) -> dict[str, str]:
    """Each content lemma of a text with the first word of the text that gave it: reasons show an agent
    the customer's own words ("cancel", not the lemma "cancelen" that the Dutch table gives it).

    Example:
        >>> lemma_forms("I want to cancel my tickets")
        {'cancelen': 'cancel', 'ticket': 'tickets'}
    """
    forms: dict[str, str] = {}
    for word, lemma in _content_words(text):
        forms.setdefault(lemma, word)
    return forms


# A batch asks twice per message (its vector, then the reasons), a chunk of messages apart.
@lru_cache(maxsize=8192)
def _content_words(text: str) -> tuple[tuple[str, str], ...]:
    """(word, lemma) of each content word, in order."""
    text = PLACEHOLDER.sub(" ", _NOISE.sub(" ", text))
    words = _WORD.findall(fold_diacritics(text).lower())
    table_nl, table_en, stop = _lemma_table("nl"), _lemma_table("en"), _stop_words()
    out = []
    for word in words:
        if word in stop:
            continue
        lemma = table_nl.get(word) or table_en.get(word) or word
        if lemma not in stop:
            out.append((word, lemma))
    return tuple(out)


# Within `shared_analysis()`: each text's terms, computed once for all the indexes built meanwhile. Per
# thread: a server rebuilds its index after feedback on another thread while requests are ranked.
_LOCAL = threading.local()


@contextmanager
def shared_analysis() -> Iterator[None]:
    """Analyse each text once for every index built inside (cross-validation builds one per fold)."""
    _LOCAL.memo = {}
    try:
        yield
    finally:
        _LOCAL.memo = None


def _memo() -> dict[tuple[str, str], list[str]] | None:
    memo: dict[tuple[str, str], list[str]] | None = getattr(_LOCAL, "memo", None)
    return memo


def _word_terms(text: str) -> list[str]:
    """Lemmas and lemma bigrams."""
    memo = _memo()
    if memo is not None:
        key = ("word", text)
        if key not in memo:
            memo[key] = _word_terms_of(text)
        return memo[key]
    return _word_terms_of(text)


def _word_terms_of(text: str) -> list[str]:
    words = lemmas(text)
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def _char_text(text: str) -> str:
    return fold_diacritics(PLACEHOLDER.sub(" ", _NOISE.sub(" ", text))).lower()


@cache
def _char_wb() -> Any:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), preprocessor=_char_text).build_analyzer()


def _char_grams(text: str) -> list[str]:
    """scikit-learn's char_wb 3-5-grams of the cleaned text."""
    memo = _memo()
    if memo is not None:
        key = ("char", text)
        if key not in memo:
            memo[key] = _char_wb()(text)
        return memo[key]
    return list(_char_wb()(text))


class FastTfidf:
    """A fitted TfidfVectorizer's transform without scikit-learn's per-call checks (short texts, low latency).

    Gives the same vectors as `vectorizer.transform` for `sublinear_tf=True, norm="l2"`. With `clean`, the
    vectoriser's analyzer makes char_wb n-grams of `clean(text)`: each word's n-grams are then looked up
    once and remembered (`char_wb_counts`), instead of once per message.
    """

    def __init__(self, vectorizer: TfidfVectorizer, *, clean: Callable[[str], str] | None = None) -> None:
        self.vectorizer = vectorizer
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary = vectorizer.vocabulary_
        self.idf = vectorizer.idf_.astype(np.float64)
        self.size = len(self.vocabulary)
        self.clean = clean
        self._word_rows: WordRows = {}

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        if self.clean is not None and len(texts) == 1:
            return self._one_char_row(self.clean(texts[0]))
        if self.clean is not None:
            counts = char_wb_counts(self.vectorizer, [self.clean(text) for text in texts], self._word_rows)
            matrix = sparse.csr_matrix(counts, dtype=np.float64)
            matrix.sort_indices()
            matrix.data = (1.0 + np.log(matrix.data)) * self.idf[matrix.indices]
            inplace_csr_row_normalize_l2(matrix)
            return matrix
        indptr, indices, values = [0], [], []
        for text in texts:
            counts = Counter(j for j in map(self.vocabulary.get, self.analyze(text)) if j is not None)
            columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self.idf[
                columns
            ]
            norm = np.sqrt(weights @ weights)
            indices.append(columns)
            values.append(weights / norm if norm else weights)
            indptr.append(indptr[-1] + len(columns))
        return sparse.csr_matrix(
            (np.concatenate(values) if values else [], np.concatenate(indices) if indices else [], indptr),
            shape=(len(texts), self.size),
        )

    def _one_char_row(self, text: str) -> sparse.csr_matrix:
        """The character branch of `transform` for one text (a live request) on plain arrays: the batch's
        arithmetic on the same values in the same order, without its scipy matrices' checks."""
        columns, counts = char_wb_row(self.vectorizer, text, self._word_rows)
        data = tfidf_weight_row(self.vectorizer, columns, counts, dtype=np.float64)
        return sparse.csr_matrix(
            (data, columns, np.array([0, len(columns)], dtype=columns.dtype)), shape=(1, self.size)
        )

    def __getstate__(self) -> dict[str, Any]:
        # The per-word rows are rebuilt where the index is used, never pickled with it (Dask, workers).
        return {**self.__dict__, "_word_rows": {}}


def _by_company(queries: Sequence[Query]) -> dict[str | None, list[int]]:
    """Positions of the queries per company, in order."""
    groups: dict[str | None, list[int]] = {}
    for m, query in enumerate(queries):
        groups.setdefault(query.company, []).append(m)
    return groups


@dataclass(frozen=True)
class Query:
    """What the ranker knows of one message."""

    text: str
    company: str | None = None
    lang: str | None = None
    channel: str | None = None
    intent_scores: dict[str, float] = field(default_factory=dict)
    sentiment_scores: dict[str, float] = field(default_factory=dict)
    topic: str | None = None


@dataclass
class Candidates:
    """The allowed candidates of one kind for one message, with their feature rows."""

    kind: str
    indices: np.ndarray
    features: np.ndarray
    history_similarity: np.ndarray  # to every past message; 0 for other companies' when its own has a history


class LibraryIndex:
    """Vectors and lookups for one library; `features` turns messages into candidate feature rows.

    Args:
        library: the templates, articles and history to index.
        neighbours: how many similar past messages vote for what was sent to them.
        history_topics: the FAQ topic of each past message (a saved topic model's), in history order; a
            message of a known topic then has its history vote smoothed towards what agents sent for
            that topic, rather than for the whole company.
    """

    def __init__(
        self, library: Library, *, neighbours: int = 10, history_topics: Sequence[str | None] | None = None
    ) -> None:
        self.library = library
        self.neighbours = neighbours
        if history_topics is not None and len(history_topics) != len(library.history):
            raise ValueError(f"{len(history_topics)} history topics for {len(library.history)} past messages")
        self.history_topics = list(history_topics) if history_topics is not None else None
        self.items: dict[str, Sequence[Template | Article]] = {
            "template": library.templates,
            "article": library.articles,
        }
        docs = {kind: [item.document for item in items] for kind, items in self.items.items()}
        history_texts = [entry.text for entry in library.history]
        corpus = docs["template"] + docs["article"] + history_texts
        self.word_vectorizer = TfidfVectorizer(analyzer=_word_terms, sublinear_tf=True, min_df=1)
        self.char_vectorizer = TfidfVectorizer(analyzer=_char_grams, sublinear_tf=True, min_df=1, dtype=np.float32)
        # Fitted and transformed in one pass over the corpus: the rows of the templates, articles and history
        # are the corpus's own rows, so no text is analysed twice (the index is built once per history fold).
        try:
            word_rows, char_rows = (_corpus_rows(v, corpus) for v in (self.word_vectorizer, self.char_vectorizer))
        except ValueError as exc:  # scikit-learn: "empty vocabulary"
            raise InputError(
                "The library holds no words to match messages on (its templates and articles are only stop "
                "words, placeholders or signs): give templates or articles with some text."
            ) from exc
        bounds = np.cumsum([0, len(docs["template"]), len(docs["article"]), len(history_texts)])
        parts = {"template": slice(bounds[0], bounds[1]), "article": slice(bounds[1], bounds[2])}
        self._word = {kind: word_rows[rows] for kind, rows in parts.items()}
        self._char = {kind: char_rows[rows] for kind, rows in parts.items()}
        titles = {
            kind: [" ".join([item.title, " ".join(item.tags)]) for item in items] for kind, items in self.items.items()
        }
        self._title = {kind: _transform(self.word_vectorizer, texts) for kind, texts in titles.items()}
        self._history_word = word_rows[bounds[2] : bounds[3]]
        self._history_char = char_rows[bounds[2] : bounds[3]]
        self._lemma_sets = {kind: [set(lemmas(doc)) for doc in texts] for kind, texts in docs.items()}
        idf = self.word_vectorizer.idf_
        vocabulary = self.word_vectorizer.vocabulary_
        self._idf = {term: float(idf[i]) for term, i in vocabulary.items() if " " not in term}
        self._cache: dict[tuple[Any, ...], Any] = {}  # per label set, company, language or channel
        self._pairs: dict[tuple[str, int, int], float] = {}  # see `similarity`
        self._fast_word = FastTfidf(self.word_vectorizer)
        self._fast_char = FastTfidf(self.char_vectorizer, clean=_char_text)
        # Transposed once here: a CSR product with a transposed matrix would convert it on every call.
        self._t: dict[Any, sparse.csr_matrix] = {
            **{
                (name, kind): m[kind].T.tocsr()
                for name, m in (("word", self._word), ("char", self._char), ("title", self._title))
                for kind in KINDS
            },
            "history_word": self._history_word.T.tocsr(),
            "history_char": self._history_char.T.tocsr(),
        }
        self._build_usage()
        self._build_profiles()

    def _build_usage(self) -> None:
        position = {kind: {item.id: i for i, item in enumerate(items)} for kind, items in self.items.items()}
        self.usage: dict[str, np.ndarray] = {}
        self._votes: dict[str, sparse.csr_matrix] = {}
        n_history = len(self.library.history)
        for kind in KINDS:
            counts: Counter[int] = Counter()
            rows, cols, values = [], [], []
            for h, entry in enumerate(self.library.history):
                for item_id in entry.used:
                    if item_id in position[kind]:
                        counts[position[kind][item_id]] += 1
                        rows.append(h)
                        cols.append(position[kind][item_id])
                        values.append(1.0)
                for item_id in entry.rejected:
                    if item_id in position[kind]:
                        rows.append(h)
                        cols.append(position[kind][item_id])
                        values.append(-1.0)
            size = len(self.items[kind])
            self.usage[kind] = np.array([counts[i] for i in range(size)], dtype=float)
            self._votes[kind] = sparse.csr_matrix((values, (rows, cols)), shape=(n_history, size))
        # Per past message the candidates it got (a 0/1 CSR matrix), and per candidate the past messages
        # that got it.
        self._sent = {kind: sparse.csr_matrix(votes > 0, dtype=np.float64) for kind, votes in self._votes.items()}
        self._receivers = {
            kind: [np.flatnonzero(col > 0) for col in votes.T.toarray()] if votes.shape[1] else []
            for kind, votes in self._votes.items()
        }
        self._companies = {
            kind: np.array([item.company or "" for item in items], dtype=object) for kind, items in self.items.items()
        }
        self._history_company = np.array([entry.company or "" for entry in self.library.history], dtype=object)
        self._history_companies = set(self._history_company) - {""}
        self._company_usage = {
            kind: {
                company: np.asarray((votes[np.flatnonzero(self._history_company == company)] > 0).sum(axis=0))
                .ravel()
                .astype(float)
                for company in self._history_companies
            }
            for kind, votes in self._votes.items()
        }
        # The same per FAQ topic, kept only for topics whose past messages got an item of the kind.
        history_topic = np.array(self.history_topics or [None] * n_history, dtype=object)
        self._topic_usage: dict[str, dict[str, np.ndarray]] = {kind: {} for kind in KINDS}
        for kind, votes in self._votes.items():
            for topic in sorted({t for t in self.history_topics or () if t is not None}):
                usage = np.asarray((votes[np.flatnonzero(history_topic == topic)] > 0).sum(axis=0)).ravel()
                if usage.sum() > 0:
                    self._topic_usage[kind][topic] = usage.astype(float)

    def _build_profiles(self) -> None:
        """Per candidate, the normalised centroid of the past messages it was sent for (word and character
        TF-IDF), transposed for products: what its typical message looks like, when its own text says little."""
        for kind in KINDS:
            sent = (self._votes[kind] > 0).astype(np.float64).T.tocsr()  # candidates x history
            for name, history in (("word", self._history_word), ("char", self._history_char)):
                centroid = sparse.csr_matrix(sent @ history)
                norms = np.sqrt(np.asarray(centroid.multiply(centroid).sum(axis=1)).ravel())
                scale = sparse.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0))
                self._t[("profile_" + name, kind)] = sparse.csr_matrix(scale @ centroid).T.tocsr()

    # -- per message -------------------------------------------------------------------------------
    def allowed(self, kind: str, company: str | None) -> np.ndarray:
        """Indices of the candidates a message of `company` may get: its own and the company-less (and,
        when the library allows it, what the company's own agents sent before, according to the history)."""
        key = ("allowed", kind, company or "")
        if key not in self._cache:
            companies = self._companies[kind]
            allowed = (companies == "") | (companies == (company or ""))
            if self.library.shared_by_history and company in self._company_usage[kind]:
                allowed |= self._company_usage[kind][company] > 0
            self._cache[key] = np.flatnonzero(allowed)
        return self._cache[key]

    def vectorize(self, texts: Sequence[str]) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """Word and character TF-IDF rows of message texts."""
        return self._fast_word.transform(texts), self._fast_char.transform(texts)

    def features(
        self,
        queries: Sequence[Query],
        *,
        sentiment_profile: dict[str, dict[str, float]] | None = None,
        vectors: tuple[sparse.csr_matrix, sparse.csr_matrix] | None = None,
    ) -> list[dict[str, Candidates]]:
        """Feature rows (in FEATURES order) of every allowed candidate of each kind, per message."""
        if not queries:
            return []
        word, char = vectors if vectors is not None else self.vectorize([q.text for q in queries])
        neighbour_weights, history_similarity = self._neighbours(word, char, [q.company for q in queries])
        # Every message has the same number of neighbour slots (weak ones hold 0), so rows are a reshape.
        slots = neighbour_weights.data.reshape(len(queries), -1)
        has_history = (slots > 0).any(axis=1)
        totals = slots.sum(axis=1)
        kinds = [kind for kind in KINDS if self.items[kind]]
        # Features that are cheap for every candidate; the text similarities below are computed only
        # against the candidates a company's messages may get.
        shared: dict[str, dict[str, np.ndarray]] = {}
        for kind in kinds:
            votes = dense_product(neighbour_weights, self._votes[kind])
            # What agents sent for similar past messages, smoothed towards what they send most for the
            # company: with close neighbours the votes decide, with none the company's habits do.
            prior = self._usage_share(kind, queries)
            intent_fit, sentiment_fit = self._label_fit(kind, queries, sentiment_profile or {})
            shared[kind] = {
                "intent_fit": intent_fit,
                "sentiment_fit": sentiment_fit,
                "vote_share": (votes + PRIOR_WEIGHT * prior) / (totals[:, None] + PRIOR_WEIGHT),
                "history_max": self._max_vote(kind, neighbour_weights),
                "popularity": self._popularity(kind, queries),
                "lang_match": self._lang_match(kind, queries),
                "channel_fit": self._channel_fit(kind, queries),
            }
        results: list[dict[str, Candidates]] = [{} for _ in queries]
        groups = _by_company(queries)
        # A live request (a few messages) of a library of many brands is compared with its own brand's items
        # and the shared ones only. A batch pays a fixed cost per product, so it makes one product over all
        # candidates for all its messages (or those that may get every candidate) and cuts each company's.
        live = len(queries) <= BLOCK
        for kind in kinds:
            n = len(self.items[kind])
            scoped = {company for company in groups if live and len(self.allowed(kind, company)) < n}
            in_common = sorted(m for company, members in groups.items() if company not in scoped for m in members)
            if in_common:
                at = np.full(len(queries), -1)
                at[in_common] = np.arange(len(in_common))
                whole = len(in_common) == len(queries)
                common = self._similarities(
                    self._columns(kind),
                    word if whole else word[np.asarray(in_common)],
                    char if whole else char[np.asarray(in_common)],
                )
            f = shared[kind]
            if not scoped:
                # A batch: every feature of every message and candidate in one array, each company's block cut
                # from it by one gather instead of one per feature (the same values, copied).
                table = self._feature_block(kind, f, common, has_history)
                for company, members in groups.items():
                    idx = self.allowed(kind, company)
                    block = table[np.ix_(np.asarray(members), idx)]
                    for row, m in enumerate(members):
                        results[m][kind] = Candidates(kind, idx, block[row], history_similarity[m])
                continue
            for company, members in groups.items():
                rows, idx = np.asarray(members), self.allowed(kind, company)
                if company in scoped:
                    own = (word, char) if len(groups) == 1 else (word[rows], char[rows])
                    sims = self._similarities(self._allowed_columns(kind, company), *own)
                else:
                    sims = {name: values[np.ix_(at[rows], idx)] for name, values in common.items()}
                block = self._feature_block(kind, f, sims, has_history, cut=(rows, idx))
                for row, m in enumerate(members):
                    results[m][kind] = Candidates(kind, idx, block[row], history_similarity[m])
        return results

    def _feature_block(
        self,
        kind: str,
        f: dict[str, np.ndarray],
        sims: dict[str, np.ndarray],
        has_history: np.ndarray,
        cut: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """(messages x candidates x FEATURES) of a kind: `f` holds every message and candidate, cut to the
        given message rows and candidates when `cut` is given; `sims` is already of the block's shape."""
        rows: np.ndarray | slice = slice(None)
        idx: np.ndarray | slice = slice(None)
        columns = dict(f)
        if cut is not None:
            rows, idx = cut
            cells = np.ix_(*cut)
            columns = {name: values[cells] for name, values in f.items()}
        shape = sims["word"].shape
        columns.update(sims)
        columns["same_company"] = np.broadcast_to((self._companies[kind][idx] != "").astype(float), shape)
        columns["has_history"] = np.broadcast_to(has_history[rows].astype(float)[:, None], shape)
        return np.stack([columns[name] for name in _FEATURE_SOURCES], axis=2)

    @staticmethod
    def _similarities(columns: Columns, word: sparse.csr_matrix, char: sparse.csr_matrix) -> dict[str, np.ndarray]:
        """Word, character, title and history-profile similarity of message rows to some candidates."""

        def product(a: sparse.csr_matrix, name: str) -> np.ndarray:
            rows, matrix = columns[name]
            return dense_product(a, matrix) if rows is None else dense_product_on(a, rows, matrix)

        return {
            "word": product(word, "word"),
            "char": product(char, "char"),
            "title": product(word, "title"),
            "profile": 0.5 * product(word, "profile_word") + 0.5 * product(char, "profile_char"),
        }

    def _allowed_columns(self, kind: str, company: str | None) -> Columns:
        """The transposed text matrices of the candidates `allowed` for a company, cut once and cached, and
        kept only on the vocabulary rows those candidates use (a company's few items do not need a row per
        n-gram). In a library of many brands a message is then compared with its own brand's items and the
        shared ones only. Each similarity is the same sum over the same terms in the same order as in the
        full product, so none changes, to the bit."""
        key = ("allowed_columns", kind, company or "")
        if key not in self._cache:
            idx = self.allowed(kind, company)
            full = self._columns(kind)
            if len(idx) == len(self.items[kind]):
                self._cache[key] = full
            else:
                cut: Columns = {}
                for name, (_, matrix) in full.items():
                    narrow = sparse.csr_matrix(matrix[:, idx])
                    used = np.flatnonzero(np.diff(narrow.indptr))
                    cut[name] = (used, sparse.csr_matrix(narrow[used]))
                self._cache[key] = cut
        return self._cache[key]

    def _columns(self, kind: str) -> Columns:
        """The transposed text matrices of all candidates of a kind."""
        names = ("word", "char", "title", "profile_word", "profile_char")
        return {name: (None, self._t[(name, kind)]) for name in names}

    def _neighbours(
        self, word: sparse.csr_matrix, char: sparse.csr_matrix, companies: Sequence[str | None]
    ) -> tuple[sparse.csr_matrix, np.ndarray]:
        """A sparse (messages x history) matrix that keeps the k nearest past messages, and the similarity
        of each message to every past message. A company with a history of its own is matched to that
        only, in the votes and in the reasons: another company's customer is never shown as an example."""
        n_history = self._history_word.shape[0]
        if n_history == 0:
            return sparse.csr_matrix((word.shape[0], 0)), np.zeros((word.shape[0], 0))
        similarity = 0.5 * dense_product(word, self._t["history_word"]) + 0.5 * dense_product(
            char, self._t["history_char"]
        )
        voting = similarity.copy()
        for m, company in enumerate(companies):
            if company and company in self._history_companies:
                voting[m, self._others_history(company)] = 0.0
        k = min(self.neighbours, n_history)
        top = np.argpartition(-voting, k - 1, axis=1)[:, :k]
        values = np.take_along_axis(voting, top, axis=1)
        # Weak matches are noise: a neighbour must share real content to vote.
        values[values < 0.15] = 0.0
        order = np.argsort(top, axis=1)  # CSR rows in column order, as scipy would store them
        top, values = np.take_along_axis(top, order, axis=1), np.take_along_axis(values, order, axis=1)
        indptr = np.arange(0, word.shape[0] * k + 1, k)
        nearest = sparse.csr_matrix((values.ravel(), top.ravel(), indptr), shape=(word.shape[0], n_history))
        return nearest, voting

    def _others_history(self, company: str) -> np.ndarray:
        key = ("others", company)
        if key not in self._cache:
            self._cache[key] = self._history_company != company
        return self._cache[key]

    def _usage_share(self, kind: str, queries: Sequence[Query]) -> np.ndarray:
        """Share of the sent items that were each candidate: among those sent for the message's FAQ topic
        when the history has some, else among the company's (else all)."""
        return np.array(
            [
                self._per_topic(kind, query.topic)
                if query.topic is not None and query.topic in self._topic_usage[kind]
                else self._per_company(kind, query.company)[0]
                for query in queries
            ]
        ).reshape(len(queries), -1)

    def _per_topic(self, kind: str, topic: str) -> np.ndarray:
        key = ("topic", kind, topic)
        if key not in self._cache:
            usage = self._topic_usage[kind][topic]
            self._cache[key] = usage / usage.sum()
        return self._cache[key]

    def _popularity(self, kind: str, queries: Sequence[Query]) -> np.ndarray:
        """How often each candidate was sent before, scaled to [0, 1]: within the message's company
        when it has a history, else over the whole history."""
        return np.array([self._per_company(kind, query.company)[1] for query in queries]).reshape(len(queries), -1)

    def _per_company(self, kind: str, company: str | None) -> tuple[np.ndarray, np.ndarray]:
        """(usage share, popularity) of every candidate for a message of `company`; cached."""
        key = ("usage", kind, company or "")
        if key not in self._cache:
            usage = self._company_usage[kind].get(company or "", self.usage[kind])
            share, popularity = np.zeros(len(usage)), np.zeros(len(usage))
            if usage.sum() > 0:
                share = usage / usage.sum()
                popularity = np.log1p(usage) / math.log1p(usage.max())
            self._cache[key] = (share, popularity)
        return self._cache[key]

    def _label_fit(
        self, kind: str, queries: Sequence[Query], profile: dict[str, dict[str, float]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """How well each candidate's intents fit the predicted intent, and the sentiment they usually meet."""
        size = len(self.items[kind])
        intent_fit = np.zeros((len(queries), size))
        sentiment_fit = np.zeros((len(queries), size))
        if kind != "template":
            return intent_fit, sentiment_fit
        intents = tuple(sorted({i for q in queries for i in q.intent_scores}))
        sentiments = tuple(sorted({s for q in queries for s in q.sentiment_scores}))
        if intents:
            p_intent = np.array([[q.intent_scores.get(i, 0.0) for i in intents] for q in queries])
            intent_fit = p_intent @ self._intent_members(intents).T
        if profile and sentiments:
            p_sentiment = np.array([[q.sentiment_scores.get(s, 0.0) for s in sentiments] for q in queries])
            sentiment_fit = p_sentiment @ self._expected_sentiment(sentiments, profile).T
        return intent_fit, sentiment_fit

    def _intent_members(self, intents: tuple[str, ...]) -> np.ndarray:
        """(templates x intents) 1 where the template is meant for the intent; cached per label set."""
        key = ("members", intents)
        if key not in self._cache:
            self._cache[key] = np.array([[float(i in t.intents) for i in intents] for t in self.library.templates])
        return self._cache[key]

    def _expected_sentiment(self, sentiments: tuple[str, ...], profile: dict[str, dict[str, float]]) -> np.ndarray:
        """(templates x sentiments) the mood the template's intents usually come in."""
        key = ("sentiment", sentiments, id(profile))
        if key not in self._cache:
            self._cache[key] = np.array(
                [
                    [
                        np.mean([profile.get(i, {}).get(s, 0.0) for i in t.intents]) if t.intents else 0.0
                        for s in sentiments
                    ]
                    for t in self.library.templates
                ]
            )
        return self._cache[key]

    def _lang_match(self, kind: str, queries: Sequence[Query]) -> np.ndarray:
        """+1 same language, -1 another, 0 when either is unknown."""
        return np.array([self._cached_row(kind, "lang", query.lang) for query in queries]).reshape(len(queries), -1)

    def _channel_fit(self, kind: str, queries: Sequence[Query]) -> np.ndarray:
        """+1 the candidate names the message's channel, -1 it names others only, 0 unknown."""
        rows = [self._cached_row(kind, "channel", query.channel) for query in queries]
        return np.array(rows).reshape(len(queries), -1)

    def _cached_row(self, kind: str, field: str, value: str | None) -> np.ndarray:
        """+1/-1/0 per candidate for one language or channel, computed once per value."""
        key = (field, kind, value or "")
        if key not in self._cache:
            items = self.items[kind]
            row = np.zeros(len(items))
            if value and field == "lang":
                langs = np.array([item.lang or "" for item in items], dtype=object)
                row = np.where(langs == "", 0.0, np.where(langs == value, 1.0, -1.0))
            elif value:
                channels = [getattr(item, "channels", ()) for item in items]
                row = np.array([0.0 if not c else (1.0 if value in c else -1.0) for c in channels])
            self._cache[key] = row
        return self._cache[key]

    def _max_vote(self, kind: str, weights: sparse.csr_matrix) -> np.ndarray:
        """Per message and candidate, the highest similarity among the neighbours that got the candidate."""
        out = np.zeros((weights.shape[0], len(self.items[kind])))
        sent = self._sent[kind]
        # Every (message, neighbour, similarity) laid out once per candidate the neighbour got.
        slices = row_slices(sent.indptr, weights.indices)
        assert slices is not None  # no limit given
        positions, lengths = slices
        rows = np.repeat(np.repeat(np.arange(weights.shape[0]), np.diff(weights.indptr)), lengths)
        np.maximum.at(out, (rows, sent.indices[positions]), np.repeat(weights.data, lengths))
        return out

    # -- explanations ------------------------------------------------------------------------------
    def shared_terms(self, kind: str, index: int, words: AbstractSet[str], *, limit: int = 3) -> list[str]:
        """The rarest words the message (its `lemmas`) and the candidate share."""
        shared = words & self._lemma_sets[kind][index]
        return sorted(shared, key=lambda term: (-self._idf.get(term, 0.0), term))[:limit]

    def similar_history(self, kind: str, index: int, history_similarity: np.ndarray) -> tuple[int, str | None]:
        """How many past messages that got this candidate resemble the message (similarity 0.15 or more),
        and the most similar one's text; `history_similarity` is the message's row from `features`."""
        users = self._receivers[kind][index] if self._receivers[kind] else None
        if users is None or not len(users):
            return 0, None
        # A candidate has few receivers: Python on their similarities is cheaper than more numpy calls.
        sims = history_similarity[users].tolist()
        count = sum(s >= 0.15 for s in sims)
        if not count:
            return 0, None
        return count, self.library.history[int(users[sims.index(max(sims))])].text

    def similarity(self, kind: str, first: int, second: int) -> float:
        """Character similarity (cosine) between two candidates' documents, for diversity.

        A property of the library, not of the message: each pair is computed once and remembered, and the
        ranking asks only for the few pairs at the top, so a message pays almost nothing for it.
        """
        key = (kind, first, second) if first < second else (kind, second, first)
        value = self._pairs.get(key)
        if value is None:
            if len(self._pairs) > PAIR_CACHE_LIMIT:
                self._pairs.clear()
            matrix = self._char[kind]
            a, b = (slice(matrix.indptr[i], matrix.indptr[i + 1]) for i in (first, second))
            _, in_a, in_b = np.intersect1d(
                matrix.indices[a], matrix.indices[b], assume_unique=True, return_indices=True
            )
            value = self._pairs[key] = float(matrix.data[a][in_a] @ matrix.data[b][in_b])
        return value


def _corpus_rows(vectorizer: TfidfVectorizer, corpus: list[str]) -> sparse.csr_matrix:
    """Fits the vectoriser on the corpus and returns the corpus's rows, column indices sorted per row."""
    rows = sparse.csr_matrix(vectorizer.fit_transform(corpus))
    rows.sort_indices()
    return rows


def _transform(vectorizer: TfidfVectorizer, texts: list[str]) -> sparse.csr_matrix:
    if not texts:  # scikit-learn refuses an empty batch
        return sparse.csr_matrix((0, len(vectorizer.vocabulary_)), dtype=np.float64)
    return vectorizer.transform(texts)
