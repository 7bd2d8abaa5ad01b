"""Throttle counters shared by every process: the per-IP and per-account request limits
(web/rate_limit.py) and the mail throttle (services/mail_throttle.py).

One row per (bucket, key): the hits in a window that starts at the key's first hit
after the previous window ended. `take` counts a hit with one atomic upsert whose
condition refuses it when the window is full, so two processes (or threads) never
both get the last place; there is no read before the write.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, and_, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from paperwire.domain.rate_limits import RateLimit
from paperwire.store.accounts_tables import throttle_counters as t

KEEP_S = 2 * 86400  # counters idle this long are dropped (longer than any window in use)


@dataclass(frozen=True, slots=True)
class Hit:
    bucket: str
    key: str
    limit: RateLimit


@dataclass(frozen=True, slots=True)
class Taken:
    allowed: bool
    retry_after_s: int = 0  # when refused: seconds until the full window ends
    window_start: float = 0.0  # when allowed: the window the hit was counted in
    # take_all, when allowed: the window each hit was counted in (for give_back)
    windows: dict[Hit, float] = field(default_factory=dict)


def take(conn: Connection, hit: Hit, now: float) -> Taken:
    """Count one hit of `hit.key` unless its window is full (then nothing changes)."""
    key = hit.key[:320]
    expired = t.c.window_start <= now - hit.limit.window_s
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(t).values(bucket=hit.bucket, key=key, window_start=now, count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.bucket, t.c.key],
        set_={"count": case((expired, 1), else_=t.c.count + 1),
              "window_start": case((expired, now), else_=t.c.window_start)},
        where=expired | (t.c.count < hit.limit.count),
    ).returning(t.c.count, t.c.window_start)
    row = conn.execute(stmt).first()
    if row is not None:
        if row.count == 1:  # a new window: now and then, drop long-idle counters
            conn.execute(delete(t).where(t.c.window_start < now - KEEP_S))
        return Taken(True, window_start=row.window_start)
    started = conn.execute(
        select(t.c.window_start).where(t.c.bucket == hit.bucket, t.c.key == key)
    ).scalar()
    started = now if started is None else started
    return Taken(False, max(1, math.ceil(started + hit.limit.window_s - now)))


def take_all(engine: Engine, hits: Sequence[Hit], now: float) -> Taken:
    """Count one hit of each key, or none of them: refused when any window is full
    (the refusal with the longest wait). Keys are taken in one order, so concurrent
    transactions on PostgreSQL never wait on each other in a circle."""
    refused: Taken | None = None
    windows: dict[Hit, float] = {}
    with engine.connect() as conn:
        for hit in sorted(hits, key=lambda h: (h.bucket, h.key)):
            taken = take(conn, hit, now)
            if taken.allowed:
                windows[hit] = taken.window_start
            elif refused is None or taken.retry_after_s > refused.retry_after_s:
                refused = taken
        if refused is not None:
            conn.rollback()  # nothing of a refused request counts
            return refused
        conn.commit()
    return Taken(True, windows=windows)


def give_back(engine: Engine, hit: Hit, window_start: float) -> None:
    """Uncount a hit that `take` counted in the window starting at `window_start` (no
    effect once that window is over)."""
    with engine.begin() as conn:
        conn.execute(
            update(t)
            .where(and_(t.c.bucket == hit.bucket, t.c.key == hit.key[:320],
                        t.c.window_start == window_start, t.c.count > 0))
            .values(count=t.c.count - 1)
        )
