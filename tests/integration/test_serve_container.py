"""`paperwire serve` builds one container per process: with one web process, the app
and the built-in worker share it (one engine, one embedder, one copy of each index)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner


@pytest.fixture
def serve(monkeypatch, tmp_path, database_url):
    """Run `paperwire serve ARGS` with uvicorn's server loop replaced by a recorder (no
    port is bound); returns what the worker and uvicorn were handed."""
    import uvicorn

    import paperwire.worker
    from paperwire.cli import app

    monkeypatch.setenv("PAPERWIRE_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", database_url)
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    monkeypatch.setenv("PAPERWIRE_FIRST_RUN_FETCH", "false")
    # serve sets PAPERWIRE_BASE_URL from --port: set-then-delete makes monkeypatch undo it
    monkeypatch.setenv("PAPERWIRE_BASE_URL", "")
    monkeypatch.delenv("PAPERWIRE_BASE_URL")
    seen: dict[str, object] = {}

    def worker(container, **_kwargs):  # the worker's loop would fetch from the network
        seen["worker_container"] = container
        return lambda: seen.setdefault("worker_stopped", True)

    def run(target, **kwargs):
        seen["target"], seen["kwargs"] = target, kwargs
        if not kwargs.get("factory"):
            with TestClient(target) as client:  # the app really serves, on that container
                seen["healthz"] = client.get("/healthz").status_code
                seen["engine_open"] = target.state.container.__dict__.get("engine")

    monkeypatch.setattr(paperwire.worker, "start_background_worker", worker)
    monkeypatch.setattr(uvicorn, "run", run)

    def invoke(*args: str) -> dict[str, object]:
        result = CliRunner().invoke(app, ["serve", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return seen

    return invoke


def test_one_web_process_shares_its_container_with_the_worker(serve):
    seen = serve("--port", "8123")
    container = seen["worker_container"]
    app = seen["target"]
    assert seen["kwargs"]["factory"] is False and seen["kwargs"]["workers"] == 1
    assert app.state.container is container
    assert seen["engine_open"] is container.engine  # one engine for requests and jobs
    assert seen["healthz"] == 200 and seen["worker_stopped"]


def test_several_web_processes_build_their_own_and_the_worker_runs_once(serve):
    seen = serve("--port", "8123", "--workers", "2")
    assert seen["target"] == "paperwire.web.asgi:create_app_from_env"
    assert seen["kwargs"]["factory"] is True and seen["kwargs"]["workers"] == 2
    assert seen["worker_container"] is not None
