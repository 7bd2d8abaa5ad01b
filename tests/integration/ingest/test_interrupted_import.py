"""A killed import: shown as interrupted (not running for good), and a rerun completes it
to exactly what a clean import stores (each batch is one transaction)."""

from __future__ import annotations

import gzip
import itertools
import os
import signal
import time

import orjson
from sqlalchemy import func, select

from paperwire.store.db import create_db_engine
from paperwire.store.tables import papers
from tests.integration.ingest.import_processes import import_contents, run_import, start_import

LINES = 8000  # four batches of 2,000


def _paper_count(url: str) -> int:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(papers))
    finally:
        engine.dispose()


def _status(runner) -> dict:
    result = runner("status", "--json")
    assert result.exit_code == 0, result.output
    return orjson.loads(result.output)


def _wait_for_first_batch(process, url: str, timeout_s: float = 120.0) -> None:
    """Bounded wait for a condition: the import has committed a batch and is still going."""
    deadline = time.monotonic() + timeout_s
    while _paper_count(url) == 0:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the import wrote nothing"
        time.sleep(0.05)


def test_killed_import_shows_interrupted_and_a_rerun_gives_a_clean_import(
    shared_dir, database_url, second_database_url, tmp_path, monkeypatch
):
    source = tmp_path / "arxiv.jsonl"
    with gzip.open(shared_dir / "data" / "arxiv-cs-2025.jsonl.gz", "rb") as lines:
        source.write_bytes(b"".join(itertools.islice(lines, LINES)))
    data_dir = tmp_path / "data"

    killed = start_import(database_url, data_dir, source)
    try:
        _wait_for_first_batch(killed, database_url)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=60)
    finally:
        killed.stdout.close()
        killed.stderr.close()
    partial = _paper_count(database_url)
    assert 0 < partial < LINES  # killed mid-import

    from typer.testing import CliRunner

    from paperwire.cli import app

    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", database_url)
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    runner = CliRunner()

    def cli(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    [run] = _status(cli)["ingestRuns"]
    assert run["state"] == "interrupted" and run["workerId"].endswith("ingest-import")
    assert str(killed.pid) in run["workerId"]
    assert "interrupted" in cli("status").output

    run_import(database_url, data_dir, source)  # the rerun
    run_import(second_database_url, tmp_path / "clean", source)  # a clean import
    rerun, first = _status(cli)["ingestRuns"]
    assert (rerun["state"], first["state"]) == ("ok", "interrupted")
    assert _paper_count(database_url) == _paper_count(second_database_url) > partial
    assert import_contents(database_url) == import_contents(second_database_url)
