"""Fuzz every operation in /openapi.json with Schemathesis, anonymous and with an API token.

Starts the app under uvicorn on 127.0.0.1 with demo papers, a user, an API token
and a comment, runs `schemathesis run` twice (no auth, then Bearer), and counts
what the server answered: every request, by status class, and each 5xx with the
exception behind it. Exits 1 on any 5xx or when fewer than --min-requests ran.

    .venv/bin/python benchmarks/bench_schemathesis.py [--max-examples 25] [--min-requests 2000]
"""

from __future__ import annotations

import argparse
import collections
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

import uvicorn

from paperwire.config import load_settings
from paperwire.demo import demo_items
from paperwire.services import accounts, community
from paperwire.services.ingest import ingest
from paperwire.web.app import create_app
from paperwire.wiring import build_container

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


class Recorder:
    """ASGI wrapper that counts responses and keeps every 5xx with its exception."""

    def __init__(self, app) -> None:
        self.app = app
        self.statuses: collections.Counter[int] = collections.Counter()
        self.errors: list[str] = []
        self.lock = threading.Lock()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {}

        async def record(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        except Exception:
            status.setdefault("code", 500)
            with self.lock:
                self.errors.append(
                    f"{scope['method']} {scope['path']}?{scope['query_string'].decode()[:200]}\n"
                    + traceback.format_exc(limit=6)
                )
            raise
        finally:
            code = status.get("code", 500)
            with self.lock:
                self.statuses[code] += 1
                if code >= 500 and not (
                    self.errors and self.errors[-1].startswith(scope["method"])
                ):
                    self.errors.append(f"{scope['method']} {scope['path']} -> {code}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(container) -> str:
    ingest(container.engine, demo_items(datetime.now(UTC).date()), source="demo", parameters={})
    user = accounts.create_user(
        container.engine,
        username="fuzzer",
        email="fuzz@example.org",
        password="fuzzing-password",
        role="admin",
        verified=True,
    )
    paper_id = "0001.0001"
    community.add_comment(container.engine, user, paper_id, "A seeded comment @fuzzer")
    community.set_vote(container.engine, user, paper_id, True)
    # The fuzzer tries small ids such as 1 on DELETE /api/tokens/{id}: keep its own token's id high.
    for n in range(30):
        accounts.create_api_token(container.engine, user.id, f"decoy {n}")
    return accounts.create_api_token(container.engine, user.id, "schemathesis")


def run_schemathesis(url: str, max_examples: int, headers: list[str], seed_value: int) -> int:
    args = [
        str(SCHEMATHESIS),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        str(max_examples),
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "2",
        "--request-timeout",
        "60",
        "--max-redirects",
        "0",
        "--seed",
        str(seed_value),
        "--suppress-health-check",
        "all",
        "--warnings",
        "off",
        "--continue-on-failure",
        "--exclude-path-regex",
        "^/static",
    ]
    for header in headers:
        args += ["-H", header]
    return subprocess.run(args, check=False).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("--min-requests", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20251122)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="paperwire-fuzz-"))
    settings = load_settings(
        data_dir=workdir,
        database_url=os.environ.get("PAPERWIRE_DATABASE_URL", ""),
        embedder="none",
        arxiv_api_url="http://127.0.0.1:9/api/query",  # nothing listens: arXiv "does not answer"
        http_retries=0,
        rate_limit_api="100000/60",
        rate_limit_login="100000/60",
        rate_limit_signup="100000/60",
        rate_limit_submit="100000/60",
        rate_limit_comment="100000/60",
    )
    container = build_container(settings)
    container.prepare_database()
    token = seed(container)
    recorder = Recorder(create_app(container))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            recorder, host="127.0.0.1", port=port, log_level="critical", timeout_keep_alive=120
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    try:
        run_schemathesis(url, args.max_examples, [], args.seed)
        anonymous = sum(recorder.statuses.values())
        run_schemathesis(url, args.max_examples, [f"Authorization: Bearer {token}"], args.seed + 1)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        container.close()
    total = sum(recorder.statuses.values())
    by_class = collections.Counter(f"{code // 100}xx" for code in recorder.statuses.elements())
    server_errors = sum(n for code, n in recorder.statuses.items() if code >= 500)
    print()
    print(
        f"requests answered: {total} ({anonymous} anonymous, {total - anonymous} with a token) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    print("by status class: " + ", ".join(f"{k} {v}" for k, v in sorted(by_class.items())))
    print("statuses: " + ", ".join(f"{k}:{v}" for k, v in sorted(recorder.statuses.items())))
    print(f"5xx responses: {server_errors}")
    for error in recorder.errors[:20]:
        print("---\n" + error)
    return 0 if server_errors == 0 and total >= args.min_requests else 1


if __name__ == "__main__":
    raise SystemExit(main())
