"""Vector search: exact numpy matmul vs approximate indexes (usearch, faiss) at 80k and 1M.

    .venv/bin/python benchmarks/bench_vectors.py [--sizes 80000,1000000] [--queries 200]

Vectors are synthetic (clustered Gaussian, 384 dims, L2-normalised) so that the figures do
not depend on having embedded a corpus first; queries are perturbed corpus vectors, like
"similar papers" and semantic queries. usearch / faiss are measured only if importable.
Reports per-query latency (p50/p95, k=100), build/load time, memory and recall@10/@100
against the exact result.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

DIM = 384


def make_corpus(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((max(16, n // 500), DIM)).astype(np.float32)
    assign = rng.integers(0, len(centers), n)
    x = centers[assign] + 0.9 * rng.standard_normal((n, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def make_queries(x: np.ndarray, q: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = x[rng.integers(0, len(x), q)]
    noisy = base + 0.6 * rng.standard_normal(base.shape).astype(np.float32) / np.sqrt(DIM) * 4
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def exact_topk(x: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    scores = x @ q
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part])]


def percentiles(samples: list[float]) -> str:
    a = np.array(samples) * 1000
    return f"p50 {np.percentile(a, 50):6.2f} ms  p95 {np.percentile(a, 95):6.2f} ms"


def recall(found: list[np.ndarray], truth: list[np.ndarray], k: int) -> float:
    hits = [
        len(set(f[:k].tolist()) & set(t[:k].tolist())) / k
        for f, t in zip(found, truth, strict=True)
    ]
    return float(np.mean(hits))


def bench_size(n: int, nq: int, k: int) -> None:
    print(f"\n== {n:,} vectors x {DIM} dims, {nq} queries, k={k}")
    x = make_corpus(n)
    queries = make_queries(x, nq)
    truth: list[np.ndarray] = []
    times: list[float] = []
    for q in queries:
        t = time.perf_counter()
        truth.append(exact_topk(x, q, k))
        times.append(time.perf_counter() - t)
    print(
        f"numpy exact float32   {percentiles(times)}  memory {x.nbytes / 2**20:7.0f} MiB"
        "  recall 1.000"
    )

    x16 = x.astype(np.float16)
    times = []
    for q in queries[: min(nq, 20)]:
        t = time.perf_counter()
        _ = x16 @ q.astype(np.float16)
        times.append(time.perf_counter() - t)
    print(
        f"numpy exact float16   {percentiles(times)}  memory {x16.nbytes / 2**20:7.0f} MiB"
        "  (no BLAS: slower)"
    )
    del x16

    try:
        from usearch.index import Index
    except ImportError:
        print("usearch: not installed")
    else:
        for dtype in ("f16", "i8"):
            index = Index(
                ndim=DIM,
                metric="cos",
                dtype=dtype,
                connectivity=16,
                expansion_add=128,
                expansion_search=128,
            )
            t = time.perf_counter()
            index.add(np.arange(n), x, threads=os.cpu_count() or 2)
            build = time.perf_counter() - t
            found, times = [], []
            for q in queries:
                t = time.perf_counter()
                m = index.search(q, k)
                times.append(time.perf_counter() - t)
                found.append(np.asarray(m.keys))
            print(
                f"usearch HNSW {dtype:4s}     {percentiles(times)}"
                f"  memory {index.memory_usage / 2**20:7.0f} MiB"
                f"  recall@10 {recall(found, truth, 10):.3f} @100 {recall(found, truth, k):.3f}"
                f"  build {build:.0f} s"
            )
            del index

    try:
        import faiss
    except ImportError:
        print("faiss: not installed")
    else:
        faiss.omp_set_num_threads(os.cpu_count() or 2)
        index = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 128
        t = time.perf_counter()
        index.add(x)
        build = time.perf_counter() - t
        found, times = [], []
        for q in queries:
            t = time.perf_counter()
            _, ids = index.search(q[None, :], k)
            times.append(time.perf_counter() - t)
            found.append(ids[0])
        print(
            f"faiss HNSW flat       {percentiles(times)}  recall@10 {recall(found, truth, 10):.3f}"
            f" @100 {recall(found, truth, k):.3f}  build {build:.0f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="80000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("-k", type=int, default=100)
    args = parser.parse_args()
    for n in (int(s) for s in args.sizes.split(",")):
        bench_size(n, args.queries, args.k)


if __name__ == "__main__":
    main()
