"""Fusion study: keyword, semantic, RRF and score fusion on several query types.

    .venv/bin/python benchmarks/bench_fusion.py CORPUS_DIR QUERY_DIR [QUERY_DIR ...]

All folders are BEIR folders over the same corpus (the corpus is read from the first).
The corpus is indexed once through the product path (ingest + embed_missing, with the
content-hash cache); every query's keyword top-100 and dense top-100 are computed once
through the product's KeywordSearcher and vector index, and the fusion rules are then
compared offline on those candidate lists with nDCG@10. This is the evidence behind
`paperwire.domain.fusion` (see benchmarks/RESULTS.md, "## Search").
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from paperwire.config import load_settings
from paperwire.domain import fusion
from paperwire.search.beir import read_qrels, read_queries
from paperwire.search.filters import FilterSpec
from paperwire.search.metrics import ndcg_at_k
from paperwire.search.query_parser import parse_query
from paperwire.services.evaluation import evaluate
from paperwire.wiring import build_container

DEPTH = 100


def rrf(kw: dict[str, float], dense: dict[str, float], k: int = 60) -> list[str]:
    scores: dict[str, float] = {}
    for ranking in (kw, dense):
        for rank, pid in enumerate(sorted(ranking, key=lambda p: -ranking[p])):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (k + rank + 1)
    return sorted(scores, key=lambda p: -scores[p])


def zscore_fuse(kw: dict[str, float], dense: dict[str, float], share: float) -> list[str]:
    """Z-score fusion: each ranker's scores standardised over its own candidates.

    A ranker whose best candidates stand far above the rest (BM25 on a rare-word query)
    gets a large say; one whose scores are flat (BM25 on common words) a small one.
    Papers without a keyword score take the keyword floor (the lowest candidate).
    """
    def standardise(scores: dict[str, float]) -> tuple[dict[str, float], float]:
        values = np.array(list(scores.values()), dtype=np.float64)
        if values.size == 0:
            return {}, 0.0
        mean, std = values.mean(), values.std() or 1.0
        return {p: (v - mean) / std for p, v in scores.items()}, (values.min() - mean) / std

    kz, k_floor = standardise(kw)
    dz, d_floor = standardise(dense)
    fused = {p: share * kz.get(p, k_floor) + (1 - share) * dz.get(p, d_floor)
             for p in kz.keys() | dz.keys()}
    return sorted(fused, key=lambda p: -fused[p])


def main() -> None:
    corpus_dir, *query_dirs = (Path(a) for a in sys.argv[1:])
    user = load_settings()
    with tempfile.TemporaryDirectory() as tmp:
        settings = user.model_copy(update={"data_dir": Path(tmp),
                                           "database_url": f"sqlite:///{tmp}/f.db"})
        container = build_container(settings)
        container.prepare_database()
        evaluate(container, corpus_dir, [], cache_dir=user.data_dir / "embedding-cache")
        from paperwire.services.embeddings import embed_missing

        embed_missing(container.engine, container.embedder,
                      cache_dir=user.data_dir / "embedding-cache")
        index = container.vector_index
        index.refresh(force=True)
        if container.keyword_index is not None:
            container.keyword_index.wait_ready()
        embedder, keyword = container.embedder, container.search.keyword
        shares = [1.0, 0.9, 0.8, 0.75, 0.7, 0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.1, 0.0]
        zshares = [0.5, 0.6, 0.7]
        print("| query set | n | avg words | keyword | semantic | RRF k=60 | "
              + " | ".join(f"a={a}" for a in shares) + " | adaptive | "
              + " | ".join(f"z a={a}" for a in zshares) + " | z adaptive |")
        print("|---" * (6 + len(shares)) + "|---|" + "---|" * (len(zshares) + 1))
        for folder in query_dirs:
            queries, qrels = read_queries(folder), read_qrels(folder)
            judged = [q for q in queries if q in qrels]
            texts = [parse_query(queries[q]) for q in judged]
            vectors = embedder.embed([p.text for p in texts])
            rows = {name: [] for name in ["kw", "sem", "rrf", "adaptive", "zadaptive", *shares,
                                          *(f"z{a}" for a in zshares)]}
            lengths = []
            for qid, parsed, vec in zip(judged, texts, vectors, strict=True):
                hits = keyword.search(parsed, FilterSpec(), limit=DEPTH)
                kw = {h.paper_id: h.score for h in hits}
                dense = dict(index.search(vec, DEPTH))
                for pid in kw.keys() - dense.keys():
                    v = index.vector_for(pid)
                    if v is not None:
                        dense[pid] = float(np.dot(v, vec))
                n_words = len(parsed.terms) + sum(len(p) for p in parsed.phrases)
                lengths.append(n_words)
                rel = qrels[qid]
                rows["kw"].append(ndcg_at_k(sorted(kw, key=lambda p: -kw[p]), rel, 10))
                top_dense = sorted(dense, key=lambda p: -dense[p])
                rows["sem"].append(ndcg_at_k(top_dense, rel, 10))
                rows["rrf"].append(ndcg_at_k(rrf(kw, dict(index.search(vec, DEPTH))), rel, 10))
                for share in shares:
                    fused = fusion.fuse(kw, dense, keyword_share=share)
                    rows[share].append(ndcg_at_k([f.paper_id for f in fused], rel, 10))
                fused = fusion.fuse(kw, dense, keyword_share=fusion.keyword_weight(n_words))
                rows["adaptive"].append(ndcg_at_k([f.paper_id for f in fused], rel, 10))
                for share in zshares:
                    rows[f"z{share}"].append(ndcg_at_k(zscore_fuse(kw, dense, share), rel, 10))
                zfused = zscore_fuse(kw, dense, fusion.keyword_weight(n_words))
                rows["zadaptive"].append(ndcg_at_k(zfused, rel, 10))
            mean = {k: sum(v) / len(v) for k, v in rows.items()}
            print(f"| {folder.name} | {len(judged)} | {sum(lengths) / len(lengths):.1f} | "
                  f"{mean['kw']:.3f} | {mean['sem']:.3f} | {mean['rrf']:.3f} | "
                  + " | ".join(f"{mean[a]:.3f}" for a in shares)
                  + f" | {mean['adaptive']:.3f} | "
                  + " | ".join(f"{mean[f'z{a}']:.3f}" for a in zshares)
                  + f" | {mean['zadaptive']:.3f} |", flush=True)
        container.close()


if __name__ == "__main__":
    main()
