"""Clustering models for topics: a small base class, communities of a nearest-neighbour graph (the default),
cosine average linkage, and any scikit-learn clusterer."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.cluster import AgglomerativeClustering, MiniBatchKMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.preprocessing import normalize

OUTLIER = -1


def _dense(matrix: Any) -> np.ndarray:
    return np.asarray(matrix.toarray() if sp.issparse(matrix) else matrix)


class ClusterModel(BaseEstimator):
    """The interface every topic clustering model has (as in BERTopic's cluster base).

    `fit(X)` takes L2-normalised rows and sets `labels_`: one cluster number per row, or -1
    (`OUTLIER`) for a row that belongs to no cluster.
    """

    def fit(self, X: Any, y: object = None) -> ClusterModel:
        raise NotImplementedError

    def fit_predict(self, X: Any, y: object = None) -> np.ndarray:
        return np.asarray(self.fit(X).labels_)


def _micro_clusters(X: Any, n_micro: int, random_state: int) -> tuple[np.ndarray, Any]:
    """Each row's micro-cluster (MiniBatchKMeans on an SVD projection) and the micro-clusters' mean rows."""
    n = X.shape[0]
    n_components = min(100, X.shape[1] - 1)
    reduced = normalize(TruncatedSVD(n_components, random_state=random_state).fit_transform(X))
    micro = MiniBatchKMeans(n_clusters=n_micro, random_state=random_state, n_init=1, batch_size=4096).fit_predict(
        reduced
    )
    used, micro = np.unique(micro, return_inverse=True)
    members = sp.csr_matrix((np.ones(n, dtype=np.float32), (micro, np.arange(n))), shape=(len(used), n))
    counts = np.asarray(members.sum(axis=1)).ravel()
    return micro, sp.diags(1.0 / counts) @ members @ X


def _distinct_rows(X: Any) -> tuple[np.ndarray, np.ndarray]:
    """The index of each distinct row's first occurrence, and for every row the number of its distinct row."""
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        X.sort_indices()
        keys: list[Any] = [
            (X.indices[start:end].tobytes(), X.data[start:end].tobytes())
            for start, end in zip(X.indptr[:-1], X.indptr[1:], strict=True)
        ]
    else:
        keys = [row.tobytes() for row in np.ascontiguousarray(X)]
    seen: dict[Any, int] = {}
    first: list[int] = []
    copies = np.empty(len(keys), dtype=int)
    for i, key in enumerate(keys):
        if key not in seen:
            seen[key] = len(first)
            first.append(i)
        copies[i] = seen[key]
    return np.asarray(first, dtype=int), copies


class CosineAverageLinkage(ClusterModel):
    """Agglomerative clustering, average linkage on cosine distance, cut at a distance threshold.

    The threshold is a property of the features, not of the archive size, so the number of topics
    follows from the data. Above `max_exact` rows the full distance matrix no longer fits in memory:
    the rows are first grouped into micro-clusters (MiniBatchKMeans on an SVD projection), and the
    micro-clusters are linked with the average cosine similarity of their members (the dot product
    of their mean vectors), which is what average linkage computes.

    Args:
        distance_threshold: merge while the average cosine distance between two groups is below it.
        n_clusters: a fixed number of clusters instead of the threshold.
        max_exact: largest number of rows clustered exactly.
        random_state: seed of the micro-clustering.
    """

    def __init__(
        self,
        *,
        distance_threshold: float = 0.9,
        n_clusters: int | None = None,
        max_exact: int = 4000,
        random_state: int = 0,
    ) -> None:
        self.distance_threshold = distance_threshold
        self.n_clusters = n_clusters
        self.max_exact = max_exact
        self.random_state = random_state

    def _link(self, similarity: np.ndarray) -> np.ndarray:
        distance = np.clip(1.0 - similarity, 0.0, 2.0)
        np.fill_diagonal(distance, 0.0)
        n = distance.shape[0]
        if n < 2:
            return np.zeros(n, dtype=int)
        if self.n_clusters is not None:
            model = AgglomerativeClustering(n_clusters=min(self.n_clusters, n), metric="precomputed", linkage="average")
        else:
            model = AgglomerativeClustering(
                n_clusters=None, distance_threshold=self.distance_threshold, metric="precomputed", linkage="average"
            )
        return np.asarray(model.fit_predict(distance))

    def fit(self, X: Any, y: object = None) -> CosineAverageLinkage:
        n = X.shape[0]
        if n <= self.max_exact:
            self.labels_ = self._link(_dense(X @ X.T))
            return self
        micro, means = _micro_clusters(X, self.max_exact // 2, self.random_state)
        similarity = _dense(means @ means.T)
        # A micro-cluster's own average similarity is below 1: keep the diagonal out of the linkage.
        self.labels_ = self._link(similarity)[micro]
        return self


class KnnGraphCommunities(ClusterModel):
    """Louvain communities of the cosine k-nearest-neighbour graph, as single-cell and short-text pipelines do.

    Each row is linked to its `n_neighbors` most similar rows (cosine, positive only) and the graph is cut
    into communities by modularity (networkx's Louvain). Unlike one distance threshold for a whole
    dendrogram, this follows the local density: a topic is a group whose members are each other's
    neighbours, however many words they share with the rest. Modularity prefers fewer, larger groups as
    the graph grows, so the resolution grows with the number of rows: `resolution` at `reference_size`
    rows, more above, but less than in proportion, since a bigger archive has more topics and bigger
    ones (a proportional growth, as the constant Potts model has, keeps the topic size fixed).
    Rows with no similar neighbour stay alone (outliers after `min_size`).

    Above `max_exact` rows the rows are first grouped into micro-clusters (MiniBatchKMeans on an SVD
    projection), whose mean vectors are the graph's nodes.

    Args:
        n_neighbors: neighbours per row in the graph.
        resolution: Louvain resolution for an archive of `reference_size` rows (or fewer).
        reference_size: rows at which `resolution` holds; 31 is the corpus's average number of FAQ
            messages per company, where 0.7 and 10 neighbours were chosen (benchmarks/topics_eval.py).
        size_exponent: the resolution grows as (rows / reference_size) ** size_exponent: 1 keeps the
            typical topic size fixed however large the archive, 0 keeps the resolution constant. 0.4 was
            chosen on the corpus's four FAQ archives of one company each (186-238 rows, a few big topics and
            many small ones), their sector held out of the learned topic space: mean ARI 0.157, 0.236, 0.261,
            0.278, 0.284 and 0.279 for 1, 0.6, 0.5, 0.4, 0.3 and 0.2; of the plateau 0.2-0.4 it keeps the
            most NMI (0.465 against 0.444 and 0.410), and finds 10-13 topics where the archives have 9-10.
            The small per-company archives (31 rows or fewer) are unchanged. With four more archives in
            the corpus 0.4 stayed the best of the eight (mean ARI 0.265; 0.3 0.252, 0.5 0.235).
            `python -m benchmarks.topics_eval` prints the comparison.
        max_exact: largest number of rows linked exactly.
        random_state: seed of Louvain and of the micro-clustering.

    Example:
        >>> import numpy as np
        >>> rows = np.array([[1, 0], [0.9, 0.1], [0.95, 0.05], [0, 1], [0.1, 0.9], [0.05, 0.95]])
        >>> KnnGraphCommunities(n_neighbors=2).fit_predict(rows / np.linalg.norm(rows, axis=1, keepdims=True))
        array([0, 0, 0, 1, 1, 1])
    """

    def __init__(
        self,
        *,
        n_neighbors: int = 10,
        resolution: float = 0.7,
        reference_size: int = 31,
        size_exponent: float = 0.4,
        max_exact: int = 4000,
        random_state: int = 0,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.resolution = resolution
        self.reference_size = reference_size
        self.size_exponent = size_exponent
        self.max_exact = max_exact
        self.random_state = random_state

    def _communities(self, similarity: np.ndarray) -> np.ndarray:
        import networkx as nx

        n = similarity.shape[0]
        if n < 2:
            return np.zeros(n, dtype=int)
        similarity = similarity.copy()
        np.fill_diagonal(similarity, -np.inf)
        k = min(self.n_neighbors, n - 1)
        neighbours = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        rows = np.repeat(np.arange(n), k)
        cols = neighbours.ravel()
        weights = similarity[rows, cols]
        keep = weights > 0
        graph = sp.coo_matrix((weights[keep], (rows[keep], cols[keep])), shape=(n, n)).tocsr()
        graph = graph.maximum(graph.T)  # an edge when either row counts the other among its neighbours
        resolution = self.resolution * max(1.0, n / self.reference_size) ** self.size_exponent
        communities = nx.community.louvain_communities(
            nx.from_scipy_sparse_array(graph), weight="weight", resolution=resolution, seed=self.random_state
        )
        labels = np.empty(n, dtype=int)
        # Numbered by their first row, so the numbering does not depend on set order.
        for number, members in enumerate(sorted(communities, key=min)):
            labels[list(members)] = number
        return labels

    def fit(self, X: Any, y: object = None) -> KnnGraphCommunities:
        # Copies of one text (retweets, pasted complaints) would be each other's only neighbours and
        # form a community of their own: the graph is built over the distinct rows.
        first, copies = _distinct_rows(X)
        X = X[first]
        if X.shape[0] <= self.max_exact:
            self.labels_ = self._communities(_dense(X @ X.T))[copies]
            return self
        micro, means = _micro_clusters(X, self.max_exact // 2, self.random_state)
        self.labels_ = self._communities(_dense(means @ means.T))[micro][copies]
        return self


class SklearnClusters(ClusterModel):
    """Any scikit-learn clusterer (HDBSCAN, KMeans, AgglomerativeClustering...) as a topic model.

    Args:
        estimator: an unfitted clusterer with `fit_predict`; noise label -1 means outlier.
        n_components: SVD dimensions to project the sparse rows on first (None: dense rows as given).
        random_state: seed of the SVD.

    Example:
        >>> from sklearn.cluster import HDBSCAN
        >>> model = SklearnClusters(HDBSCAN(min_cluster_size=3))
    """

    def __init__(self, estimator: Any, *, n_components: int | None = 100, random_state: int = 0) -> None:
        self.estimator = estimator
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X: Any, y: object = None) -> SklearnClusters:
        rows = X
        if self.n_components is not None and sp.issparse(X) and min(X.shape) > 2:
            n_components = min(self.n_components, X.shape[1] - 1, X.shape[0] - 1)
            rows = normalize(TruncatedSVD(n_components, random_state=self.random_state).fit_transform(X))
        estimator = clone(self.estimator)
        n_clusters = getattr(estimator, "n_clusters", None)
        if isinstance(n_clusters, int) and n_clusters > X.shape[0]:
            estimator.set_params(n_clusters=X.shape[0])
        self.labels_ = np.asarray(estimator.fit_predict(_dense(rows)))
        return self


CLUSTERERS = ("graph", "linkage", "hdbscan", "kmeans")


def make_cluster_model(
    name: str, *, min_size: int = 3, n_topics: int | None = None, random_state: int = 0
) -> ClusterModel:
    """The clustering model of a name: "graph" (the default), "linkage", "hdbscan" or "kmeans" (needs n_topics).

    A fixed number of topics (`n_topics`) is something Louvain cannot be told, so "graph" with it is
    average linkage cut at that number.

    Example:
        >>> make_cluster_model("hdbscan", min_size=5).estimator.min_cluster_size
        5
    """
    from sklearn.cluster import HDBSCAN, KMeans

    from webcare_nlp.errors import InputError

    if name == "graph" and n_topics is None:
        return KnnGraphCommunities(random_state=random_state)
    if name in ("graph", "linkage"):
        return CosineAverageLinkage(n_clusters=n_topics, random_state=random_state)
    if name == "hdbscan":
        return SklearnClusters(HDBSCAN(min_cluster_size=min_size, copy=True), random_state=random_state)
    if name == "kmeans":
        if n_topics is None:
            raise InputError("KMeans cannot find the number of topics itself: give --n-topics with --clusterer kmeans.")
        return SklearnClusters(KMeans(n_clusters=n_topics, n_init=3, random_state=random_state))
    raise InputError(f"Unknown clusterer {name!r}; use one of: {', '.join(CLUSTERERS)}.")
