"""Copy a whole Paperwire database to another one (SQLite <-> PostgreSQL).

The target is migrated first, then every table of the migrated schema is copied in
foreign-key order, found by reflection, so tables that later migrations add come
along without code here. Derived index tables (SQLite FTS5 virtual/shadow tables,
PostgreSQL generated columns) are not copied: the target's own triggers and
generated columns rebuild them as rows arrive.

The copy is resumable: rows go in primary-key order, one transaction per batch, and
rows whose primary key is already in the target are skipped. It ends by resetting
PostgreSQL sequences and comparing row counts per table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Engine,
    MetaData,
    Table,
    func,
    inspect,
    select,
    text,
    tuple_,
)
from sqlalchemy.engine import make_url

from paperwire.config import mask_url_password
from paperwire.store.bulk_insert import insert_rows
from paperwire.store.db import aware_utc, check_connection
from paperwire.store.migrate import current_revision, head_revision, upgrade

SKIPPED_TABLES = {"alembic_version"}

ProgressCallback = Callable[[str, int, int], None]


class CopyError(RuntimeError):
    """The copy cannot start or go on; the message says why."""


@dataclass(slots=True)
class TableResult:
    name: str
    source_rows: int
    copied: int = 0
    already_present: int = 0
    target_rows: int = 0

    @property
    def matches(self) -> bool:
        return self.source_rows == self.target_rows


@dataclass(slots=True)
class CopyReport:
    tables: list[TableResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(t.matches for t in self.tables)

    @property
    def copied(self) -> int:
        return sum(t.copied for t in self.tables)

    def summary_line(self) -> str:
        bad = [t.name for t in self.tables if not t.matches]
        verdict = "all row counts match" if not bad else f"row counts differ in {', '.join(bad)}"
        return (
            f"copied {self.copied} rows in {len(self.tables)} tables in {self.seconds:.1f} s; "
            f"{verdict}"
        )


def derived_tables(engine: Engine) -> set[str]:
    """Index tables the database maintains itself (SQLite FTS virtual + shadow tables)."""
    if engine.dialect.name != "sqlite":
        return set()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
    virtual = {name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")}
    shadow = {name for name, _ in rows for v in virtual if name.startswith(f"{v}_")}
    return virtual | shadow


def copyable_tables(engine: Engine) -> MetaData:
    """Reflect the tables `db copy` moves, in a MetaData whose sorted_tables is FK order."""
    names = set(inspect(engine).get_table_names()) - SKIPPED_TABLES - derived_tables(engine)
    metadata = MetaData()
    metadata.reflect(bind=engine, only=sorted(names))
    return metadata


def same_database(a: Engine, b: Engine) -> bool:
    url_a, url_b = make_url(str(a.url)), make_url(str(b.url))
    if a.dialect.name == b.dialect.name == "sqlite":
        if not url_a.database or not url_b.database:
            return False
        return Path(url_a.database).resolve() == Path(url_b.database).resolve()
    keys = ("host", "port", "database")
    return a.dialect.name == b.dialect.name and all(
        getattr(url_a, k) == getattr(url_b, k) for k in keys
    )


def copy_database(
    source: Engine,
    target: Engine,
    *,
    batch_size: int = 2000,
    on_table: Callable[[str, int], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> CopyReport:
    """Copy every table from source to target (migrating the target first)."""
    started = time.perf_counter()
    if same_database(source, target):
        raise CopyError("the source and the target are the same database")
    check_connection(source)
    check_connection(target)
    if current_revision(source) != head_revision():
        raise CopyError(
            f"the source {mask_url_password(str(source.url))} is not at this release's schema "
            f"({current_revision(source)!r}, expected {head_revision()!r}): "
            "run `paperwire db migrate` on it first"
        )
    upgrade(target)

    source_meta = copyable_tables(source)
    target_meta = copyable_tables(target)
    missing = sorted(set(source_meta.tables) - set(target_meta.tables))
    if missing:
        raise CopyError(f"the target has no table(s) {', '.join(missing)} after migrating")

    report = CopyReport()
    for target_table in target_meta.sorted_tables:
        source_table = source_meta.tables.get(target_table.name)
        if source_table is None:  # a table only the target dialect has: nothing to copy
            continue
        result = _copy_table(source, target, source_table, target_table, batch_size,
                             on_table, on_progress)
        report.tables.append(result)
    if target.dialect.name == "postgresql":
        reset_sequences(target, target_meta)
    for result in report.tables:
        result.source_rows = count_rows(source, source_meta.tables[result.name])
        result.target_rows = count_rows(target, target_meta.tables[result.name])
    report.seconds = time.perf_counter() - started
    return report


def count_rows(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _copy_table(
    source: Engine,
    target: Engine,
    source_table: Table,
    target_table: Table,
    batch_size: int,
    on_table: Callable[[str, int], None] | None,
    on_progress: ProgressCallback | None,
) -> TableResult:
    names = [
        c.name for c in target_table.columns if c.computed is None and c.name in source_table.c
    ]
    result = TableResult(target_table.name, count_rows(source, source_table))
    if on_table:
        on_table(target_table.name, result.source_rows)
    target_had_rows = count_rows(target, target_table) > 0
    key = [c.name for c in source_table.primary_key.columns]
    if not key and target_had_rows:
        raise CopyError(
            f"table {target_table.name} has no primary key and already has rows in the "
            "target, so the copy cannot resume it: empty that table in the target and retry"
        )
    converters = [_converter(target_table.c[name], target.dialect.name) for name in names]
    _store_json_none_as_null(target_table)
    done = 0
    last: tuple[Any, ...] | None = None
    while True:
        rows = _read_batch(source, source_table, names, key, last, done, batch_size)
        if not rows:
            break
        last = tuple(rows[-1][names.index(k)] for k in key)
        records = [
            {n: convert(v) for n, convert, v in zip(names, converters, row, strict=True)}
            for row in rows
        ]
        with target.begin() as conn:
            if target_had_rows:
                present = _present_keys(conn, target_table, key, records)
                fresh = [
                    r for r in records if _normalize_key(tuple(r[k] for k in key)) not in present
                ]
            else:
                fresh = records
            if fresh:
                insert_rows(conn, target_table, fresh)  # COPY into PostgreSQL
        result.copied += len(fresh)
        result.already_present += len(records) - len(fresh)
        done += len(records)
        if on_progress:
            on_progress(target_table.name, done, result.source_rows)
    return result


def _read_batch(
    engine: Engine,
    table: Table,
    names: Sequence[str],
    key: Sequence[str],
    after: tuple[Any, ...] | None,
    offset: int,
    limit: int,
) -> list[tuple[Any, ...]]:
    """The next rows after key `after` (keyset paging); tables without a key page by offset."""
    if not key:
        query = select(*(table.c[n] for n in names)).order_by(*(table.c[n] for n in names))
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(query.offset(offset).limit(limit))]
    key_cols = [table.c[k] for k in key]
    query = select(*(table.c[n] for n in names)).order_by(*key_cols).limit(limit)
    if after is not None:
        if len(key_cols) == 1:
            query = query.where(key_cols[0] > after[0])
        else:
            query = query.where(tuple_(*key_cols) > tuple_(*after))
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def _present_keys(
    conn: Connection, table: Table, key: Sequence[str], records: list[dict[str, Any]]
) -> set[tuple[Any, ...]]:
    key_cols = [table.c[k] for k in key]
    wanted = [tuple(r[k] for k in key) for r in records]
    if len(key_cols) == 1:
        query = select(key_cols[0]).where(key_cols[0].in_([w[0] for w in wanted]))
    else:
        query = select(*key_cols).where(tuple_(*key_cols).in_(wanted))
    return {_normalize_key(tuple(row)) for row in conn.execute(query)}


def _normalize_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(aware_utc(v) if isinstance(v, datetime) else v for v in key)


def _converter(column: Column, dialect: str) -> Callable[[Any], Any]:
    """Adjust a value read from the source for the target column."""
    if isinstance(column.type, DateTime):
        aware_target = dialect == "postgresql" and column.type.timezone
        return _to_aware_utc if aware_target else _to_naive_utc
    if dialect == "sqlite":
        return _plain_bytes
    return _identity


def _identity(value: Any) -> Any:
    return value


def _plain_bytes(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def _to_aware_utc(value: Any) -> Any:
    """Naive datetimes (SQLite) are UTC: say so, for timestamptz."""
    return aware_utc(value) if isinstance(value, datetime) else value


def _to_naive_utc(value: Any) -> Any:
    """SQLite and timestamp-without-time-zone columns hold UTC without an offset."""
    return aware_utc(value).replace(tzinfo=None) if isinstance(value, datetime) else value


def _store_json_none_as_null(table: Table) -> None:
    # A SQL NULL in the source must stay NULL, not become the JSON text 'null'.
    for column in table.columns:
        if isinstance(column.type, JSON):
            column.type.none_as_null = True


def reset_sequences(engine: Engine, metadata: MetaData) -> None:
    """Move PostgreSQL sequences past the copied ids, so new rows get fresh ones."""
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            for column in table.primary_key.columns:
                sequence = conn.execute(
                    text("SELECT pg_get_serial_sequence(:table, :column)"),
                    {"table": quote(table.name), "column": column.name},
                ).scalar_one()
                if sequence is None:
                    continue
                conn.execute(
                    text(
                        f"SELECT setval(:sequence, COALESCE((SELECT MAX({quote(column.name)}) "
                        f"FROM {quote(table.name)}), 0) + 1, false)"
                    ),
                    {"sequence": sequence},
                )
