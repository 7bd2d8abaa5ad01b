"""`paperwire serve --workers N` runs N web processes on one database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.pg_server import free_port

PAPERWIRE = str(Path(sys.executable).parent / "paperwire")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found.extend(int(c) for c in children)
    return found


@pytest.mark.postgres_only  # several web processes is the PostgreSQL set-up
def test_serve_with_two_workers(database_url, tmp_path):
    port = free_port()
    env = {**os.environ, "PAPERWIRE_DATABASE_URL": database_url,
           "PAPERWIRE_DATA_DIR": str(tmp_path / "data"), "PAPERWIRE_EMBEDDER": "none"}
    process = subprocess.Popen(
        [PAPERWIRE, "serve", "--workers", "2", "--port", str(port), "--demo",
         "--log-level", "warning"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 240  # slow only on a crowded machine
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.3)
        # uvicorn's supervisor keeps N worker processes (plus its resource tracker)
        workers = [c for c in _children(process.pid)
                   if "multiprocessing.resource_tracker" not in
                   Path(f"/proc/{c}/cmdline").read_text()]
        assert len(workers) == 2, workers
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            statuses = {client.get("/").status_code for _ in range(20)}
        assert statuses == {200}
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert "demo data: imported 12 papers" in output
    assert "with 2 processes" in output
    assert process.returncode == 0, output
