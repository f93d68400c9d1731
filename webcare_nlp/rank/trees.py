"""Boosted trees laid out flat, so that a few rows are scored in microseconds.

scikit-learn's `HistGradientBoostingClassifier.predict_proba` walks each tree in a call of its own with
an OpenMP region around it: about 12 us a tree whatever the number of rows, which is 1.2-2.4 ms for one
message's dozen candidate rows against a hundred trees. Here every tree is walked at once with numpy
gathers, one step of depth at a time, and the leaf values are added tree by tree in scikit-learn's
order, so the scores are its own to the bit (a test checks it). On thousands of rows (a batch) its
compiled walk is faster, and `scores` hands those to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.ensemble import HistGradientBoostingClassifier


@dataclass(frozen=True)
class FlatTrees:
    """The nodes of every tree in one array each; a node's children are indices into the same arrays.

    A leaf points to itself, so a walk that reaches it early stays there for the remaining steps.
    """

    feature: np.ndarray  # int: the column a node splits on
    threshold: np.ndarray  # float: go left when the value is <= this
    left: np.ndarray  # int
    right: np.ndarray  # int
    value: np.ndarray  # float: a leaf's contribution to the raw score
    roots: np.ndarray  # int: each tree's first node
    depth: int  # steps that take every walk to a leaf
    baseline: float

    @classmethod
    def from_booster(cls, booster: HistGradientBoostingClassifier) -> FlatTrees:
        if booster.n_trees_per_iteration_ != 1 or booster.is_categorical_ is not None:
            raise ValueError("FlatTrees takes a binary classifier on numeric features only.")
        parts = []
        offset = 0
        roots = []
        for (predictor,) in booster._predictors:
            nodes = predictor.nodes
            here = np.arange(len(nodes)) + offset
            leaf = nodes["is_leaf"].astype(bool)
            parts.append(
                (
                    np.where(leaf, 0, nodes["feature_idx"]),
                    np.where(leaf, np.inf, nodes["num_threshold"]),
                    np.where(leaf, here, nodes["left"] + offset),
                    np.where(leaf, here, nodes["right"] + offset),
                    np.where(leaf, nodes["value"], 0.0),
                    int(nodes["depth"].max()),
                )
            )
            roots.append(offset)
            offset += len(nodes)
        feature, threshold, left, right, value, depths = zip(*parts, strict=True)
        return cls(
            feature=np.concatenate(feature).astype(np.intp),
            threshold=np.concatenate(threshold).astype(float),
            left=np.concatenate(left).astype(np.intp),
            right=np.concatenate(right).astype(np.intp),
            value=np.concatenate(value).astype(float),
            roots=np.asarray(roots, dtype=np.intp),
            depth=max(depths),
            baseline=float(np.ravel(booster._baseline_prediction)[0]),
        )

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(class 1) of each row of X (finite features, in the columns the trees were fitted on)."""
        X = np.asarray(X, dtype=float)
        # Tree-major, so that each tree's leaf values lie together for the sum below.
        by_feature = np.ascontiguousarray(X.T).ravel()
        rows = np.arange(len(X))[None, :]
        node = np.repeat(self.roots[:, None], len(X), axis=1)
        offsets = self.feature * len(X)
        for _ in range(self.depth):
            go_left = np.take(by_feature, np.take(offsets, node) + rows) <= np.take(self.threshold, node)
            node = np.where(go_left, np.take(self.left, node), np.take(self.right, node))
        leaves = np.take(self.value, node)
        raw = np.full(len(X), self.baseline)
        for tree_leaves in leaves:  # tree by tree, as scikit-learn adds them
            raw += tree_leaves
        return np.asarray(expit(raw))


# Above this many rows scikit-learn's compiled walk beats the numpy one (54 against 77 ms on 12,000 rows).
COMPILED_FROM = 256


def scores(booster: HistGradientBoostingClassifier, flat: FlatTrees, X: np.ndarray) -> np.ndarray:
    """P(class 1) of each row by the faster walk for this many rows; both give the same numbers."""
    if len(X) > COMPILED_FROM:
        return np.asarray(booster.predict_proba(X)[:, 1])
    return flat.predict_proba(X)
