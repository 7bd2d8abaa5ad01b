"""A throwaway PostgreSQL server for tests: initdb + pg_ctl in a temp dir, on a free port.

Each test gets its own database, cloned from a migrated template, and dropped after
the test. Nothing already running on the machine is used; the server is stopped at
the end of the session (and at interpreter exit, should a session die half-way).
"""

from __future__ import annotations

import atexit
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from paperwire.store.db import create_db_engine
from paperwire.store.migrate import upgrade

TEMPLATE = "paperwire_template"
SERVER_SETTINGS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
    "-c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB"
)


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


def _postgres_can(test_flag: str, path: Path) -> bool:
    """Whether the user the server runs as passes `test <flag> path` (e.g. -x, -w)."""
    if os.geteuid() != 0:
        return True  # the server runs as us
    done = subprocess.run(_run_as_postgres_user(["test", test_flag, str(path)]),
                          capture_output=True)
    return done.returncode == 0


def _server_base() -> Path:
    """A new private folder for the server, inside a folder its user can enter.

    As root the server runs as `postgres`, which cannot enter a private TMPDIR (or a
    `mktemp -d` checkout); fall back to the world-writable temp folders then. The path
    is kept short: the server's Unix socket lives in it (sun_path holds 107 bytes).
    """
    candidates = [Path(tempfile.gettempdir()), Path("/tmp"), Path("/var/tmp")]
    for parent in candidates:
        if parent.is_dir() and len(str(parent)) < 60 and _postgres_can("-x", parent):
            base = Path(tempfile.mkdtemp(prefix="paperwire-pg-", dir=parent))
            if os.geteuid() == 0:
                shutil.chown(base, "postgres")
            return base
    raise RuntimeError(f"no temp folder the PostgreSQL user can enter among {candidates}")


def _reachable_bin_dir(bin_dir: Path, base: Path) -> Path:
    """`bin_dir`, or a copy of its installation under `base` when the server's user
    cannot run it in place (pgserver's build inside a `.venv` in a private folder)."""
    if _postgres_can("-x", bin_dir / "initdb"):
        return bin_dir
    # A wheel's build (pgserver) finds its libraries through an rpath into a sibling
    # `<package>.libs` folder a few levels up: copy those along, keeping the layout.
    root = bin_dir.parents[2]
    relative = bin_dir.parent.relative_to(root)
    copy_root = base / "pginstall"
    shutil.copytree(bin_dir.parent, copy_root / relative, symlinks=True)
    for libs in root.glob("*.libs"):
        shutil.copytree(libs, copy_root / libs.name, symlinks=True)
    subprocess.run(["chown", "-R", "postgres", str(copy_root)], check=True)
    return copy_root / relative / bin_dir.name


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(_run_as_postgres_user(args), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr or done.stdout}")


@dataclass
class PostgresServer:
    data_dir: Path
    port: int
    bin_dir: Path
    running: bool = field(default=True)
    settings: str = SERVER_SETTINGS
    _counter = itertools.count()

    @classmethod
    def start(cls, *, template: bool = True, settings: str = SERVER_SETTINGS) -> PostgresServer:
        base = _server_base()
        data_dir = base / "data"
        try:
            bin_dir = _reachable_bin_dir(find_pg_bin(), base)
            _run([str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"], "initdb")
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)  # a failed initdb leaves nothing behind
            raise
        server = cls(data_dir=data_dir, port=free_port(), bin_dir=bin_dir, running=False,
                     settings=settings)
        atexit.register(server.stop)
        try:
            server.resume()
            if template:
                server._create_template()
        except BaseException:
            server.stop()  # e.g. a broken migration: never leave the server running
            raise
        return server

    @property
    def base(self) -> Path:
        return self.data_dir.parent

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)

    def _create_template(self) -> None:
        self._admin(f"CREATE DATABASE {TEMPLATE}")
        engine = create_db_engine(self.url(TEMPLATE))
        try:
            upgrade(engine)
        finally:
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

    def pause(self, mode: str = "fast") -> None:
        """Stop the server but keep its data (`fast` ends open sessions mid-query)."""
        _run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"],
             "pg_ctl stop")
        self.running = False

    def resume(self) -> None:
        """Start (again) on the same port and data."""
        opts = f"-p {self.port} -k {self.base} {self.settings}"
        _run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", opts,
              "-l", str(self.base / "log"), "-w", "-t", "60", "start"], "pg_ctl start")
        self.running = True
        self._wait_ready()

    def _wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self._admin("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        if self.data_dir.exists():
            subprocess.run(
                _run_as_postgres_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir),
                                       "-m", "immediate", "-w", "stop"]),
                capture_output=True,
            )
        self.running = False
        shutil.rmtree(self.base, ignore_errors=True)
