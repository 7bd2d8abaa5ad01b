"""Online, consistent backups: SQLite's backup API, or pg_dump for PostgreSQL.

Both write to `PATH.partial` first and rename at the end, so PATH is either a whole
backup or absent, never half a file.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from paperwire.config import mask_url_password
from paperwire.store.db import check_connection

PG_BIN_ROOT = Path("/usr/lib/postgresql")  # Debian's versioned server/client binaries


class BackupError(RuntimeError):
    """The backup could not be made; the message says why."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    size_bytes: int
    seconds: float
    method: str

    def summary_line(self) -> str:
        return (
            f"backed up to {self.path} ({self.size_bytes / 1e6:.1f} MB, {self.method}) "
            f"in {self.seconds:.1f} s"
        )


def backup_database(engine: Engine, path: Path, *, overwrite: bool = False) -> BackupReport:
    """Write a consistent copy of the live database to `path`."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise BackupError(f"{path} already exists (pass --force to replace it)")
    if path.is_dir():
        raise BackupError(f"{path} is a directory; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    check_connection(engine)
    partial = path.with_name(path.name + ".partial")
    started = time.perf_counter()
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_backup(engine, partial)
            method = "SQLite online backup"
        elif engine.dialect.name == "postgresql":
            _pg_dump(engine, partial)
            method = "pg_dump custom format; restore with pg_restore"
        else:
            raise BackupError(f"no backup method for {engine.dialect.name}")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(path, path.stat().st_size, time.perf_counter() - started, method)


def _sqlite_backup(engine: Engine, partial: Path) -> None:
    source = engine.raw_connection()
    try:
        target = sqlite3.connect(partial)
        try:
            # One step under one read snapshot: WAL writers go on meanwhile, never restart it.
            source.driver_connection.backup(target, pages=-1)
            ok = target.execute("PRAGMA quick_check").fetchone()[0]
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            target.close()
    finally:
        source.close()
    if ok != "ok":
        raise BackupError(f"the backup failed its integrity check: {ok}")


def find_pg_dump() -> str:
    """pg_dump on PATH, else the newest one from Debian's PostgreSQL packages."""
    found = shutil.which("pg_dump")
    if found:
        return found
    candidates = sorted(PG_BIN_ROOT.glob("*/bin/pg_dump"), reverse=True)
    if candidates:
        return str(candidates[0])
    raise BackupError(
        "pg_dump was not found: install the PostgreSQL client tools "
        "(Debian/Ubuntu: apt install postgresql-client) in the server's major version or newer"
    )


def _pg_dump(engine: Engine, partial: Path) -> None:
    url = make_url(str(engine.url))
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # not on the command line, where ps shows it
    # libpq URI without the password (query options such as sslmode are kept).
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False
    )
    args = [find_pg_dump(), "--format=custom", "--no-owner", f"--file={partial}",
            f"--dbname={conninfo}"]
    done = subprocess.run(args, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(
            f"pg_dump of {mask_url_password(str(engine.url))} failed: {reason}"
        )
