"""Bulk INSERT of new rows, in the caller's transaction, the fast way for each database.

- SQLite: multi-row VALUES statements. executemany would run one statement per row,
  and the FTS5 trigger on papers would then flush its pending index data once per
  row (twice the CPU).
- PostgreSQL (psycopg), big batches: COPY. Multi-row VALUES cost psycopg more client
  CPU than the server spends on the rows: it re-parses every long statement to find
  its thousands of placeholders (queries that long are not cached).
- Small batches everywhere: multi-row VALUES (a single submitted paper needs no COPY).

Values pass through the columns' own SQLAlchemy bind processors and scalar defaults,
so they are stored exactly as a Core insert stores them, and database errors come
back as SQLAlchemy's exceptions (IntegrityError for a duplicate key) either way.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import DBAPIError

# SQLite allows 32766 bound values per statement, psycopg 65535; stay well under both.
_VALUES_PER_STATEMENT = 16_000
_ROWS_PER_STATEMENT = 500
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
COPY_MIN_ROWS = 50


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, object]]) -> None:
    """INSERT `rows` (all with the same keys) into `table`."""
    if not rows:
        return
    dialect = conn.dialect
    marker = _PLACEHOLDERS.get(dialect.paramstyle)
    if marker is None:
        conn.execute(insert(table), list(rows))
        return
    names, values = _bound_values(conn, table, rows)
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(n) for n in names)
    table_name = dialect.identifier_preparer.format_table(table)
    if dialect.driver == "psycopg" and len(rows) >= COPY_MIN_ROWS:
        _copy(conn, f"COPY {table_name} ({columns}) FROM STDIN", values)
        return
    width = len(names)
    per_statement = max(1, min(_ROWS_PER_STATEMENT, _VALUES_PER_STATEMENT // width))
    placeholder = "(" + ", ".join([marker] * width) + ")"
    prefix = f"INSERT INTO {table_name} ({columns}) VALUES "
    for start in range(0, len(values), per_statement):
        chunk = values[start : start + per_statement]
        flat = tuple(value for row in chunk for value in row)
        conn.exec_driver_sql(prefix + ", ".join([placeholder] * len(chunk)), flat)


def _bound_values(
    conn: Connection, table: Table, rows: Sequence[dict[str, object]]
) -> tuple[list[str], list[list[object]]]:
    """Column names (the rows' keys, then columns with scalar defaults) and each row's
    values after the columns' bind processors."""
    dialect = conn.dialect
    names = list(rows[0])
    default_names = [
        c.name for c in table.columns
        if c.name not in rows[0] and c.default is not None and c.default.is_scalar
    ]
    processors = [
        (i, proc)
        for i, name in enumerate(names)
        if (proc := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    default_values = []
    for name in default_names:
        proc = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        value = table.c[name].default.arg
        default_values.append(proc(value) if proc else value)
    out = []
    for row in rows:
        values = [row[name] for name in names]
        for i, proc in processors:
            values[i] = proc(values[i])
        values.extend(default_values)
        out.append(values)
    return [*names, *default_names], out


def _copy(conn: Connection, statement: str, values: list[list[object]]) -> None:
    """COPY FROM STDIN on the connection's own psycopg connection (same transaction)."""
    import psycopg

    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
