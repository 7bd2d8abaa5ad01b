"""Shared throttle counters: one atomic upsert-increment per hit, seen by all processes."""

from __future__ import annotations

from sqlalchemy import Connection, delete
from sqlalchemy.dialects import postgresql, sqlite

from paperwire.store.accounts_tables import throttle_counters as t


def hit(conn: Connection, bucket: str, key: str, window_start: int) -> int:
    """Count one hit of `key` in `bucket`'s window and return the window's total."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(t).values(bucket=bucket, key=key[:320], window_start=window_start,
                                    count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.bucket, t.c.key, t.c.window_start],
        set_={"count": t.c.count + 1},
    ).returning(t.c.count)
    return conn.execute(stmt).scalar_one()


def forget_before(conn: Connection, window_start: int) -> None:
    """Drop counters of windows that started before `window_start`."""
    conn.execute(delete(t).where(t.c.window_start < window_start))
