"""Fusion rules on `paperwire eval` folders: the product's own pools, every rule, one import.

For each BEIR folder (keywords-dev or a sample of it, the dense-dev sets of
build_dense_dev.py, any folder of that shape) the corpus is imported and embedded through
the product's path (`index_folder`, the content-hash cache), and for every query the
pools are computed once the way `SearchService.search(mode="hybrid")` computes them: the
keyword ranking (the best FUSION_DEPTH matches), the papers above the calibrated semantic
floor, and each member's real score on the other side. Every rule then ranks the same
pools:

* `keyword`, `semantic`: the product's single modes (semantic: the papers above the floor);
* `naive-rrf`: reciprocal-rank fusion (k=60) of the keyword top-100 and the dense top-100
  (no floor), the issue's "naive RRF";
* `convex-S`: `domain.fusion.fuse` with keyword share S (S=0.9 and 0.5 were the shipped
  shares for short and for long queries);
* `zscore-S`: each side's scores standardised over the pool, keyword share S;
* `shipped`: `fuse` with the share the product uses for this query (`keyword_weight`),
  and `hybrid (product)`: `SearchService.search(mode="hybrid")` itself, as a check that the
  pools are the product's.

    PAPERWIRE_DATA_DIR=/work/cache/evaldata .venv/bin/python benchmarks/bench_eval_fusion.py \\
        benchmarks/out/dense-dev-qbe benchmarks/out/kwdev-sample-d400-s0 [--queries N]

Prints one `paperwire eval` line per rule and folder.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench_rec_fusion import example_pools, zscore_fused

from paperwire.cli.search import _eval_container
from paperwire.domain import fusion
from paperwire.search.beir import BeirDoc, read_corpus, read_qrels, read_queries
from paperwire.search.metrics import format_line, score_run
from paperwire.search.plan import build_plan
from paperwire.services.evaluation import EVAL_DEPTH, index_folder
from paperwire.services.search import SEMANTIC_DEPTH
from paperwire.services.search_results import FUSION_DEPTH

SHARES = (0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
Z_SHARES = (0.3, 0.5, 0.7)


@dataclass
class Pool:
    keyword_list: list[str]  # the product's keyword ranking
    semantic_list: list[str]  # the product's semantic ranking (above the floor)
    dense_list: list[str]  # the dense top-100, no floor (naive RRF's input)
    keyword: dict[str, float]  # every member's keyword score (matches only)
    dense: dict[str, float]  # every member's similarity
    n_words: int  # -1: query-by-example (`more_like`'s share)


Rule = Callable[[Pool], list[str]]


def pool_for(service, index, coverage: int, text: str) -> Pool:
    """The hybrid pools for one query, as `_semantic_set` + `hybrid_set` build them."""
    plan = service.stages.resolve(build_plan(text, mode="hybrid", limit=EVAL_DEPTH),
                                  semantic=True)
    vector = service._query_vector(plan.query.embed_text)
    dense_all = index.search(vector, max(plan.pool, SEMANTIC_DEPTH), candidates=plan.candidates)
    floor = service._floor(vector, index, coverage)
    above = {pid: v for pid, v in dense_all if v >= floor}
    found, _ = service.keyword.search_page(plan.query, plan.spec, limit=FUSION_DEPTH,
                                           candidates=plan.candidates)
    keyword = {h.paper_id: h.score for h in found}
    keyword.update(service.keyword.scores_for(plan.query, plan.spec,
                                              [p for p in above if p not in keyword]))
    members = {p: v for p, v in above.items() if p in keyword or not plan.phrase_required}
    rest = sorted(keyword.keys() - members.keys())
    if rest:
        members.update(index.search(vector, len(rest), candidates=rest))
    return Pool(
        keyword_list=[h.paper_id for h in found],
        semantic_list=sorted(above, key=lambda p: (-above[p], p)),
        dense_list=[p for p, _ in dense_all[:EVAL_DEPTH]],
        keyword=keyword,
        dense=members,
        n_words=plan.n_words,
    )


def by_score(scores: Mapping[str, float]) -> list[str]:
    return sorted(scores, key=lambda p: (-scores[p], p))[:EVAL_DEPTH]


def naive_rrf(pool: Pool, k: int = 60) -> list[str]:
    score: dict[str, float] = {}
    for ranked in (pool.keyword_list[:EVAL_DEPTH], pool.dense_list[:EVAL_DEPTH]):
        for r, pid in enumerate(ranked):
            score[pid] = score.get(pid, 0.0) + 1.0 / (k + r + 1)
    return by_score(score)


def convex(share: float) -> Rule:
    def rank(pool: Pool) -> list[str]:
        fused = fusion.fuse(pool.keyword, pool.dense, keyword_share=share)
        return [f.paper_id for f in fused][:EVAL_DEPTH]
    return rank


def shipped(pool: Pool) -> list[str]:
    if pool.n_words < 0:
        return convex(fusion.example_keyword_share(1.0))(pool)
    return convex(fusion.keyword_weight(pool.n_words))(pool)


def example_pool(service, index, example: str, candidates: list[str]) -> Pool:
    """The pools `more_like([example], candidates=...)` fuses (every paper embedded)."""
    kw_list, ranked, keyword, dense = example_pools(service, index, [example], candidates)
    return Pool(kw_list, ranked, ranked, keyword, dense, -1)


def zscore(share: float) -> Rule:
    def rank(pool: Pool) -> list[str]:
        return by_score(zscore_fused(pool.keyword, pool.dense, share))
    return rank


def rules() -> dict[str, Rule]:
    out: dict[str, Rule] = {
        "keyword": lambda p: p.keyword_list[:EVAL_DEPTH],
        "semantic": lambda p: p.semantic_list[:EVAL_DEPTH],
        "naive-rrf": naive_rrf,
    }
    out.update({f"convex-{s}": convex(s) for s in SHARES})
    out.update({f"zscore-{s}": zscore(s) for s in Z_SHARES})
    out["shipped"] = shipped
    return out


def run_folder(folder: Path, max_queries: int | None, by_example: bool) -> None:
    with _eval_container("") as (container, cache):
        started = time.perf_counter()
        queries, qrels = read_queries(folder), read_qrels(folder)
        judged = [q for q in queries if q in qrels][:max_queries]
        docs = list(read_corpus(folder))
        corpus_ids = [d.id for d in docs]
        if by_example:  # each query (a title and abstract) becomes a paper: the example
            docs += [BeirDoc(q, *(queries[q].split("\n", 1) + [""])[:2]) for q in judged]
        ids = index_folder(container, docs, folder=folder, embed=True, cache_dir=cache)
        service, index = container.search, container.vector_index
        coverage = index.coverage()
        print(f"# {folder.name}: {len(ids)} papers ({coverage[0]} embedded), "
              f"{len(judged)} queries, indexed in {time.perf_counter() - started:.0f} s, "
              f"{container.embedder.model_id}", flush=True)
        if by_example:
            pools = {q: example_pool(service, index, q, corpus_ids) for q in judged}
        else:
            pools = {q: pool_for(service, index, coverage[0], queries[q]) for q in judged}
        n = max(1, len(pools))
        words = sum(p.n_words for p in pools.values()) / n
        share = sum(fusion.example_keyword_share(1.0) if p.n_words < 0
                    else fusion.keyword_weight(p.n_words) for p in pools.values()) / n
        print(f"# mean query length {words:.1f} words; shipped keyword share {share:.2f}",
              flush=True)
        wanted = {q: qrels[q] for q in judged}
        for name, rule in rules().items():
            run = {q: [ids.get(p, p) for p in rule(pool)] for q, pool in pools.items()}
            print(format_line(name, score_run(run, wanted)), flush=True)
        if by_example:
            product = {q: [ids.get(h.paper_id, h.paper_id) for h in service.more_like(
                [q], mode="hybrid", candidates=corpus_ids, limit=EVAL_DEPTH)] for q in judged}
        else:
            product = {q: [ids.get(h.paper_id, h.paper_id) for h in
                           service.search(queries[q], mode="hybrid", limit=EVAL_DEPTH).hits]
                       for q in judged}
        print(format_line("hybrid-(product)", score_run(product, wanted)), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--queries", type=int, default=None, help="the first N judged queries")
    parser.add_argument("--by-example", action="store_true",
                        help="query-by-example folders: import each query (title, newline, "
                        "abstract) as a paper and rank with more_like's pools instead")
    args = parser.parse_args()
    for folder in args.folders:
        run_folder(folder, args.queries, args.by_example)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
