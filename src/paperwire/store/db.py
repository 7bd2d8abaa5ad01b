"""Engine creation and connection checks for SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import zlib
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Connection, Engine, Insert, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from paperwire.clock import aware_utc, utcnow  # noqa: F401  (re-exported for store/ and services/)
from paperwire.config import mask_url_password
from paperwire.store.events import install as install_change_events


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; the message names the masked URL."""


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url if isinstance(engine_or_url, str) else str(engine_or_url.url)
    return url.startswith("sqlite")


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create an engine with the pragmas and pool settings Paperwire relies on."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(
            url,
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args={"connect_timeout": 5},
        )
    install_change_events(engine)  # store.events: published after each commit
    return engine


class DataVersion:
    """A number that changes whenever a connection commits to the database, this
    process's or another's: SQLite's `PRAGMA data_version`, read on a connection of its
    own that never writes (~10 µs, where a query on the engine's pool costs ~0.3 ms).
    `None` where there is no such number (PostgreSQL, an in-memory database, a file this
    cannot open): the caller then looks at the data itself."""

    def __init__(self, engine: Engine) -> None:
        database = make_url(str(engine.url)).database if is_sqlite(engine) else None
        self._path = database if database and database != ":memory:" else None
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def __call__(self) -> int | None:
        if self._path is None:
            return None
        with self._lock:
            try:
                if self._conn is None:
                    if not Path(self._path).is_file():  # connecting would create it
                        return None
                    self._conn = sqlite3.connect(self._path, timeout=30, isolation_level=None,
                                                 check_same_thread=False)
                return int(self._conn.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error:
                self._conn = None
                return None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


def check_connection(engine: Engine) -> None:
    """Fail fast with one clear line if the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(
            f"cannot reach the database at {mask_url_password(str(engine.url))}: {reason}"
        ) from None


def insert_ignore(bind: Connection | Engine, table: Table, *,
                  index_elements: Iterable[str] | None = None) -> Insert:
    """INSERT ... ON CONFLICT [(index_elements)] DO NOTHING, on SQLite and PostgreSQL."""
    name = bind.dialect.name
    if name == "postgresql":
        statement = postgresql.insert(table)
    elif name == "sqlite":
        statement = sqlite.insert(table)
    else:  # pragma: no cover - only the two supported backends
        raise NotImplementedError(f"no INSERT ... ON CONFLICT for {name}")
    elements = list(index_elements) if index_elements is not None else None
    return statement.on_conflict_do_nothing(index_elements=elements)


# PostgreSQL advisory locks of the write path: (namespace, bucket). A row's bucket is
# crc32(key) % LOCK_BUCKETS; 192 is a multiple of 1-4, so ingest's parallel writers
# (which split a batch by crc32(id) % writers) never wait on each other's buckets.
LOCK_BUCKETS = 192
LOCK_NAMESPACES = {"papers": 0x70770001, "accounts": 0x70770002, "subscriptions": 0x70770003}


def lock_for_write(conn: Connection, namespace: str, keys: Iterable[str]) -> None:
    """Make the caller's read-merge-write of the rows named by `keys` exclusive.

    Call it first in the write transaction, before reading what will be merged.
    - SQLite: takes the database's write lock now (`BEGIN IMMEDIATE`). Python's
      legacy transaction mode starts a transaction only at the first write, so the
      reads before it would otherwise see data another writer is about to replace.
    - PostgreSQL: transaction-scoped advisory locks on the keys' buckets, taken in
      bucket order (no deadlocks between writers). They also cover keys that are not
      stored yet, so two writers never insert the same new row at once.
    The locks are released at commit or rollback.
    """
    if conn.dialect.name == "sqlite":
        if not conn.connection.dbapi_connection.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        return
    buckets = sorted({zlib.crc32(key.encode()) % LOCK_BUCKETS for key in keys})
    if buckets:
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, b) "
                 "FROM unnest(CAST(:buckets AS integer[])) AS b ORDER BY b"),
            {"namespace": LOCK_NAMESPACES[namespace], "buckets": buckets},
        )
