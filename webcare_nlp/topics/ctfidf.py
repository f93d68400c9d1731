"""Topic labels: class-based TF-IDF key terms (as in BERTopic), a short label and representative messages."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import numpy as np


def label_terms(terms: list[str]) -> list[str]:
    """Content lemmas plus pairs of neighbouring ones: "koffer kwijt" reads better than "koffer"."""
    return terms + [f"{a} {b}" for a, b in pairwise(terms) if a != b]


def class_tfidf(documents: list[list[str]], classes: list[int]) -> dict[int, list[tuple[str, float]]]:
    """Key terms per class, best first: tf of the term in the class times log(1 + A / f_term).

    `documents` are the terms of each message, `classes` its class (-1 is left out); A is the
    average number of terms per class and f_term the term's frequency over all classes. A term must
    occur in at least two messages of a class to count, so one message's wording never names a topic.

    Example:
        >>> docs = [["koffer", "kwijt"], ["koffer", "zoek"], ["app", "storing"], ["app", "inloggen"]]
        >>> class_tfidf(docs, [0, 0, 1, 1])[1][0][0]
        'app'
    """
    per_class: dict[int, Counter[str]] = {}
    doc_freq: dict[int, Counter[str]] = {}
    for terms, cls in zip(documents, classes, strict=True):
        if cls < 0:
            continue
        grams = label_terms(terms)
        per_class.setdefault(cls, Counter()).update(grams)
        doc_freq.setdefault(cls, Counter()).update(set(grams))
    total: Counter[str] = Counter()
    for counts in per_class.values():
        total.update(counts)
    if not per_class:
        return {}
    average = sum(total.values()) / len(per_class)
    result: dict[int, list[tuple[str, float]]] = {}
    for cls, counts in per_class.items():
        size = sum(counts.values()) or 1
        min_docs = 2 if max(doc_freq[cls].values(), default=0) >= 2 else 1
        scored = [
            (term, count / size * float(np.log1p(average / total[term])))
            for term, count in counts.items()
            if doc_freq[cls][term] >= min_docs
        ]
        # Ties broken by the term itself, so the same input always gives the same label.
        result[cls] = sorted(scored, key=lambda item: (-item[1], item[0]))
    return result


def short_label(key_terms: list[str]) -> str:
    """A short readable label from the key terms: the best bigram, or the two best single terms.

    Example:
        >>> short_label(["koffer", "koffer kwijt", "dossiernummer"])
        'koffer kwijt'
        >>> short_label(["app", "inloggen", "app inloggen"])
        'app inloggen'
        >>> short_label(["storing", "internet", "modem"])
        'storing, internet'
    """
    if not key_terms:
        return ""
    first = key_terms[0]
    # A bigram among the top terms that contains the best term is more readable than the term alone.
    for term in key_terms[1:4]:
        if " " in term and (" " in first or first in term.split()):
            return term if " " not in first else first
    if " " in first:
        return first
    second = next((t for t in key_terms[1:] if " " not in t and t != first), None)
    return f"{first}, {second}" if second else first
