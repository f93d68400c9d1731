"""Learning the ranking weights and the abstention threshold by cross-validation over a reply history.

Each fold's messages are ranked against an index built without them, both with the rest of the history
and with none (as for a team's brand-new library), so the weights and the threshold hold in both cases.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from webcare_nlp.rank.index import FEATURES, KINDS, LibraryIndex, Query, shared_analysis
from webcare_nlp.rank.library import Article, Library, url_words
from webcare_nlp.rank.metrics import hit_at_k, mean_reciprocal_rank
from webcare_nlp.rank.ranker import Ranker, RankerSet

C_GRID = (0.1, 1.0, 10.0)
# How many of a message's best rows the trees reorder when that ranks the held-out history better
# (see `Ranker.rerank`): the 4 * top_k that suggestions choose from, at the default top 3.
RERANK = 12
# The trees cost about 50 us per message in a batch: they must buy at least this much held-out MRR.
MIN_RERANK_GAIN = 0.005
BASELINES = {"popularity": "popularity", "text": "char_sim"}


def sentiment_profile(messages: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """P(sentiment | intent) in labelled messages: what mood each kind of message usually comes in."""
    counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for message in messages:
        counts[message["intent"]][message["sentiment"]] += 1
    return {
        intent: {s: n / sum(by_sentiment.values()) for s, n in sorted(by_sentiment.items())}
        for intent, by_sentiment in sorted(counts.items())
    }


ALL_REGIMES = ("history", "no_history", "bare_links")
# Past messages with a sent item of a kind before a team's own weights are worth fitting.
MIN_OWN_HISTORY = 50


def _rows(
    library: Library,
    queries: Sequence[Query],
    profile: dict[str, dict[str, float]],
    *,
    folds: int,
    seed: int,
    regimes: Sequence[str] = ALL_REGIMES,
) -> dict[str, list[dict[str, Any]]]:
    """Out-of-fold candidate rows per kind: one group per (message, regime) with its gold mask."""
    with shared_analysis():
        return _rows_of(library, queries, profile, folds=folds, seed=seed, regimes=regimes)


def _rows_of(
    library: Library,
    queries: Sequence[Query],
    profile: dict[str, dict[str, float]],
    *,
    folds: int,
    seed: int,
    regimes: Sequence[str],
) -> dict[str, list[dict[str, Any]]]:
    order = np.random.default_rng(seed).permutation(len(library.history))
    fold_of = np.empty(len(order), dtype=int)
    fold_of[order] = np.arange(len(order)) % folds
    groups: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for fold in range(folds):
        test = np.flatnonzero(fold_of == fold)
        rest = [entry for i, entry in enumerate(library.history) if fold_of[i] != fold]
        # Three situations a team's library can be in: with a history, brand new (no history), and
        # a knowledge base exported as bare links (title from the url), where text says little and
        # what agents sent before must carry the ranking.
        for regime in regimes:
            if regime == "history":
                variant = replace(library, history=rest, warnings=[])
            elif regime == "no_history":
                variant = replace(library, history=[], warnings=[])
            else:
                bare = [
                    Article(url=a.url, title=url_words(a.url), company=a.company, lang=a.lang) for a in library.articles
                ]
                variant = replace(library, history=rest, articles=bare, warnings=[])
            index = LibraryIndex(variant)
            candidate_sets = index.features([queries[int(i)] for i in test], sentiment_profile=profile)
            for i, candidates in zip(test, candidate_sets, strict=True):
                used = set(library.history[i].used)
                for kind, cands in candidates.items():
                    if regime == "bare_links" and kind != "article":
                        continue
                    ids = [index.items[kind][j].id for j in cands.indices]
                    gold = np.array([item_id in used for item_id in ids])
                    if gold.any():
                        keep = _training_rows(cands.features, gold)
                        groups[kind].append(
                            {
                                "fold": fold,
                                "regime": regime,
                                "X": cands.features,
                                "y": gold,
                                "train": keep,
                                "ids": ids,
                                "gold": used,
                            }
                        )
    return groups


def _training_rows(features: np.ndarray, gold: np.ndarray, *, hard: int = 30) -> np.ndarray:
    """The positives and the hardest negatives (most similar text): the rows that shape the ranking.

    Fitting on every candidate of a 165-template library costs time and teaches little: the far-off
    negatives are easy.
    """
    closeness = features[:, FEATURES.index("word_sim")] + features[:, FEATURES.index("char_sim")]
    closeness = closeness + features[:, FEATURES.index("history_vote")]
    negatives = np.flatnonzero(~gold)
    hardest = negatives[np.argsort(-closeness[negatives], kind="stable")[:hard]]
    return np.sort(np.concatenate([np.flatnonzero(gold), hardest]))


def _fit(groups: list[dict[str, Any]], C: float, seed: int, rerank: int = 0) -> Ranker:
    return Ranker(C=C, rerank=rerank, random_state=seed).fit(
        np.vstack([g["X"][g["train"]] for g in groups]), np.concatenate([g["y"][g["train"]] for g in groups])
    )


def _ranked(groups: list[dict[str, Any]], scores: list[np.ndarray]) -> list[list[str]]:
    return [[g["ids"][j] for j in np.argsort(-s, kind="stable")] for g, s in zip(groups, scores, strict=True)]


def _metrics(groups: list[dict[str, Any]], scores: list[np.ndarray]) -> dict[str, float]:
    ranked = _ranked(groups, scores)
    gold = [sorted(g["gold"]) for g in groups]
    return {
        "hit@1": round(hit_at_k(ranked, gold, 1), 4),
        "hit@3": round(hit_at_k(ranked, gold, 3), 4),
        "mrr": round(mean_reciprocal_rank(ranked, gold), 4),
        "messages": len(groups),
    }


def _out_of_fold(groups: list[dict[str, Any]], C: float, folds: int, seed: int, rerank: int = 0) -> list[np.ndarray]:
    scores: list[np.ndarray] = [np.empty(0)] * len(groups)
    for fold in range(folds):
        ranker = _fit([g for g in groups if g["fold"] != fold], C, seed, rerank)
        for i, g in enumerate(groups):
            if g["fold"] == fold:
                scores[i] = ranker.score_rows(g["X"])
    return scores


def abstention_threshold(top_scores: np.ndarray, hits: np.ndarray) -> float:
    """The score below which suggestions are more often wrong than right (held-out top-3 hits).

    Example:
        >>> abstention_threshold(np.array([0.9, 0.8, 0.3, 0.2]), np.array([1, 1, 0, 0]))
        0.8
    """
    order = np.argsort(-top_scores, kind="stable")
    gain = np.cumsum(hits[order] - 0.5)
    best = int(np.argmax(gain))
    return float(top_scores[order][best]) if gain[best] > 0 else float(top_scores.max()) + 1e-9


def fit_rankers(
    library: Library,
    queries: Sequence[Query],
    *,
    labelled: Sequence[dict[str, Any]],
    folds: int = 5,
    seed: int = 0,
) -> RankerSet:
    """Cross-validate the ranker on `library.history` (queries aligned with it) and fit it on all.

    Args:
        library: templates, articles and the history whose `used` lists are the gold.
        queries: what the label models say of each history message, in history order.
        labelled: labelled messages, for the sentiment profile of each intent.
        folds: cross-validation folds over the history messages.
        seed: the seed of the fold split and the solver.
    """
    profile = sentiment_profile(labelled)
    groups = _rows(library, queries, profile, folds=folds, seed=seed)
    rankers: dict[str, Ranker] = {}
    report: dict[str, Any] = {"folds": folds, "history_messages": len(library.history), "kinds": {}}
    for kind, kind_groups in groups.items():
        if not kind_groups:
            continue
        by_c = {C: _out_of_fold(kind_groups, C, folds, seed) for C in C_GRID}
        best_c = max(C_GRID, key=lambda C: (_metrics(kind_groups, by_c[C])["mrr"], -C))
        # The trees reorder the best rows of the chosen C's model only where that ranks held-out messages better.
        reranked = _out_of_fold(kind_groups, best_c, folds, seed, RERANK)
        mrr = {0: _metrics(kind_groups, by_c[best_c])["mrr"], RERANK: _metrics(kind_groups, reranked)["mrr"]}
        rerank = RERANK if mrr[RERANK] >= mrr[0] + MIN_RERANK_GAIN else 0
        scores = reranked if rerank else by_c[best_c]
        ranked = _ranked(kind_groups, scores)
        hits = np.array([bool(set(r[:3]) & g["gold"]) for r, g in zip(ranked, kind_groups, strict=True)], dtype=float)
        # A message with similar past messages scores higher than one without, so each case gets its own bar.
        thresholds = {}
        for regime in ("history", "no_history"):
            picked = [i for i, g in enumerate(kind_groups) if g["regime"] == regime]
            thresholds[regime] = abstention_threshold(np.array([scores[i].max() for i in picked]), hits[picked])
        kind_report: dict[str, Any] = {
            "C": best_c,
            "rerank": rerank,
            "mrr_by_rerank": {str(k): v for k, v in mrr.items()},
            "thresholds": {k: round(v, 4) for k, v in thresholds.items()},
        }
        for regime in sorted({g["regime"] for g in kind_groups}):
            picked = [i for i, g in enumerate(kind_groups) if g["regime"] == regime]
            sub = [kind_groups[i] for i in picked]
            kind_report[regime] = _metrics(sub, [scores[i] for i in picked])
            answered = [i for i in picked if scores[i].max() >= thresholds.get(regime, thresholds["history"])]
            kind_report[regime]["answered"] = round(len(answered) / len(picked), 4)
            kind_report[regime]["hit@3_answered"] = round(float(hits[answered].mean()) if answered else float("nan"), 4)
            for name, feature in BASELINES.items():
                column = FEATURES.index(feature)
                kind_report[regime][f"baseline_{name}"] = _metrics(sub, [g["X"][:, column] for g in sub])
        ranker = _fit(kind_groups, best_c, seed, rerank).set_params(
            threshold=thresholds["history"], cold_threshold=thresholds["no_history"]
        )
        kind_report["weights"] = ranker.weights()
        rankers[kind] = ranker
        report["kinds"][kind] = kind_report
    return RankerSet(rankers=rankers, sentiment_profile=profile, report=report)


def adapt_rankers(
    library: Library, queries: Sequence[Query], shipped: RankerSet, *, folds: int = 5, seed: int = 0
) -> RankerSet:
    """The shipped rankers, re-weighted on a team's own reply history where that ranks it better.

    Each kind with at least MIN_OWN_HISTORY past messages is ranked out of fold (every fold against an
    index built without it) by the shipped weights and by weights fitted on the other folds. The better
    by MRR is kept, and its abstention threshold is set from the same held-out ranking, so the bar fits
    this library's size and score scale. Only `library.history` is used: nothing of the messages that
    will be ranked later.

    Args:
        library: the team's templates, articles and history (the gold is each past message's `used`).
        queries: what the label models say of each history message, in history order.
        shipped: the rankers that came with the model.
        folds: cross-validation folds over the history.
        seed: the seed of the fold split and the solver.
    """
    groups = _rows(library, queries, shipped.sentiment_profile, folds=folds, seed=seed, regimes=("history",))
    rankers = dict(shipped.rankers)
    report: dict[str, Any] = {"folds": folds, "history_messages": len(library.history), "kinds": {}}
    for kind, kind_groups in groups.items():
        if kind not in shipped.rankers or len(kind_groups) < MIN_OWN_HISTORY:
            continue
        options = {"shipped": [shipped.rankers[kind].score_rows(g["X"]) for g in kind_groups]}
        fits = {f"own C={C}": (C, 0) for C in C_GRID}
        options.update({name: _out_of_fold(kind_groups, C, folds, seed) for name, (C, _) in fits.items()})
        measured = {name: _metrics(kind_groups, scores) for name, scores in options.items()}
        # The trees only on top of the best own C, as in `fit_rankers`: five more fits, not fifteen.
        own_c = max(C_GRID, key=lambda C: (measured[f"own C={C}"]["mrr"], -C))
        reranked = f"own C={own_c}, reranked"
        fits[reranked] = (own_c, RERANK)
        options[reranked] = _out_of_fold(kind_groups, own_c, folds, seed, RERANK)
        measured[reranked] = _metrics(kind_groups, options[reranked])
        worth = measured[reranked]["mrr"] >= measured[f"own C={own_c}"]["mrr"] + MIN_RERANK_GAIN
        best = max(
            (name for name in options if name != reranked or worth),
            key=lambda name: (measured[name]["mrr"], name == "shipped"),
        )
        ranked = _ranked(kind_groups, options[best])
        hits = np.array([bool(set(r[:3]) & g["gold"]) for r, g in zip(ranked, kind_groups, strict=True)], dtype=float)
        threshold = abstention_threshold(np.array([s.max() for s in options[best]]), hits)
        if best == "shipped":
            ranker = copy.copy(shipped.rankers[kind])
        else:
            C, rerank = fits[best]
            ranker = _fit(kind_groups, C, seed, rerank)
        rankers[kind] = ranker.set_params(threshold=threshold, cold_threshold=threshold)
        report["kinds"][kind] = {
            "chosen": best,
            "threshold": round(threshold, 4),
            **{k: v for k, v in measured.items()},
        }
    return RankerSet(rankers=rankers, sentiment_profile=shipped.sentiment_profile, report=report)
