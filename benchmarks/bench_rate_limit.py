"""Cost of the shared request limits: one `throttles.take_all` per request (the IP key
and, signed in, the account key), as web/rate_limit.py runs it, on a migrated database.

    .venv/bin/python benchmarks/bench_rate_limit.py                      # SQLite in a temp dir
    .venv/bin/python benchmarks/bench_rate_limit.py --threads 4 --requests 4000
    PAPERWIRE_DATABASE_URL=postgresql://... .venv/bin/python benchmarks/bench_rate_limit.py

Prints the median and 99th percentile of one check, and checks per second over all
threads. Keys are spread over --ips addresses (so most checks update an existing row).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from paperwire.domain.rate_limits import RateLimit
from paperwire.store import throttles
from paperwire.store.db import create_db_engine
from paperwire.store.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="checks in all")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ips", type=int, default=200)
    args = parser.parse_args()
    url = os.environ.get("PAPERWIRE_DATABASE_URL") or (
        f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}")
    engine = create_db_engine(url)
    upgrade(engine)
    limit = RateLimit(10**9, 60)
    per_thread = args.requests // args.threads
    timings: list[float] = []
    lock = threading.Lock()

    def run(offset: int) -> None:
        mine = []
        for n in range(per_thread):
            ip = (offset * per_thread + n) % args.ips
            hits = [throttles.Hit("api", f"ip:198.51.100.{ip}", limit),
                    throttles.Hit("api", f"user:{ip}", limit)]
            start = time.perf_counter()
            assert throttles.take_all(engine, hits, time.time()).allowed
            mine.append(time.perf_counter() - start)
        with lock:
            timings.extend(mine)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(args.threads)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    timings.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(f"backend={engine.dialect.name} threads={args.threads} checks={len(timings)} "
          f"median={statistics.median(timings) * 1e3:.2f} ms p99={p99 * 1e3:.2f} ms "
          f"throughput={len(timings) / wall:.0f} checks/s")
    engine.dispose()


if __name__ == "__main__":
    main()
