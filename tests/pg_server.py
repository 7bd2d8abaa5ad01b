"""A throwaway PostgreSQL server for tests: initdb + pg_ctl in a temp dir, on a free port.

Each test gets its own database, cloned from a migrated template.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from paperwire.store.db import create_db_engine
from paperwire.store.migrate import upgrade

TEMPLATE = "paperwire_template"


def find_pg_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        found = shutil.which("initdb")
        assert found, "PostgreSQL server binaries are missing: run `make system-test-deps`."
        return Path(found).parent
    return Path(candidates[0]).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as_postgres_user(args: list[str]) -> list[str]:
    # initdb refuses to run as root; drop to the `postgres` user that Debian's package creates.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@dataclass
class PostgresServer:
    data_dir: Path
    port: int
    bin_dir: Path
    _counter = itertools.count()

    @classmethod
    def start(cls) -> PostgresServer:
        # Under /tmp so the unprivileged `postgres` user can reach it when we run as root.
        base = Path(tempfile.mkdtemp(prefix="paperwire-pg-"))
        bin_dir = find_pg_bin()
        data_dir = base / "data"
        if os.geteuid() == 0:
            shutil.chown(base, "postgres")
        subprocess.run(
            _run_as_postgres_user([str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres",
                                   "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
            check=True, capture_output=True,
        )
        port = free_port()
        opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        subprocess.run(
            _run_as_postgres_user([str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-o", opts,
                                   "-l", str(base / "log"), "-w", "start"]),
            check=True, capture_output=True,
        )
        server = cls(data_dir=data_dir, port=port, bin_dir=bin_dir)
        server._create_template()
        return server

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def _create_template(self) -> None:
        self._admin(f"CREATE DATABASE {TEMPLATE}")
        engine = create_db_engine(self.url(TEMPLATE))
        upgrade(engine)
        engine.dispose()

    def fresh_database(self) -> str:
        """A new database cloned from the migrated template."""
        name = f"test_{os.getpid()}_{next(self._counter)}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def empty_database(self) -> str:
        """A new database with no schema at all."""
        name = f"empty_{os.getpid()}_{next(self._counter)}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a test database, closing whatever connections are still open on it."""
        name = url.rsplit("/", 1)[1]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        subprocess.run(
            _run_as_postgres_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)
