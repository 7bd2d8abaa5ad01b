"""The vector index as a derived index: what a search pays when vectors change.

    .venv/bin/python benchmarks/bench_derived_index.py [--vectors 20000] [--changes 300]
        [--rounds 5] [--queries 50] [--compare /tmp/old-checkout/src]

A fresh SQLite database gets `--vectors` papers with synthetic unit vectors (384 dims,
clustered); an in-process VectorIndex with a snapshot folder loads them. Then, per round,
`--changes` stored vectors are replaced (enough to make a snapshot due) and the next search
is timed: it catches up, and with the old code it also wrote the whole snapshot before
answering, under the index lock. Plain searches (nothing changed) are timed too.
`--compare SRC` runs the same measurement with another checkout's `src/` on PYTHONPATH, in
a child process, alternately with this one, and prints both (on a shared, noisy machine
compare the two runs, not single figures).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DIM = 384
MODEL = "bench-model"


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def measure(n: int, changes: int, rounds: int, queries: int) -> dict[str, float]:
    from paperwire.domain.records import PaperRecord
    from paperwire.search.vectors import VectorIndex
    from paperwire.store.db import create_db_engine
    from paperwire.store.embeddings import EmbeddingRow, save_embeddings
    from paperwire.store.migrate import upgrade
    from paperwire.store.papers import upsert_papers

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((max(16, n // 500), DIM))
    vectors = _unit(centres[rng.integers(0, len(centres), n)] + rng.standard_normal((n, DIM)))
    ids = [f"2601.{i:05d}" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_db_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        with engine.begin() as conn:
            upsert_papers(conn, [PaperRecord(id=pid, title=f"P {pid}") for pid in ids])
        for start in range(0, n, 2000):
            with engine.begin() as conn:
                save_embeddings(conn, MODEL, [
                    EmbeddingRow(pid, vectors[i], "h") for i, pid in
                    enumerate(ids[start:start + 2000], start)])
        # As after an embedding run an hour ago: a catch-up reads only what changed since.
        from datetime import UTC, datetime, timedelta

        from sqlalchemy import update

        from paperwire.store.tables import paper_embeddings
        with engine.begin() as conn:
            conn.execute(update(paper_embeddings).values(
                created_at=datetime.now(UTC) - timedelta(hours=1)))
        index = VectorIndex(engine, MODEL, DIM, snapshot_dir=Path(tmp) / "vectors",
                            refresh_interval_s=0, ann_min_vectors=None)
        started = time.perf_counter()
        assert len(index) == n
        load_s = time.perf_counter() - started
        wait = getattr(index, "wait_snapshots", None)
        if wait:
            wait(120)
        probe = _unit(vectors[rng.integers(0, n, queries)] + 0.3 * rng.standard_normal(
            (queries, DIM)))
        plain = []
        for q in probe:
            t = time.perf_counter()
            index.search(q, 10)
            plain.append(time.perf_counter() - t)
        after_change = []
        for r in range(rounds):
            rows = rng.choice(n, changes, replace=False)
            with engine.begin() as conn:
                save_embeddings(conn, MODEL, [
                    EmbeddingRow(ids[i], _unit(rng.standard_normal((1, DIM)))[0], f"r{r}")
                    for i in rows])
            t = time.perf_counter()
            found = index.search(probe[r % queries], 10)
            after_change.append(time.perf_counter() - t)
            assert found
            if wait:
                wait(120)  # the next round starts with no write in flight, as the old code
        engine.dispose()
    return {
        "vectors": n,
        "load_s": round(load_s, 3),
        "search_p50_ms": round(float(np.median(plain)) * 1000, 2),
        "search_after_change_p50_ms": round(float(np.median(after_change)) * 1000, 1),
        "search_after_change_max_ms": round(float(np.max(after_change)) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=20_000)
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--compare", metavar="SRC")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json or not args.compare:
        result = measure(args.vectors, args.changes, args.rounds, args.queries)
        print(json.dumps(result) if args.json else result)
        return
    base = [sys.executable, __file__, "--json", "--vectors", str(args.vectors), "--changes",
            str(args.changes), "--rounds", str(args.rounds), "--queries", str(args.queries)]
    for label, src in (("this", str(ROOT / "src")), ("other", args.compare)):
        env = {**os.environ, "PYTHONPATH": src}
        out = subprocess.run(base, env=env, capture_output=True, text=True, check=True).stdout
        print(f"{label:5} ({src}): {out.strip()}")


if __name__ == "__main__":
    main()
