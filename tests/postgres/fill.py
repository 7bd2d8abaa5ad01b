"""Put a few synthetic rows in EVERY table, found by reflection, for copy round trips.

Values follow the column types, foreign keys point at existing parent rows, CHECK
`col IN (...)` lists are respected, and every third row leaves nullable columns NULL.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    func,
    inspect,
    select,
)
from sqlalchemy.exc import DBAPIError

from paperwire.store.transfer import copyable_tables

IN_LIST = re.compile(r"\(?\s*\"?(\w+)\"?\s+IN\s*\(([^)]*)\)", re.IGNORECASE)


def _check_values(engine: Engine, table: Table) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for check in inspect(engine).get_check_constraints(table.name):
        for column, listed in IN_LIST.findall(check["sqltext"]):
            values[column] = re.findall(r"'([^']*)'", listed)
    return values


def _value(column, i: int, parents: dict[str, list[Any]], checks: dict[str, list[str]]) -> Any:
    name = column.name
    if name in parents:
        return parents[name][i % len(parents[name])]
    if column.nullable and i % 3 == 2:
        return None
    if name in checks:
        return checks[name][i % len(checks[name])]
    kind = column.type
    if isinstance(kind, Boolean):
        return i % 2 == 0
    if isinstance(kind, Integer):
        return i + 1
    if isinstance(kind, Float | Numeric):
        return i + 0.5
    if isinstance(kind, DateTime):
        return datetime(2025, 6, 16, 12, 30, 15, 123456, tzinfo=UTC) - timedelta(days=i)
    if isinstance(kind, Date):
        return date(2025, 6, 16) + timedelta(days=i)
    if isinstance(kind, JSON):
        return {"i": i, "tags": ["a", "ü"]}
    if isinstance(kind, LargeBinary):
        return bytes(range(i, i + 16))
    if isinstance(kind, String):
        text = f"{name}-{i}-ü"
        return text[: kind.length] if kind.length else text
    return None


def fill_every_table(engine: Engine, rows: int = 3) -> dict[str, str]:
    """Fill empty tables; return {table: reason} for those that could not be filled."""
    metadata = copyable_tables(engine)
    skipped: dict[str, str] = {}
    for table in metadata.sorted_tables:
        with engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(table)).scalar_one():
                continue
            parents: dict[str, list[Any]] = {}
            for fk in table.foreign_keys:
                if fk.column.table is table:
                    continue  # self reference: stays NULL
                keys = conn.execute(
                    select(fk.column).order_by(fk.column).limit(rows)
                ).scalars().all()
                parents[fk.parent.name] = list(keys)
        if any(not keys for keys in parents.values()):
            skipped[table.name] = "a parent table is empty"
            continue
        pk = list(table.primary_key.columns)
        auto_id = len(pk) == 1 and isinstance(pk[0].type, Integer) and not pk[0].foreign_keys
        checks = _check_values(engine, table)
        records = [
            {
                c.name: _value(c, i, parents, checks)
                for c in table.columns
                if c.computed is None and not (auto_id and c is pk[0])
                and not (c.foreign_keys and next(iter(c.foreign_keys)).column.table is table)
            }
            for i in range(rows)
        ]
        try:
            with engine.begin() as conn:
                conn.execute(table.insert(), records)
        except DBAPIError as exc:
            skipped[table.name] = str(exc.orig).splitlines()[0]
    return skipped


def dump_tables(engine: Engine) -> dict[str, list[tuple]]:
    """Every copyable table's rows, in a comparable, order-independent form."""
    metadata = copyable_tables(engine)
    dumped: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if c.computed is None]
            rows = conn.execute(select(*columns)).all()
            dumped[table.name] = sorted((tuple(_plain(v) for v in row) for row in rows), key=repr)
    return dumped


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, memoryview):
        return bytes(value)
    return value
