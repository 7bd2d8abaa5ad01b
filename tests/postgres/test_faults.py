"""Faults: unreachable database at start-up, a schema from the future, a lost connection."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from typer.testing import CliRunner

from paperwire.cli import app as cli_app
from paperwire.config import load_settings
from paperwire.store.db import create_db_engine
from paperwire.store.migrate import SchemaTooNew, upgrade
from paperwire.web.app import create_app
from paperwire.wiring import build_container
from tests.pg_server import PostgresServer, free_port

PAPERWIRE = str(Path(sys.executable).parent / "paperwire")


def _run_cli(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PAPERWIRE_DATA_DIR": str(tmp_path / "data"), **env}
    return subprocess.run([PAPERWIRE, *args], env=full_env, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)


@pytest.mark.parametrize("command", [["serve", "--workers", "2"], ["db", "migrate"]])
def test_unreachable_database_is_one_line_naming_the_masked_url(command, tmp_path):
    port = free_port()  # nothing listens there
    url = f"postgresql://paperwire:s3cret-pw@127.0.0.1:{port}/paperwire"
    done = _run_cli([*command], {"PAPERWIRE_DATABASE_URL": url}, tmp_path)  # hang: TimeoutExpired
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: cannot reach the database at ")
    assert f"paperwire:***@127.0.0.1:{port}/paperwire" in lines[0]
    assert "s3cret" not in done.stderr + done.stdout


def test_a_server_that_never_answers_ends_in_the_connect_timeout(tmp_path):
    """A port that accepts connections but never speaks: the connect timeout ends the
    wait with one line (no wall-clock bound; a hang would hit the runner's timeout)."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        url = f"postgresql://paperwire:pw@127.0.0.1:{port}/paperwire"
        done = _run_cli(["db", "migrate"], {"PAPERWIRE_DATABASE_URL": url}, tmp_path)
    assert done.returncode != 0
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: cannot reach the database at ") and "timeout" in line, line


def test_backup_of_an_unreachable_database_writes_nothing(tmp_path, monkeypatch):
    port = free_port()
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", f"postgresql://u:pw-xyz@127.0.0.1:{port}/db")
    result = CliRunner().invoke(cli_app, ["db", "backup", str(tmp_path / "out.backup")])
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot reach the database at ")
    assert "u:***@127.0.0.1" in result.output and "pw-xyz" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_newer_schema_is_refused_with_the_reason(database_url, monkeypatch):
    engine = create_db_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    with pytest.raises(SchemaTooNew, match="newer release"):
        upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", database_url)
    result = CliRunner().invoke(cli_app, ["db", "migrate"])
    assert result.exit_code == 1
    assert "error: the database is at schema revision '0099_from_the_future'" in result.output
    assert "Traceback" not in result.output


def _app_with_probe(container):
    """The real app plus one route that queries the database."""
    app = create_app(container)

    @app.get("/_probe")
    def probe() -> dict[str, int]:
        with container.engine.connect() as conn:
            return {"papers": conn.execute(text("SELECT count(*) FROM papers")).scalar_one()}

    return app


def test_database_errors_map_to_503_but_bugs_stay_500(container):
    app = create_app(container)

    @app.get("/_down")
    def down() -> None:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    @app.get("/_bug")
    def bug() -> None:
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/_down")
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
        assert "unavailable" in response.json()["detail"]
        page = client.get("/_down", headers={"accept": "text/html"})
        assert page.status_code == 503 and "Temporarily unavailable" in page.text
        assert client.get("/_bug").status_code == 500


@pytest.mark.postgres_only
def test_restarting_postgres_under_load_gives_503_then_recovers(tmp_path):
    import uvicorn

    server = PostgresServer.start(template=False)
    try:
        url = server.empty_database()
        container = build_container(load_settings(database_url=url, data_dir=tmp_path / "d",
                                                  embedder="none"))
        container.prepare_database()
        port = free_port()
        web = uvicorn.Server(uvicorn.Config(_app_with_probe(container), host="127.0.0.1",
                                            port=port, log_level="error"))
        web_thread = threading.Thread(target=web.run, daemon=True)
        web_thread.start()
        while not web.started:
            time.sleep(0.05)
        results: list[tuple[float, int]] = []
        stop = threading.Event()
        seen = threading.Condition()

        def load() -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                while not stop.is_set():
                    answer = (time.monotonic(), client.get("/_probe").status_code)
                    with seen:
                        results.append(answer)
                        seen.notify_all()

        def wait_for(condition) -> None:  # bounded waits on what the load saw, no sleeps
            with seen:
                assert seen.wait_for(lambda: condition(results), timeout=60), results[-5:]

        workers = [threading.Thread(target=load) for _ in range(4)]
        for worker in workers:
            worker.start()
        wait_for(lambda r: sum(code == 200 for _, code in r) >= 20)
        server.pause("fast")  # ends the sessions mid-query, then refuses connections
        paused_at = time.monotonic()
        wait_for(lambda r: sum(code == 503 and at > paused_at for at, code in r) >= 4)
        server.resume()
        back_at = time.monotonic()
        wait_for(lambda r: sum(code == 200 and at > back_at + 1.0 for at, code in r) >= 20)
        stop.set()
        for worker in workers:
            worker.join()
        web.should_exit = True
        web_thread.join(timeout=10)
        container.close()
    finally:
        server.stop()
    codes = [code for _, code in results]
    assert set(codes) <= {200, 503}, sorted(set(codes))
    assert codes.count(503) > 0 and codes.count(200) > 0
    after = [code for at, code in results if at > back_at + 1.0]
    assert after and set(after) == {200}  # reconnected on its own
