"""Hybrid search and similar papers with and without the int8 scan, paired in one process.

    .venv/bin/python benchmarks/bench_proposer_pairs.py --db benchmarks/out/latency-real80k.db \
        [--queries 200]

The vector index's state is swapped before each search between its own proposer (HNSW
graph + int8 scan for deep searches) and the same graph alone, alternating which goes
first; each search is timed warm and in-process, as bench_search_latency times them. On a
noisy machine a paired ratio is steadier than two runs' p50s. The latency databases come
from bench_search_latency.py; needs an index past ANN_MIN_VECTORS (e.g. 80k papers).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_search_latency import DEV, data_dir_for  # noqa: E402
from sqlalchemy import text  # noqa: E402

from paperwire.config import load_settings  # noqa: E402
from paperwire.search.ann import Proposer  # noqa: E402
from paperwire.search.beir import read_queries  # noqa: E402
from paperwire.wiring import build_container  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "benchmarks/out/latency-real80k.db"))
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    db = Path(args.db)
    container = build_container(load_settings(database_url=f"sqlite:///{db}",
                                              data_dir=data_dir_for(db)))
    service, index = container.search, container.vector_index
    container.keyword_index.wait_ready()
    if not index.build_ann(wait=True) or index._state.graph.scan is None:
        sys.exit("the index has no int8 scan (fewer than ANN_MIN_VECTORS or more than "
                 "SCAN_MAX_VECTORS vectors)")
    both = index._state
    graph_only = replace(both, graph=Proposer(both.graph.graph, None))
    queries = list(read_queries(DEV).values())[: args.queries]
    with container.engine.connect() as conn:
        every = [r[0] for r in conn.execute(text("SELECT id FROM papers ORDER BY id"))]
    ids = random.Random(0).sample(every, len(queries))
    for q in queries[:20]:  # warm up: model, indexes, page cache
        service.search(q, mode="hybrid")
    times: dict[str, list[float]] = {}
    for i, (query, paper_id) in enumerate(zip(queries, ids, strict=True)):
        states = [("scan", both), ("graph", graph_only)]
        for name, state in states if i % 2 == 0 else states[::-1]:
            index._derived.swap(state)
            service._query_vectors.clear()
            started = time.perf_counter()
            service.search(query, mode="hybrid", limit=20)
            times.setdefault(f"hybrid {name}", []).append(time.perf_counter() - started)
            started = time.perf_counter()
            service.similar(paper_id, limit=10)
            times.setdefault(f"similar {name}", []).append(time.perf_counter() - started)
    index._derived.swap(both)
    print(f"# {len(index)} vectors, {len(queries)} queries and similar-papers lists, "
          f"{index.describe()}")
    for mode in ("hybrid", "similar"):
        scan, graph = times[f"{mode} scan"], times[f"{mode} graph"]
        paired = statistics.median(a / b for a, b in zip(scan, graph, strict=True))
        print(f"{mode:8s} with the scan p50={statistics.median(scan) * 1000:6.1f} ms  "
              f"graph only p50={statistics.median(graph) * 1000:6.1f} ms  "
              f"median paired ratio={paired:.2f}")
    container.close()


if __name__ == "__main__":
    main()
