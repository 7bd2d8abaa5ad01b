"""Fusing keyword and semantic rankings (pure functions).

Reciprocal-rank fusion throws away how *confident* each ranker is, so a weak
dense ranking drags a strong BM25 ranking down (0.578 vs 0.851 on
keywords-dev). Instead we use a convex combination of normalised scores whose
keyword weight adapts to the query:

* Short queries (a few keywords, a title, a name) are what BM25 is good at:
  exact rare words identify the paper. Long descriptive queries and
  query-by-example (a whole abstract) share many common words with many
  papers, where BM25 scores flatten out and the dense model's notion of topic
  is the better signal.
* The weight therefore moves from `SHORT_WEIGHT` at `SHORT_TERMS` words to
  `LONG_WEIGHT` at `LONG_TERMS` words, linearly in log(length).

Scores are normalised per query: BM25 by the best BM25 score (so 1.0 is the
best keyword match, 0.0 is "no keyword match"), cosine by min-max over the
candidates (the best and the worst candidate anchor the scale).

The shares were measured on every dev set with benchmarks/bench_eval_fusion.py
(typed queries, the product's own pools) and benchmarks/bench_rec_fusion.py
(query-by-example); benchmarks/RESULTS.md, "Issue 13: a dev set where dense wins".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Short keyword/known-item queries (keywords-dev): any keyword share below ~0.9 costs
# nDCG@10 (bench_fusion.py, RESULTS.md "## Search").
SHORT_TERMS = 8
LONG_TERMS = 60
SHORT_WEIGHT = 0.9
# A typed or pasted abstract (60+ words): on the topic-graded query-by-example dev sets
# (benchmarks/build_dense_dev.py, where dense beats BM25 by 0.04-0.05 nDCG@20) every share
# above 0.2 fell below semantic alone and 0.5 below naive RRF (-0.003 to -0.005); 0.15 is
# within 0.003 of semantic on all three and above naive RRF, and moves nothing on
# keywords-dev and on the natural-language summary queries.
LONG_WEIGHT = 0.15


@dataclass(frozen=True, slots=True)
class FusedScore:
    paper_id: str
    score: float
    keyword: float | None
    semantic: float | None


def keyword_weight(n_terms: int) -> float:
    """The share of the keyword score in the fused score for a query of n words."""
    if n_terms <= SHORT_TERMS:
        return SHORT_WEIGHT
    if n_terms >= LONG_TERMS:
        return LONG_WEIGHT
    t = (math.log(n_terms) - math.log(SHORT_TERMS)) / (math.log(LONG_TERMS) - math.log(SHORT_TERMS))
    return SHORT_WEIGHT + t * (LONG_WEIGHT - SHORT_WEIGHT)


# Query-by-example from stored papers (`more_like`: similar papers, a reader's library,
# eval-rec). Measured on rec-dev (relevant = the same authors' later papers) with
# benchmarks/bench_rec_fusion.py: with K=1 and K=5 library papers shares 0.5-0.7 are the
# best convex rules, at least as good as keyword alone and naive RRF, and shares of 0.3 or
# less fall below keyword alone (-0.006 at K=1, -0.008 at K=5). On the topic-graded sets
# (`bench_eval_fusion.py --by-example`) dense wins, and 0.5 is 0.007-0.015 below it and
# up to 0.005 below naive RRF; only shares of 0.3 or less keep up there. The two notions
# of "like this paper" disagree, and no property of the query told them apart (RESULTS.md).
# 0.5 keeps the requirement on rec-dev K=1 (hybrid >= the better single mode).
EXAMPLE_WEIGHT = 0.5


def example_keyword_share(embedded_share: float) -> float:
    """The keyword share for query-by-example when `embedded_share` of the papers have vectors.

    With every paper embedded it is EXAMPLE_WEIGHT; with few embedded the dense side can
    only speak for those few, so its share shrinks in proportion (2% embedded: ~99% keyword).
    """
    c = min(1.0, max(0.0, embedded_share))
    return 1.0 - (1.0 - EXAMPLE_WEIGHT) * c


def normalize_max(scores: Mapping[str, float]) -> dict[str, float]:
    """Divide by the best score (scores >= 0); an empty or all-zero map stays as is."""
    best = max(scores.values(), default=0.0)
    if best <= 0:
        return {k: 0.0 for k in scores}
    return {k: max(0.0, v) / best for k, v in scores.items()}


def normalize_min_max(scores: Mapping[str, float]) -> dict[str, float]:
    """Map the worst score to 0 and the best to 1; equal scores all become 1."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo <= 1e-12:
        return dict.fromkeys(scores, 1.0)
    return {k: (v - lo) / (hi - lo) for k, v in scores.items()}


def fuse(
    keyword: Mapping[str, float],
    semantic: Mapping[str, float],
    *,
    keyword_share: float,
    limit: int | None = None,
) -> list[FusedScore]:
    """Convex combination of normalised scores over the union of candidates, best first
    (equal scores by paper id); only the best `limit` when given.

    `keyword` holds BM25-like scores (higher is better, >= 0) and `semantic`
    cosine similarities. A paper missing from `keyword` had no keyword match
    (0); a paper missing from `semantic` has no embedding yet and is ranked by
    its keyword score alone, so it is neither favoured nor buried.
    """
    if not 0.0 <= keyword_share <= 1.0:
        raise ValueError("keyword_share must be between 0 and 1")
    kw = normalize_max(keyword)
    sem = normalize_min_max(semantic)
    semantic_share = 1.0 - keyword_share
    scores = {}
    for paper_id in kw.keys() | sem.keys():
        k = kw.get(paper_id, 0.0)
        s = sem.get(paper_id)
        scores[paper_id] = k if s is None else keyword_share * k + semantic_share * s
    order = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    if limit is not None:
        order = order[: max(0, limit)]
    return [FusedScore(paper_id, score, keyword.get(paper_id), semantic.get(paper_id))
            for paper_id, score in order]


# Letter strings no paper is about: how similar the model finds nonsense to the papers.
CHANCE_PROBES = (
    "xqzvbk wplrjt", "zzkq vvbnmf", "qwfpgj luyars", "hjklzx cvbnmq",
    "pqowie urytla", "mnbvcx zlkjhg", "ytrewq poiulk", "gfdsaz xcvbtr",
)

# How far above the largest chance similarity (in background spreads) a semantic hit must be.
FLOOR_MARGIN = 1.0


def background(scores: Sequence[float]) -> tuple[float, float]:
    """(centre, spread) of a query's similarities to randomly sampled papers: the median and
    the normal-consistent median absolute deviation, so the few sampled papers that are on
    the query's topic do not inflate the scale of "unrelated"."""
    if not scores:
        return 0.0, 0.0
    ordered = sorted(scores)
    centre = _median(ordered)
    return centre, 1.4826 * _median(sorted(abs(v - centre) for v in ordered))


def _median(ordered: Sequence[float]) -> float:
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])


def semantic_floor(centre: float, spread: float, n_papers: int) -> float:
    """The cosine a paper needs to count as a semantic match for a query.

    `centre`/`spread` describe the query's similarity to unrelated papers (`background`).
    Among n papers drawn from that background the largest similarity is about
    centre + sqrt(2 ln n) * spread; a hit must clear that by FLOOR_MARGIN spreads, so what
    chance alone produces never counts as a match. Relative to the model's own scale, so
    it holds for any embedder, and per query, so a long query's generally higher
    similarities do not let everything through.
    """
    spread = max(spread, 1e-6)
    return centre + (math.sqrt(2.0 * math.log(max(2, n_papers))) + FLOOR_MARGIN) * spread


def chance_ceiling(probe_tops: Sequence[float], probe_spreads: Sequence[float]) -> float:
    """The most similar the model finds nonsense (CHANCE_PROBES) to any paper, plus one
    typical background spread: a paper more similar than that to a query is a match even
    when the query's own background is wide (a broad topic that much of the corpus is on,
    where `semantic_floor` alone would admit nothing)."""
    if not probe_tops:
        return math.inf
    spreads = sorted(probe_spreads) or [0.0]
    return max(probe_tops) + _median(spreads)
