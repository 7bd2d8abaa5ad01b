"""Query-by-example fusion on an eval-rec folder, one import: single modes, naive RRF, rules.

For each reader (the K newest library papers as the example) the keyword and the dense
rankings over the reader's candidates are computed once, the way `SearchService.more_like`
computes them (each side's best FUSION_DEPTH, and the other side's real score for each
of those), then every fusion rule ranks the same pools. `hybrid (shipped)` is
`more_like(mode="hybrid")` itself, as a check that the pools are the product's.

    PAPERWIRE_DATA_DIR=/work/cache/evaldata .venv/bin/python benchmarks/bench_rec_fusion.py \\
        benchmarks/out/rec-sample-rec-dev-r100-d1000-s0 --library-size 1,5

The folder is one of bench_rec.py's samples (or the full rec-dev); vectors come from
PAPERWIRE_DATA_DIR/embedding-cache, shared with `paperwire eval-rec`.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from paperwire.cli.search import _eval_container
from paperwire.domain import fusion
from paperwire.search.beir import parse_day, read_corpus, read_qrels, read_users
from paperwire.search.metrics import format_rec_line, score_run
from paperwire.services.evaluation import index_folder, internal_id
from paperwire.services.rec_evaluation import REC_DEPTH, newest_library
from paperwire.services.search import FUSION_DEPTH

Pool = tuple[list[str], list[str], dict[str, float], dict[str, float]]
Rule = Callable[[Pool], list[str]]


def pools_for(container, folder: Path, library_size: int) -> tuple[dict[str, Pool], dict]:
    """reader id -> (keyword list, dense list, keyword scores, dense scores) and the qrels."""
    search = container.search
    index = container.vector_index
    docs = list(read_corpus(folder))
    days = {internal_id(d.id): parse_day(d.date) for d in docs}
    by_day = sorted((day, pid) for pid, day in days.items() if day is not None)
    qrels = {q: {d: 1 for d, g in rel.items() if g > 0} for q, rel in read_qrels(folder).items()}
    pools: dict[str, Pool] = {}
    for reader in (r for r in read_users(folder) if qrels.get(r.id)):
        library = newest_library((internal_id(x) for x in reader.library), days, library_size)
        everything = {internal_id(x) for x in reader.library}
        candidates = [pid for day, pid in by_day if day >= reader.cutoff and pid not in everything]
        pools[reader.id] = example_pools(search, index, library, candidates)
    return pools, qrels


def example_pools(search, index, example_ids: list[str], candidates: list[str]) -> Pool:
    """The keyword and dense pools `more_like(example_ids, candidates=...)` fuses, each
    member with its real score on the other side."""
    examples = search._example_texts(example_ids)
    vector, _, _ = search._example_vector(examples)
    texts = list(examples.values())
    kw_hits = search.keyword.search_example(texts, limit=FUSION_DEPTH, candidates=candidates)
    keyword = {h.paper_id: h.score for h in kw_hits}
    dense_hits = index.search(vector, FUSION_DEPTH, candidates=candidates)
    dense = dict(dense_hits)
    for pid in keyword.keys() - dense.keys():
        v = index.vector_for(pid)
        if v is not None:
            dense[pid] = float(v @ vector)
    only = sorted(dense.keys() - keyword.keys())
    if only:
        for h in search.keyword.search_example(texts, limit=len(only), candidates=only):
            keyword[h.paper_id] = h.score
    return [h.paper_id for h in kw_hits], [p for p, _ in dense_hits], keyword, dense


def by_score(scores: Mapping[str, float]) -> list[str]:
    return sorted(scores, key=lambda p: (-scores[p], p))[:REC_DEPTH]


def naive_rrf(pool: Pool, k: int = 60) -> list[str]:
    kw_list, dense_list, _, _ = pool
    score: dict[str, float] = {}
    for ranked in (kw_list[:REC_DEPTH], dense_list[:REC_DEPTH]):
        for r, pid in enumerate(ranked):
            score[pid] = score.get(pid, 0.0) + 1.0 / (k + r + 1)
    return by_score(score)


def convex(share: float) -> Rule:
    """The rule shipped before issue 13: max-normalised BM25, min-max cosine."""
    def rank(pool: Pool) -> list[str]:
        return [f.paper_id for f in fusion.fuse(pool[2], pool[3], keyword_share=share)][:REC_DEPTH]
    return rank


def zscore_fused(keyword: Mapping[str, float], dense: Mapping[str, float],
                 share: float) -> dict[str, float]:
    """Each side's scores standardised over the union, mixed with `share` for keyword;
    a paper with no dense score keeps its keyword z-score on that side."""
    union = keyword.keys() | dense.keys()
    zk = _standard({p: keyword.get(p, 0.0) for p in union})
    zd = _standard({p: dense[p] for p in union if p in dense})
    return {p: share * zk[p] + (1 - share) * zd.get(p, zk[p]) for p in union}


def zscore(share: float) -> Rule:
    def rank(pool: Pool) -> list[str]:
        return by_score(zscore_fused(pool[2], pool[3], share))
    return rank


def _standard(scores: Mapping[str, float]) -> dict[str, float]:
    n = len(scores)
    if n == 0:
        return {}
    mean = sum(scores.values()) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in scores.values()) / n)
    return {p: (v - mean) / sd if sd > 1e-12 else 0.0 for p, v in scores.items()}


def shipped(pool: Pool) -> list[str]:
    keyword, dense = pool[2], pool[3]
    return [f.paper_id for f in fusion.fuse_example(keyword, dense, embedded_share=1.0)][
        :REC_DEPTH]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--library-size", default="1")
    args = parser.parse_args()
    rules: dict[str, Rule] = {
        "keyword": lambda p: p[0][:REC_DEPTH],
        "semantic": lambda p: p[1][:REC_DEPTH],
        "naive-rrf": naive_rrf,
    }
    for s in (0.3, 0.4, 0.5, 0.6, 0.7):
        rules[f"convex-{s}"] = convex(s)
    for s in (0.3, 0.4, 0.5, 0.6, 0.7):
        rules[f"zscore-{s}"] = zscore(s)
    if hasattr(fusion, "fuse_example"):
        rules["shipped rule"] = shipped
    with _eval_container("") as (container, cache):
        started = time.perf_counter()
        docs = list(read_corpus(args.folder))
        ids = index_folder(container, docs, folder=args.folder, embed=True, cache_dir=cache)
        print(f"# {args.folder.name}: {len(docs)} papers, indexed in "
              f"{time.perf_counter() - started:.0f} s, {container.embedder.model_id}", flush=True)
        for size in (int(k) for k in args.library_size.split(",")):
            pools, qrels = pools_for(container, args.folder, size)
            print(f"## --library-size {size}: {len(pools)} readers", flush=True)
            for name, rule in rules.items():
                run = {rid: [ids.get(p, p) for p in rule(pool)] for rid, pool in pools.items()}
                print(format_rec_line(name, score_run(run, qrels)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
