"""Ranking metrics for the relevance harness (pure functions).

`ranked` is a list of document ids, best first; `qrels` maps a relevant
document id to its grade. Gains are graded: 2**grade - 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def dcg(gains: Sequence[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """Normalised discounted cumulative gain at k, with gains 2**grade - 1."""
    ideal = sorted((2**g - 1 for g in qrels.values() if g > 0), reverse=True)[:k]
    best = dcg(ideal)
    if best == 0:
        return 0.0
    gains = [2 ** qrels.get(doc, 0) - 1 for doc in ranked[:k]]
    return dcg(gains) / best


def mrr_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """Reciprocal rank of the first relevant document within the top k."""
    for i, doc in enumerate(ranked[:k]):
        if qrels.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def recall_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents found in the top k."""
    relevant = {doc for doc, g in qrels.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


METRIC_NAMES = ("nDCG@10", "nDCG@20", "MRR@10", "R@100")


def score_run(
    run: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]
) -> dict[str, float]:
    """Mean of each metric over the queries that have relevance judgements."""
    judged = [q for q in qrels if any(g > 0 for g in qrels[q].values())]
    totals = dict.fromkeys(METRIC_NAMES, 0.0)
    for q in judged:
        ranked, rel = run.get(q, []), qrels[q]
        totals["nDCG@10"] += ndcg_at_k(ranked, rel, 10)
        totals["nDCG@20"] += ndcg_at_k(ranked, rel, 20)
        totals["MRR@10"] += mrr_at_k(ranked, rel, 10)
        totals["R@100"] += recall_at_k(ranked, rel, 100)
    n = len(judged)
    return {name: (value / n if n else 0.0) for name, value in totals.items()} | {"n": n}


def format_line(mode: str, scores: Mapping[str, float]) -> str:
    """`MODE nDCG@10=0.xxx nDCG@20=0.xxx MRR@10=0.xxx R@100=0.xxx n=Q`."""
    body = " ".join(f"{name}={scores[name]:.3f}" for name in METRIC_NAMES)
    return f"{mode} {body} n={int(scores['n'])}"


REC_METRIC_NAMES = ("nDCG@10", "MRR@10", "R@100")


def format_rec_line(mode: str, scores: Mapping[str, float]) -> str:
    """`MODE nDCG@10=0.xxx MRR@10=0.xxx R@100=0.xxx n=U` (the eval-rec line)."""
    body = " ".join(f"{name}={scores[name]:.3f}" for name in REC_METRIC_NAMES)
    return f"{mode} {body} n={int(scores['n'])}"
