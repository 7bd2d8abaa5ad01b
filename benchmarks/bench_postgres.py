"""PostgreSQL vs SQLite: import time, `db copy`, and web throughput with several workers.

Starts its own PostgreSQL (initdb/pg_ctl in a temp dir, durable settings: fsync on)
unless --pg-url names one, then:

1. imports the shared data with `paperwire import` into SQLite and into PostgreSQL
   and reports both times (target: PostgreSQL <= 2x SQLite);
2. copies the SQLite database to a second PostgreSQL database with `paperwire db copy`
   (which verifies row counts itself);
3. runs wrk (64 connections, 30 s each) against `paperwire serve --workers 2` on each
   database for the daily page, the search API and the paper page (target: 0 errors).

    .venv/bin/python benchmarks/bench_postgres.py                # the full run
    .venv/bin/python benchmarks/bench_postgres.py --quick        # HF files only, 5 s wrk
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from bench_web import QUERIES, run_wrk, wait_until_fast  # noqa: E402
from tests.pg_server import PostgresServer, free_port  # noqa: E402

SHARED = Path(os.environ.get("PAPERWIRE_SHARED_DIR", ROOT.parent / "shared"))
PAPERWIRE = str(ROOT / ".venv" / "bin" / "paperwire")
DURABLE_PG = (
    "-c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB "
    "-c work_mem=16MB -c maintenance_work_mem=256MB"
)


def paperwire(args: list[str], url: str, data_dir: Path, **kwargs) -> subprocess.CompletedProcess:
    env = os.environ | {"PAPERWIRE_DATABASE_URL": url, "PAPERWIRE_DATA_DIR": str(data_dir)}
    return subprocess.run([PAPERWIRE, *args], env=env, check=True, **kwargs)


def timed_import(url: str, data_dir: Path, paths: list[Path]) -> float:
    started = time.perf_counter()
    paperwire(["import", *map(str, paths)], url, data_dir, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def serve(url: str, data_dir: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # One wrk client sends everything: lift the per-IP API rate limit (the limiter still
    # runs), as bench_web.py does; otherwise the search API answers 429.
    env = os.environ | {"PAPERWIRE_DATABASE_URL": url, "PAPERWIRE_DATA_DIR": str(data_dir),
                        "PAPERWIRE_WORKER_ENABLED": "false",
                        "PAPERWIRE_RATE_LIMIT_API": "1000000000/60"}
    process = subprocess.Popen(
        [PAPERWIRE, "serve", "--port", str(port), "--workers", str(workers),
         "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.stderr.read()[-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.terminate()
    raise SystemExit("the server did not start in 180 s")


def web_figures(name: str, url: str, data_dir: Path, args: argparse.Namespace) -> list:
    process, base = serve(url, data_dir, args.workers)
    try:
        paper_id = httpx.get(f"{base}/api/daily_papers", timeout=60).json()[0]["paper"]["id"]
        api_paths = [f"/api/papers/search?q={q.replace(' ', '+')}" for q in QUERIES]
        plan = [
            ("daily page", "/", None),
            ("search API (20 queries)", api_paths[0], api_paths),
            ("paper page", f"/papers/{paper_id}", None),
        ]
        for _, path, _ in plan:  # warm caches and check the pages work at all
            status = httpx.get(base + path, timeout=120).status_code
            assert status == 200, f"{name} {path}: {status}"
        for _ in range(args.workers):  # each worker process loads its own search indexes
            wait_until_fast(base, "/api/papers/search?q=graph+neural+networks+molecules")
        results = []
        for label, path, rotate in plan:
            result = run_wrk(f"{label} [{name}]", base, path, duration=args.duration,
                             connections=args.connections, threads=2, rotate=rotate)
            print(f"{result.name:42s} {result.rps:8.1f} req/s  p99 {result.p99_ms:8.1f} ms  "
                  f"non-2xx {result.non_2xx}  errors {result.errors}", flush=True)
            results.append(result)
        return results
    finally:
        process.terminate()
        process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="HF files only, 5 s per endpoint")
    parser.add_argument("--pg-url", default="", help="an EMPTY PostgreSQL database to use")
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-web", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.duration = min(args.duration, 5)
    if not args.skip_web and not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    paths = [SHARED / "data" / "hf-daily-papers"]
    if not args.quick:
        paths.append(SHARED / "data" / "arxiv-cs-2025.jsonl.gz")

    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"paperwire-bench-pg-{os.getpid()}"
    work.mkdir(parents=True)
    server = None if args.pg_url else PostgresServer.start(template=False, settings=DURABLE_PG)
    try:
        pg_url = args.pg_url or server.empty_database()
        copy_url = server.empty_database() if server else ""
        sqlite_url = f"sqlite:///{work / 'paperwire.db'}"

        print(f"importing {', '.join(p.name for p in paths)} ...", flush=True)
        sqlite_s = timed_import(sqlite_url, work / "sqlite-data", paths)
        print(f"SQLite:     {sqlite_s:7.1f} s", flush=True)
        pg_s = timed_import(pg_url, work / "pg-data", paths)
        print(f"PostgreSQL: {pg_s:7.1f} s  ({pg_s / sqlite_s:.2f}x SQLite; target <= 2x)",
              flush=True)

        copy_s = None
        if copy_url:
            started = time.perf_counter()
            paperwire(["db", "copy", "--to", copy_url], sqlite_url, work / "sqlite-data",
                      stdout=subprocess.PIPE, text=True)
            copy_s = time.perf_counter() - started
            print(f"db copy SQLite -> PostgreSQL: {copy_s:.1f} s, row counts verified", flush=True)

        results = []
        if not args.skip_web:
            results += web_figures("SQLite", sqlite_url, work / "sqlite-data", args)
            results += web_figures("PostgreSQL", pg_url, work / "pg-data", args)
    finally:
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print("\n| step | SQLite | PostgreSQL | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| import {' + '.join(p.name for p in paths)} | {sqlite_s:.1f} s | {pg_s:.1f} s "
          f"| {pg_s / sqlite_s:.2f}x |")
    if copy_s is not None:
        print(f"| `db copy` SQLite -> PostgreSQL (verified) | | {copy_s:.1f} s | |")
    if results:
        print(f"\nwrk -c{args.connections} -d{args.duration}s, `serve --workers {args.workers}`")
        print("| endpoint | req/s | p99 (ms) | requests | non-2xx | socket errors |")
        print("|---|---:|---:|---:|---:|---:|")
        for r in results:
            print(f"| {r.name} | {r.rps:.0f} | {r.p99_ms:.1f} | {r.requests} | {r.non_2xx} "
                  f"| {r.errors} |")
    bad = sum(r.non_2xx + r.errors for r in results)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
