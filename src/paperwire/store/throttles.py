"""Throttle counters shared by every process: the per-IP and per-account request limits
(web/rate_limit.py) and the mail throttle (services/mail_throttle.py).

One row per (bucket, key): the hits in a window that starts at the key's first hit
after the previous window ended. `take` counts a hit with one atomic upsert whose
condition refuses it when the window is full, so two processes (or threads) never
both get the last place; there is no read before the write. A hit may ask for
`amount` places at once (a process's lease of places it hands out from memory,
web/rate_limit.py); near the limit it gets one place or none, so the places counted
never exceed the limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, Float, and_, bindparam, delete, select, text, update

from paperwire.domain.rate_limits import RateLimit
from paperwire.store.accounts_tables import throttle_counters as t

KEEP_S = 2 * 86400  # counters idle this long are dropped (longer than any window in use)


@dataclass(frozen=True, slots=True)
class Hit:
    bucket: str
    key: str
    limit: RateLimit
    amount: int = 1  # places to count at once (a lease); 1 when fewer are left


@dataclass(frozen=True, slots=True)
class Taken:
    allowed: bool
    retry_after_s: int = 0  # when refused: seconds until the full window ends
    window_start: float = 0.0  # when allowed: the window the hit was counted in
    places: int = 0  # when allowed: places counted (hit.amount, or 1 near the limit)
    # take_all, when allowed: the window each hit was counted in (for give_back)
    windows: dict[Hit, float] = field(default_factory=dict)
    # take_all, when allowed: the places counted for each hit
    granted: dict[Hit, int] = field(default_factory=dict)
    # when refused: each full key's (bucket, key) and the time its window ends
    full_until: dict[tuple[str, str], float] = field(default_factory=dict)


# One statement for both databases (ON CONFLICT ... DO UPDATE ... WHERE ... RETURNING is
# the same in SQLite >= 3.35 and PostgreSQL), written out once: it runs on every
# limited request, and building it as an expression cost more than running it.
_TAKE = text(
    'INSERT INTO throttle_counters (bucket, "key", window_start, "count") '
    "VALUES (:bucket, :key, :now, :places) "
    'ON CONFLICT (bucket, "key") DO UPDATE SET '
    '"count" = CASE WHEN throttle_counters.window_start <= :expired_before THEN :places '
    'ELSE throttle_counters."count" + :places END, '
    "window_start = CASE WHEN throttle_counters.window_start <= :expired_before THEN :now "
    "ELSE throttle_counters.window_start END "
    "WHERE throttle_counters.window_start <= :expired_before "
    'OR throttle_counters."count" + :places <= :limit '
    'RETURNING "count", window_start'
).bindparams(bindparam("now", type_=Float), bindparam("expired_before", type_=Float))


def take(conn: Connection, hit: Hit, now: float) -> Taken:
    """Count `hit.amount` places of `hit.key` (or one, when fewer are left) unless its
    window is full (then nothing changes)."""
    key = hit.key[:320]
    for places in dict.fromkeys((min(max(1, hit.amount), hit.limit.count), 1)):
        row = conn.execute(_TAKE, {"bucket": hit.bucket, "key": key, "now": now,
                                   "expired_before": now - hit.limit.window_s,
                                   "limit": hit.limit.count, "places": places}).first()
        if row is not None:
            count, window_start = row
            if count == places:  # a new window: now and then, drop long-idle counters
                conn.execute(delete(t).where(t.c.window_start < now - KEEP_S))
            return Taken(True, window_start=window_start, places=places)
    started = conn.execute(
        select(t.c.window_start).where(t.c.bucket == hit.bucket, t.c.key == key)
    ).scalar()
    started = now if started is None else started
    ends = started + hit.limit.window_s
    return Taken(False, max(1, math.ceil(ends - now)), full_until={(hit.bucket, hit.key): ends})


def take_all(engine: Engine, hits: Sequence[Hit], now: float) -> Taken:
    """Count one hit of each key, or none of them: refused when any window is full
    (the refusal with the longest wait). Keys are taken in one order, so concurrent
    transactions on PostgreSQL never wait on each other in a circle."""
    refused: Taken | None = None
    windows: dict[Hit, float] = {}
    granted: dict[Hit, int] = {}
    full: dict[tuple[str, str], float] = {}
    with engine.connect() as conn:
        for hit in sorted(hits, key=lambda h: (h.bucket, h.key)):
            taken = take(conn, hit, now)
            if taken.allowed:
                windows[hit] = taken.window_start
                granted[hit] = taken.places
                continue
            full |= taken.full_until
            if refused is None or taken.retry_after_s > refused.retry_after_s:
                refused = taken
        if refused is not None:
            conn.rollback()  # nothing of a refused request counts
            return Taken(False, refused.retry_after_s, full_until=full)
        conn.commit()
    return Taken(True, windows=windows, granted=granted)


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
