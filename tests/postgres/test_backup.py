"""`db backup`: a consistent copy on SQLite (backup API) and PostgreSQL (pg_dump)."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.clock import utcnow
from paperwire.demo import demo_items
from paperwire.services.ingest import ingest
from paperwire.store import backup as backup_module
from paperwire.store.backup import BackupError, backup_database, find_pg_dump
from paperwire.store.db import create_db_engine
from paperwire.store.tables import organizations
from tests.conftest import BACKEND


@pytest.fixture
def engine(database_url):
    engine = create_db_engine(database_url)
    ingest(engine, demo_items(date(2025, 6, 16)), source="demo", parameters={})
    yield engine
    engine.dispose()


def _restored_paper_count(request, path: Path) -> int:
    if BACKEND == "sqlite":
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    server = request.getfixturevalue("_postgres_server")
    url = server.empty_database()
    subprocess.run(
        [str(server.bin_dir / "pg_restore"), "--no-owner", f"--dbname={url}", str(path)],
        check=True, capture_output=True,
    )
    engine = create_db_engine(url)
    with engine.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM papers").scalar_one()
    engine.dispose()
    return count


def test_cli_backup_writes_a_restorable_copy(request, engine, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", database_url)
    target = tmp_path / "backups" / "paperwire.backup"
    result = CliRunner().invoke(app, ["db", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert f"backed up to {target}" in result.output
    assert not target.with_name(target.name + ".partial").exists()
    assert _restored_paper_count(request, target) == 12

    again = CliRunner().invoke(app, ["db", "backup", str(target)])
    assert again.exit_code == 1 and "already exists" in again.output
    forced = CliRunner().invoke(app, ["db", "backup", str(target), "--force"])
    assert forced.exit_code == 0, forced.output


def test_backup_while_others_write_is_consistent(request, engine, tmp_path):
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            with engine.begin() as conn:
                conn.execute(insert(organizations).values(name=f"org{n}", created_at=utcnow()))
            n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        time.sleep(0.2)
        report = backup_database(engine, tmp_path / "b.backup")
    finally:
        stop.set()
        writer.join()
    assert report.size_bytes > 0
    assert _restored_paper_count(request, report.path) == 12


def test_missing_pg_dump_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(backup_module.shutil, "which", lambda name: None)
    monkeypatch.setattr(backup_module, "PG_BIN_ROOT", tmp_path)
    with pytest.raises(BackupError, match="pg_dump was not found: install"):
        find_pg_dump()
