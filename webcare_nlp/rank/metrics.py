"""Ranking metrics over messages with a gold list: hit@k and mean reciprocal rank."""

from __future__ import annotations

from collections.abc import Sequence


def hit_at_k(ranked: Sequence[Sequence[str]], gold: Sequence[Sequence[str]], k: int = 3) -> float:
    """Share of messages with at least one gold id among the first k suggestions.

    Example:
        >>> hit_at_k([["a", "b"], ["c"]], [["b"], ["d"]], k=3)
        0.5
    """
    pairs = [(r, set(g)) for r, g in zip(ranked, gold, strict=True) if g]
    if not pairs:
        return float("nan")
    return sum(bool(set(r[:k]) & g) for r, g in pairs) / len(pairs)


def mean_reciprocal_rank(ranked: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> float:
    """Mean of 1 / rank of the first gold id (0 when none is suggested).

    Example:
        >>> mean_reciprocal_rank([["a", "b"], ["c"]], [["b"], ["c"]])
        0.75
    """
    total, count = 0.0, 0
    for r, g in zip(ranked, gold, strict=True):
        if not g:
            continue
        count += 1
        total += next((1.0 / (i + 1) for i, item in enumerate(r) if item in set(g)), 0.0)
    return total / count if count else float("nan")
