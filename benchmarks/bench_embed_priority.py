"""Page latency while the worker embeds, against an idle server.

`paperwire serve` runs the worker's embedding in a child process at nice +10
(paperwire/background_embed.py). This serves the shared Hugging Face daily papers
with `paperwire serve --no-worker` (page cache off, so every request renders), then
times the daily page and a keyword search: idle, during an embed at normal priority
(what a same-priority worker costs), and during an embed at nice +10 (what serve does).

    .venv/bin/python benchmarks/bench_embed_priority.py --requests 40    # a quick look
    .venv/bin/python benchmarks/bench_embed_priority.py --requests 300   # the full figure

Each phase sends `--requests` sequential requests per page; the embed starts
`--warmup-s` seconds before its phase and is stopped after it.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAPERWIRE_SHARED_DIR", ROOT.parent / "shared"))
PAPERWIRE = str(ROOT / ".venv" / "bin" / "paperwire")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(client: httpx.Client, paths: list[str], count: int) -> list[float]:
    times = []
    for i in range(count):
        started = time.perf_counter()
        answer = client.get(paths[i % len(paths)])
        times.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    return times


def summary(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"{name:<40} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms   n={len(times)}"


def start_embed(env: dict[str, str], *, nice: bool) -> subprocess.Popen:
    def lower() -> None:
        os.nice(10)

    return subprocess.Popen(
        [sys.executable, "-m", "paperwire.background_embed"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lower if nice else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="requests per page per phase")
    parser.add_argument("--warmup-s", type=float, default=8.0,
                        help="seconds the embed runs (model load) before timing starts")
    parser.add_argument("--data", type=Path, default=SHARED / "data" / "hf-daily-papers")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pw-bench-") as tmp:
        env = dict(os.environ, PAPERWIRE_DATA_DIR=tmp, PAPERWIRE_CONFIG=f"{tmp}/none.toml",
                   PAPERWIRE_PAGE_CACHE_TTL_S="0", PAPERWIRE_FIRST_RUN_FETCH="false",
                   PAPERWIRE_RATE_LIMITS_ENABLED="false")
        env.pop("PAPERWIRE_DATABASE_URL", None)
        print(f"importing {args.data} ...", flush=True)
        subprocess.run([PAPERWIRE, "import", str(args.data)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        port = free_port()
        server = subprocess.Popen(
            [PAPERWIRE, "serve", "--no-worker", "--port", str(port), "--log-level", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=60) as client:
                for _ in range(600):
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.1)
                latest = client.get("/?format=json").json()["latestDay"]
                pages = {"daily page": [f"/?date={latest}"],
                         "keyword search": ["/search?q=diffusion&mode=keyword",
                                            "/search?q=language+model+reasoning&mode=keyword"]}
                for paths in pages.values():
                    timed(client, paths, 5)  # warm caches and the BM25 index
                results: list[str] = []
                for phase, nice in (("idle", None), ("embed, same priority", False),
                                    ("embed, nice +10 (serve)", True)):
                    child = None if nice is None else start_embed(env, nice=nice)
                    if child is not None:
                        time.sleep(args.warmup_s)
                    try:
                        for page, paths in pages.items():
                            results.append(summary(f"{page}, {phase}",
                                                   timed(client, paths, args.requests)))
                    finally:
                        if child is not None:
                            child.terminate()
                            child.wait()
                    print(results[-2], results[-1], sep="\n", flush=True)
        finally:
            server.terminate()
            server.wait()
    print(f"cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
