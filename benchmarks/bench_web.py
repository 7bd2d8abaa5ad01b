"""Web throughput with wrk, each endpoint as a ratio to /healthz measured in the same run.

The app is served the way the README serves it (`paperwire serve`), on a database
holding the shared papers (imported once with `paperwire import`).

    .venv/bin/python benchmarks/bench_web.py                 # 30 s per endpoint, 64 connections
    .venv/bin/python benchmarks/bench_web.py --duration 5    # a quick look

Old against new (run them alternately, old, new, old, new; each side on its own
database, imported by its own code from the same input):

    git worktree add /tmp/old <commit>
    .venv/bin/python benchmarks/bench_web.py --src /tmp/old/src --data-dir /tmp/web-old \
        --hf HF_FOLDER --arxiv ARXIV_FILE
    .venv/bin/python benchmarks/bench_web.py --data-dir /tmp/web-new \
        --hf HF_FOLDER --arxiv ARXIV_FILE

Targets: daily page >= 0.3, /api/daily_papers >= 0.3, search >= 0.15 of /healthz;
zero non-2xx responses.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAPERWIRE_SHARED_DIR", ROOT.parent / "shared"))
PAPERWIRE = str(ROOT / ".venv" / "bin" / "paperwire")
# `--src` runs another checkout's code (its src/ first on the path) with this venv.
RUN_FROM_SRC = (
    "import sys; from paperwire.cli import main; sys.argv[0] = 'paperwire'; sys.exit(main())"
)
QUERIES = [
    "diffusion transformer video generation",
    "retrieval augmented generation",
    "gaussian splatting",
    "mixture of experts routing",
    "reinforcement learning from human feedback",
    "speculative decoding",
    "vision language model benchmark",
    "3d reconstruction from images",
    "low rank adaptation fine tuning",
    "chain of thought reasoning",
    "text to speech",
    "robot manipulation policy",
    "image segmentation",
    "quantization large language models",
    "long context attention",
    "multimodal agents",
    "code generation",
    "graph neural networks",
    "federated learning privacy",
    "medical image analysis",
]
ROTATE_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


@dataclass
class WrkResult:
    name: str
    path: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int


def paperwire_cmd(src: Path | None) -> tuple[list[str], dict[str, str]]:
    """The command that runs paperwire, and the environment additions it needs."""
    if src is None:
        return [PAPERWIRE], {}
    return [sys.executable, "-c", RUN_FROM_SRC], {"PYTHONPATH": str(src.resolve())}


def ensure_database(data_dir: Path, src: Path | None, inputs: list[Path]) -> None:
    cmd, extra_env = paperwire_cmd(src)
    env = os.environ | extra_env | {"PAPERWIRE_DATA_DIR": str(data_dir)}
    db = data_dir / "paperwire.db"
    marker = data_dir / ".imported"
    if db.exists() and marker.exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"importing {', '.join(map(str, inputs))} into {db} (once) ...", flush=True)
    start = time.perf_counter()
    if src is None:  # this code: only `db migrate` and `serve` migrate the schema
        subprocess.run([*cmd, "db", "migrate"], env=env, check=True)
    subprocess.run([*cmd, "import", *map(str, inputs)], env=env, check=True)
    print(f"imported in {time.perf_counter() - start:.0f} s", flush=True)
    marker.touch()


def start_server(data_dir: Path, port: int, workers: int, src: Path | None) -> subprocess.Popen:
    # One client on 127.0.0.1 sends every request: lift the per-IP API rate limit (it still runs).
    base_cmd, extra_env = paperwire_cmd(src)
    env = (
        os.environ
        | extra_env
        | {
            "PAPERWIRE_DATA_DIR": str(data_dir),
            "PAPERWIRE_RATE_LIMIT_API": "1000000000/60",
        }
    )
    cmd = [
        *base_cmd,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-worker",
    ]  # no scheduled jobs (ingest, embedding) during a measurement
    if workers > 1:
        cmd += ["--workers", str(workers)]
    log = open(data_dir / "server.log", "w")  # noqa: SIM115 - open as long as the server runs
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {(data_dir / 'server.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit("server did not start in 120 s")


def run_wrk(
    name: str,
    base: str,
    path: str,
    *,
    duration: int,
    connections: int,
    threads: int,
    rotate: list[str] | None = None,
) -> WrkResult:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        if rotate:
            script = Path(tmp) / "rotate.lua"
            script.write_text(ROTATE_LUA % ", ".join(f'"{p}"' for p in rotate))
            cmd += ["-s", str(script)]
        out = subprocess.run(cmd + [base + path], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50_ms, p99_ms = (_latency_ms(out, pct) for pct in ("50", "99"))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return WrkResult(name, path, rps, p50_ms, p99_ms, requests, non_2xx, errors)


def _latency_ms(out: str, percent: str) -> float:
    """A percentile from wrk's --latency distribution, in milliseconds."""
    found = re.search(rf"\b{percent}%\s+([\d.]+)(us|ms|s)", out)
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]


def first_paper_id(day: dict) -> str:
    """The id of the first paper on a daily page's JSON twin (whatever its key names)."""
    for key in ("papers", "entries", "items"):
        for item in day.get(key) or []:
            paper = item.get("paper", item)
            if paper.get("id"):
                return str(paper["id"])
    raise SystemExit(f"no paper on the latest day: keys {sorted(day)}")


def wait_until_fast(base: str, path: str, *, limit_s: float = 300.0) -> float:
    """Poll `path` until three answers in a row take < 0.3 s: search indexes are loaded.

    A fresh server builds its in-memory keyword index in the background (the database's
    full-text index answers meanwhile, slowly); measuring before that would measure the
    start-up, not the service. Returns the seconds waited.
    """
    started = time.monotonic()
    fast = 0
    while fast < 3 and time.monotonic() - started < limit_s:
        t = time.perf_counter()
        httpx.get(base + path, timeout=60)
        fast = fast + 1 if time.perf_counter() - t < 0.3 else 0
        time.sleep(0.2)
    return time.monotonic() - started


def drain(base: str) -> None:
    """Wait until requests queued by the last run are done, so runs do not overlap."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            start = time.perf_counter()
            httpx.get(f"{base}/healthz", timeout=5)
            if time.perf_counter() - start < 0.2:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="paperwire serve --workers")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "out" / "web-data")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--src", type=Path, help="run the paperwire code in this src/ folder")
    parser.add_argument(
        "--hf",
        type=Path,
        default=SHARED / "data" / "hf-daily-papers",
        help="Hugging Face daily folder to import (once per --data-dir)",
    )
    parser.add_argument(
        "--arxiv",
        type=Path,
        default=SHARED / "data" / "arxiv-cs-2025.jsonl.gz",
        help="arXiv metadata file to import (once per --data-dir)",
    )
    parser.add_argument(
        "--paper",
        default="2506.11924",
        help="paper page to measure (else the first paper of the latest day)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    ensure_database(args.data_dir, args.src, [args.hf, args.arxiv])
    load_before = os.getloadavg()
    if not args.port:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            args.port = sock.getsockname()[1]
    server = start_server(args.data_dir, args.port, args.workers, args.src)
    base = f"http://127.0.0.1:{args.port}"
    try:
        day = httpx.get(f"{base}/?format=json", timeout=30).json()
        latest = day["period"]["key"]
        paper = f"/papers/{args.paper}"
        if httpx.get(base + paper, timeout=60).status_code != 200:
            paper = f"/papers/{first_paper_id(day)}"
        search_paths = [f"/search?q={q.replace(' ', '+')}" for q in QUERIES]
        plan = [
            ("healthz (ceiling)", "/healthz", None),
            (f"daily page (/?date={latest})", f"/?date={latest}", None),
            ("daily page (/, latest day)", "/", None),
            ("/api/daily_papers", f"/api/daily_papers?date={latest}", None),
            (f"paper page ({paper})", paper, None),
            ("trending", "/trending", None),
            ("search page (20 queries)", search_paths[0], search_paths),
            (
                "/api/papers/search (20 queries)",
                "/api/papers/search?q=x",
                [p.replace("/search?q=", "/api/papers/search?q=") for p in search_paths],
            ),
        ]
        for path in ("/", search_paths[0], paper):
            status = httpx.get(base + path, timeout=60).status_code
            print(f"warm-up {path}: {status}", flush=True)
        waited = wait_until_fast(base, "/api/papers/search?q=graph+neural+networks+molecules")
        print(f"search warm after {waited:.0f} s", flush=True)
        results = []
        for name, path, rotate in plan:
            result = run_wrk(
                name,
                base,
                path,
                duration=args.duration,
                connections=args.connections,
                threads=args.threads,
                rotate=rotate,
            )
            results.append(result)
            drain(base)
            print(
                f"{name:40s} {result.rps:9.1f} req/s  p50 {result.p50_ms:8.1f} ms  "
                f"p99 {result.p99_ms:8.1f} ms  "
                f"non-2xx {result.non_2xx}  errors {result.errors}",
                flush=True,
            )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    ceiling = results[0].rps
    load_after = os.getloadavg()
    print(
        f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
        f"workers {args.workers}, code {args.src or 'this checkout'}"
    )
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (1 min)")
    print(
        "| endpoint | req/s | ratio to /healthz | p50 (ms) | p99 (ms) | requests | non-2xx "
        "| socket errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        ratio = r.rps / ceiling
        print(
            f"| {r.name} | {r.rps:.0f} | {ratio:.2f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
            f"| {r.requests} "
            f"| {r.non_2xx} | {r.errors} |"
        )
    bad = sum(r.non_2xx + r.errors for r in results)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
