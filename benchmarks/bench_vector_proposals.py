"""Vector candidates for hybrid search: how many of the exact best papers each proposer
finds, and at what cost (one core).

    .venv/bin/python benchmarks/bench_vector_proposals.py \
        --db benchmarks/out/latency-real80k.db --queries 300 --proposals 500,700,900,1200 \
        [--graphs "f16,16,128;i8,32,128"] [--int8-scan] [--kind dev|papers|perturbed]

Hybrid search asks the vector index for the best SEMANTIC_DEPTH (300) papers and keeps
those above the semantic floor; the index's HNSW graph proposes 4 x 300 rows, re-scored
exactly in float32. This benchmark takes the keywords-dev queries (embedded by the
product, with the product's floor), computes the exact answer (every row's float32 cosine,
the best 300, those above the floor), and for each proposer and proposal count prints the
mean proposal time, how many queries' above-floor sets differ from the exact one and how
many exact above-floor papers are missing. Proposers: the index's own graph (as loaded
from its snapshot), freshly built usearch graphs (`--graphs`: dtype,connectivity,
expansion_add; one core, ~1-2 min each at 80k), and `--int8-scan` (the product's own
proposer up to 150k vectors, `search.ann.Int8Scan`: every row's int8 dot product in one
onnxruntime MatMulNBits call, built afresh on every component and on the rows' leading
principal axes, as the index builds it). The latency databases come from
bench_search_latency.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # a spinning BLAS thread skews timings
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
from bench_search_latency import DEV, data_dir_for  # noqa: E402

from paperwire.config import load_settings  # noqa: E402
from paperwire.search.beir import read_queries  # noqa: E402
from paperwire.search.plan import build_plan  # noqa: E402
from paperwire.services.search import SEMANTIC_DEPTH  # noqa: E402
from paperwire.wiring import build_container  # noqa: E402


def query_vectors(db: Path, n: int, kind: str):
    """The index's matrix and graph, and (query vector, floor) for n queries of a kind:
    `dev` the first keywords-dev queries (embedded by the product), `papers` the vectors
    of n papers drawn at random (query-by-example), `perturbed` those vectors with noise
    as large as themselves (queries off the papers' own directions)."""
    settings = load_settings(database_url=f"sqlite:///{db}", data_dir=data_dir_for(db))
    container = build_container(settings)
    service, index = container.search, container.vector_index
    index.build_ann(wait=True)
    state = index._state
    matrix = np.ascontiguousarray(state.matrix, dtype=np.float32)
    embedded = len(state.ids)
    if kind == "dev":
        vectors = [service._query_vector(build_plan(q, mode="hybrid").query.embed_text)
                   for q in list(read_queries(DEV).values())[:n]]
    else:
        rng = np.random.default_rng(0)
        vectors = matrix[rng.choice(len(matrix), n, replace=False)]
        if kind == "perturbed":
            noise = rng.standard_normal(vectors.shape).astype(np.float32)
            vectors = vectors + noise / np.linalg.norm(noise, axis=1, keepdims=True)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    out = [(v, service._floor(v, index, embedded)) for v in vectors]
    return matrix, state.graph, out


class Graph:
    def __init__(self, index) -> None:
        self.index = index

    def search(self, q: np.ndarray, count: int) -> np.ndarray:
        return np.asarray(self.index.search(q, count).keys, dtype=np.int64)


def exact_sets(matrix, queries) -> list[set[int]]:
    out = []
    for q, floor in queries:
        scores = matrix @ q
        best = np.argsort(-scores, kind="stable")[:SEMANTIC_DEPTH]
        out.append({int(r) for r in best if scores[r] >= floor})
    return out


def measure(name: str, proposer, matrix, queries, exact, counts: list[int]) -> None:
    for count in counts:
        spent, differ, missing = 0.0, 0, 0
        for (q, floor), want in zip(queries, exact, strict=True):
            started = time.perf_counter()
            rows = proposer.search(q, count)
            spent += time.perf_counter() - started
            rows = np.sort(rows[rows >= 0])
            scores = matrix[rows] @ q
            best = np.argsort(-scores, kind="stable")[:SEMANTIC_DEPTH]
            got = {int(rows[i]) for i in best if scores[i] >= floor}
            if got != want:
                differ += 1
                missing += len(want - got)
        print(f"{name:24s} proposals {count:5d}: {spent / len(queries) * 1000:6.2f} ms, "
              f"{differ:4d} of {len(queries)} queries differ from exact, "
              f"{missing:5d} above-floor papers missing", flush=True)


def deepest(name: str, scan, queries, exact, depth: int = 5000) -> None:
    """How deep in a scan's order the exact above-floor papers lie: the proposals needed."""
    needed = []
    for (q, _), want in zip(queries, exact, strict=True):
        if want:
            rank = {int(r): i for i, r in enumerate(scan.search(q, depth).tolist())}
            needed.append(max(rank.get(r, depth) for r in want) + 1)
    if needed:
        print(f"{name:24s} proposals needed to hold every exact above-floor paper: "
              f"p50 {np.median(needed):.0f}, p99 {np.percentile(needed, 99):.0f}, "
              f"max {max(needed)} (of {len(needed)} queries; {depth} = deeper)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "benchmarks/out/latency-real80k.db"))
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--proposals", default="500,700,900,1200")
    parser.add_argument("--graphs", default="", help="dtype,connectivity,expansion_add;...")
    parser.add_argument("--int8-scan", action="store_true",
                        help="also fresh scans: on every component, and on the leading axes")
    parser.add_argument("--kind", choices=["dev", "papers", "perturbed"], default="dev")
    args = parser.parse_args()
    counts = [int(c) for c in args.proposals.split(",")]
    matrix, graph, queries = query_vectors(Path(args.db), args.queries, args.kind)
    exact = exact_sets(matrix, queries)
    print(f"# {len(matrix)} vectors, {len(queries)} queries; exact above-floor papers in the "
          f"best {SEMANTIC_DEPTH}: median {np.median([len(e) for e in exact]):.0f}, "
          f"{sum(len(e) >= SEMANTIC_DEPTH for e in exact)} queries at {SEMANTIC_DEPTH}")
    if graph is not None:
        measure("index graph (snapshot)", graph.graph, matrix, queries, exact, counts)
        if graph.scan is not None:
            measure("index int8 scan", graph.scan, matrix, queries, exact, counts)
    for config in filter(None, args.graphs.split(";")):
        from paperwire.search.ann import _import_usearch

        dtype, connectivity, expansion = config.split(",")
        index = _import_usearch().Index(ndim=matrix.shape[1], metric="cos", dtype=dtype,
                                        connectivity=int(connectivity),
                                        expansion_add=int(expansion))
        started = time.perf_counter()
        index.add(np.arange(len(matrix), dtype=np.uint64), matrix, threads=1)
        print(f"# built {config} in {time.perf_counter() - started:.0f} s", flush=True)
        measure(f"graph {config}", Graph(index), matrix, queries, exact, counts)
    if args.int8_scan:
        started = time.perf_counter()
        from paperwire.search.ann import Int8Scan

        every = Int8Scan(matrix.shape[1])
        every.add(0, matrix)
        every.prepare()
        print(f"# int8 scan of every component ready in {time.perf_counter() - started:.1f} s",
              flush=True)
        started = time.perf_counter()
        leading = Int8Scan.over(matrix)
        leading.prepare()
        print(f"# int8 scan of the {leading.width} leading axes ready in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        deepest(f"int8 scan, {every.width} comps", every, queries, exact)
        deepest(f"int8 scan, {leading.width} axes", leading, queries, exact)
        for _ in range(2):  # alternately, so that neither always runs on a colder machine
            measure(f"int8 scan, {every.width} comps", every, matrix, queries, exact, counts)
            measure(f"int8 scan, {leading.width} axes", leading, matrix, queries, exact,
                    counts)


if __name__ == "__main__":
    main()
