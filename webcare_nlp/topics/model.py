"""TopicModel: finds the topics of an archive, names them, keeps their ids over refits, assigns new messages."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from webcare_nlp.text.pipeline import ProcessedText
from webcare_nlp.topics.cluster import OUTLIER, ClusterModel, CosineAverageLinkage, KnnGraphCommunities
from webcare_nlp.topics.ctfidf import class_tfidf, short_label
from webcare_nlp.topics.vectorize import TopicVectorizer

N_KEY_TERMS = 8
N_REPRESENTATIVES = 3


@dataclass
class Topic:
    """One FAQ topic: a stable id, a label, its key terms, size and most representative messages.

    `new`: the topic was not in the saved model this fit started from; `stale`: it was, but no message
    of this archive belongs to it any more (size 0).
    """

    id: str
    label: str
    key_terms: list[str]
    size: int
    representatives: list[str]
    company: str | None = None
    stale: bool = False
    new: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(data.pop("extra"))
        return data


def _names_brand(term: str, company: str | None) -> bool:
    """The term is (part of) the company's name, however it is spaced: "houten huys", "huys" for houtenhuys.

    Example:
        >>> [_names_brand(term, "houtenhuys") for term in ("houten huys", "huys", "kast")]
        [True, True, False]
    """
    if not company:
        return False
    name, squeezed = re.sub(r"\W", "", str(company).lower()), re.sub(r"\W", "", term)
    return bool(squeezed) and (name in squeezed or (len(squeezed) >= 3 and squeezed in name))


def without_brand(processed: list[ProcessedText], companies: list[str | None]) -> list[ProcessedText]:
    """The texts with their own company's name left out of the lemmas: in a brand's archive the name says
    nothing about which of its FAQ topics a message is, and it held unrelated messages together."""
    return [
        replace(p, lemmas=[lemma for lemma in p.lemmas if not _names_brand(lemma, company)]) if company else p
        for p, company in zip(processed, companies, strict=True)
    ]


def topic_id(number: int) -> str:
    return f"t{number:02d}"


def _number(identifier: str) -> int:
    return int(identifier[1:]) if identifier[1:].isdigit() else 0


class TopicModel(BaseEstimator):
    """Clusters messages into FAQ topics and assigns new messages to them.

    Args:
        min_size: smallest topic; smaller clusters become outliers (topic None).
        n_topics: a fixed number of topics instead of the automatic threshold (then over the whole
            archive, not per company).
        cluster_model: a ClusterModel (default: KnnGraphCommunities, or CosineAverageLinkage cut at
            `n_topics` when that is given); any scikit-learn clusterer fits in through `SklearnClusters`.
        vectorizer: a TopicVectorizer (default settings when None).
        by_company: cluster each company's messages apart, since a team's FAQ is per brand.
        random_state: seed for the clustering models that use one.

    Example:
        >>> from webcare_nlp.text.pipeline import TextPipeline
        >>> texts = ["Mijn koffer is kwijt", "Koffer kwijt na vlucht", "Waar is mijn koffer?",
        ...          "De app doet het niet", "App storing, kan niet inloggen", "Inloggen app lukt niet"]
        >>> model = TopicModel(min_size=2).fit(TextPipeline().process_many(texts, langs=["nl"] * 6))
        >>> len(model.active_topics())
        2
    """

    topics_: list[Topic]

    def __init__(
        self,
        *,
        min_size: int = 3,
        n_topics: int | None = None,
        cluster_model: ClusterModel | None = None,
        vectorizer: TopicVectorizer | None = None,
        by_company: bool = True,
        random_state: int = 0,
    ) -> None:
        self.min_size = min_size
        self.n_topics = n_topics
        self.cluster_model = cluster_model
        self.vectorizer = vectorizer
        self.by_company = by_company
        self.random_state = random_state

    # -- fitting -----------------------------------------------------------------------------------
    def _cluster_model(self) -> ClusterModel:
        if self.cluster_model is not None:
            return clone(self.cluster_model)
        if self.n_topics is not None:
            return CosineAverageLinkage(n_clusters=self.n_topics, random_state=self.random_state)
        return KnnGraphCommunities(random_state=self.random_state)

    def _clusters(self, matrix: sp.csr_matrix, companies: list[str | None]) -> np.ndarray:
        labels = np.full(matrix.shape[0], OUTLIER)
        has_content = np.asarray(matrix.getnnz(axis=1)).ravel() > 0
        split = self.by_company and self.n_topics is None
        groups: dict[str | None, list[int]] = {}
        for i, company in enumerate(companies):
            if has_content[i]:
                groups.setdefault(company if split else None, []).append(i)
        offset = 0
        for key in sorted(groups, key=lambda k: (k is None, k or "")):
            rows = np.asarray(groups[key])
            if len(rows) < max(self.min_size, 2):
                continue
            found = self._cluster_model().fit_predict(matrix[rows])
            labels[rows] = np.where(found >= 0, found + offset, OUTLIER)
            offset += int(found.max()) + 1 if (found >= 0).any() else 0
        counts = Counter(labels.tolist())
        return np.array([c if c >= 0 and counts[c] >= self.min_size else OUTLIER for c in labels.tolist()])

    def fit(
        self,
        processed: list[ProcessedText],
        y: object = None,
        *,
        companies: list[str | None] | None = None,
        previous: TopicModel | None = None,
        intents: tuple[str, ...] | None = None,
    ) -> TopicModel:
        """Find the topics of `processed`; with `previous`, keep the ids of its topics that still exist.

        `intents` are those the messages were chosen by (None: every intent), kept as `intents_` so that a
        saved model gives a topic to messages of those intents only.
        """
        self.intents_ = tuple(intents) if intents is not None else None
        companies = list(companies) if companies is not None else [None] * len(processed)
        processed = without_brand(processed, companies)
        self.vectorizer_ = clone(self.vectorizer) if self.vectorizer is not None else TopicVectorizer()
        self.vectorizer_.fit(processed)
        matrix = self.vectorizer_.transform(processed)
        clusters = self._clusters(matrix, companies)
        # Biggest topic first; ties by first message, so the same input gives the same ids.
        order = sorted(
            {c for c in clusters.tolist() if c >= 0},
            key=lambda c: (-int((clusters == c).sum()), int(np.argmax(clusters == c))),
        )
        ids = self._ids(order, clusters, processed, companies, previous)
        terms = self.vectorizer_.terms(processed)
        key_terms = class_tfidf(terms, clusters.tolist())
        topics: list[Topic] = []
        centroids = []
        floors = []
        for cluster in order:
            rows = np.flatnonzero(clusters == cluster)
            centroid = sp.csr_matrix(matrix[rows].mean(axis=0))
            similarity = np.asarray((matrix[rows] @ centroid.T).todense()).ravel()
            centroids.append(centroid)
            # A new message joins when it is as close as the outer members (10th percentile) are.
            floors.append(float(np.percentile(similarity, 10)))
            representatives: list[str] = []
            for row in rows[np.argsort(-similarity, kind="stable")]:
                if processed[row].masked not in representatives:
                    representatives.append(processed[row].masked)
                if len(representatives) == N_REPRESENTATIVES:
                    break
            company_counts = Counter(companies[r] for r in rows)
            company, count = company_counts.most_common(1)[0]
            company = company if count == len(rows) else None
            # A brand's own name is in all its topics and says nothing about any one of them.
            best = [term for term, _ in key_terms.get(cluster, []) if not _names_brand(term, company)][:N_KEY_TERMS]
            if not best:  # no term shared by two members: the best single message's words name it
                best = self.vectorizer_.terms([processed[rows[int(np.argmax(similarity))]]])[0][:N_KEY_TERMS]
            topics.append(
                Topic(
                    id=ids[cluster],
                    label=short_label(best) or f"topic {ids[cluster]}",
                    key_terms=best,
                    size=len(rows),
                    representatives=representatives,
                    company=company,
                    new=previous is not None and ids[cluster] not in previous.topic_ids(),
                )
            )
        if previous is not None:
            kept = {t.id for t in topics}
            old_topics: list[Topic] = previous.topics_
            for old in old_topics:
                if old.id not in kept:
                    # Without its old messages: this archive may be another one, and they are not in it.
                    topics.append(
                        Topic(**{**asdict(old), "size": 0, "stale": True, "new": False, "representatives": []})
                    )
        self.topics_ = topics
        self.labels_ = [ids[c] if c >= 0 else None for c in clusters.tolist()]
        n_features = matrix.shape[1]
        self.centroids_ = sp.vstack(centroids, format="csr") if centroids else sp.csr_matrix((0, n_features))
        self.floors_ = np.asarray(floors)
        return self

    def _ids(
        self,
        order: list[int],
        clusters: np.ndarray,
        processed: list[ProcessedText],
        companies: list[str | None],
        previous: TopicModel | None,
    ) -> dict[int, str]:
        """Topic ids: a cluster keeps an old topic's id when most of its members that the old model places at
        all (over half) fall in that topic, and they are at least a third of the cluster; the old model leaves
        a topic's outer members unassigned, which must not make a grown topic new."""
        ids: dict[int, str] = {}
        next_number = 1
        if previous is not None:
            old = np.array(previous.predict(processed, companies=companies), dtype=object)
            pairs = []
            for cluster in order:
                members = old[clusters == cluster]
                placed = Counter(m for m in members if m is not None)
                for old_id, count in placed.items():
                    if count * 2 > placed.total() and count * 3 >= len(members):
                        pairs.append((-count, cluster, old_id))
            taken: set[str] = set()
            for _, cluster, old_id in sorted(pairs, key=lambda p: (p[0], order.index(p[1]))):
                if cluster not in ids and old_id not in taken:
                    ids[cluster] = old_id
                    taken.add(old_id)
            next_number = max((_number(t.id) for t in previous.topics_), default=0) + 1
        for cluster in order:
            if cluster not in ids:
                ids[cluster] = topic_id(next_number)
                next_number += 1
        return ids

    # -- use ---------------------------------------------------------------------------------------
    def topic_ids(self) -> list[str]:
        check_is_fitted(self, "topics_")
        return [t.id for t in self.topics_]

    def active_topics(self) -> list[Topic]:
        """The topics that are not stale, in the order of `centroids_`."""
        check_is_fitted(self, "topics_")
        return [t for t in self.topics_ if not t.stale]

    def labels(self) -> dict[str, str]:
        return {t.id: t.label for t in self.topics_}

    def predict(self, processed: list[ProcessedText], *, companies: list[str | None] | None = None) -> list[str | None]:
        """The topic id of each message, or None when it is not close enough to any topic."""
        check_is_fitted(self, "centroids_")
        active = self.active_topics()
        if not processed or not active:
            return [None] * len(processed)
        processed = without_brand(processed, list(companies) if companies is not None else [None] * len(processed))
        similarity = np.asarray((self.vectorizer_.transform(processed) @ self.centroids_.T).todense())
        topic_companies = [t.company for t in active]
        result: list[str | None] = []
        for i, row in enumerate(similarity):
            company = companies[i] if companies is not None else None
            if company is not None:
                # A brand's message is not put in a topic of another brand.
                row = np.where([c in (None, company) for c in topic_companies], row, -1.0)
            best = int(np.argmax(row))
            result.append(active[best].id if row[best] > 0 and row[best] >= self.floors_[best] else None)
        return result
