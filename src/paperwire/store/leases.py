"""Claims and leases: the one implementation every kind of claimed work uses.

- `worker_identity(tag)` names the claimant as `host:pid:tag`, so that a process on
  the same host can tell at once that the claimant is gone (killed, crashed), without
  waiting for its lease to run out.
- `claim_is_abandoned(...)`: a claim whose process on this host is gone, or whose last
  heartbeat is older than the lease, is abandoned: others may take it over, and a
  listing shows its run as interrupted (`run_state`).
- `claim_rows(...)`: the atomic claim of up to n rows of any table (the `jobs` queue,
  digest deliveries): one UPDATE ... RETURNING, `FOR UPDATE SKIP LOCKED` on PostgreSQL.
- `Heartbeat`: renews a claim (a worker step, an ingest run) from a thread of its own
  while the work runs; `lost` is set when a renewal finds the claim taken over.

Timestamps are UTC and come from the caller's clock: keep the machines on NTP.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, Table, select, update
from sqlalchemy.engine import Row

from paperwire.clock import aware_utc, utcnow

HOST = socket.gethostname()
INTERRUPTED = "interrupted"
STALE_AFTER_S = 15 * 60  # a claim whose heartbeat is older than this is abandoned
HEARTBEAT_S = STALE_AFTER_S / 5  # renewed well before others see it stale


def worker_identity(tag: str) -> str:
    """host:pid:tag: lets a later process on this host see that the claimant is gone."""
    return f"{HOST}:{os.getpid()}:{tag}"


def process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed child its parent has not reaped yet still answers signal 0
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def claimant_is_gone(claimed_by: str | None) -> bool:
    """True when `claimed_by` (host:pid:tag) names a process on this host that has ended."""
    host, _, rest = (claimed_by or "").partition(":")
    pid_text = rest.partition(":")[0]
    return host == HOST and pid_text.isdigit() and process_is_gone(int(pid_text))


def claim_is_abandoned(claimed_by: str | None, heartbeat_at: datetime | None, *,
                       now: datetime, lease: timedelta) -> bool:
    """A claim is abandoned when its process on this host is gone, or its lease ran out."""
    if heartbeat_at is not None and aware_utc(heartbeat_at) < now - lease:
        return True
    return claimant_is_gone(claimed_by)


def run_state(status: str, claimed_by: str | None, heartbeat_at: datetime | None, *,
              now: datetime, lease: timedelta) -> str:
    """The status to show for a run: a 'running' run whose claim is abandoned is
    'interrupted' (its process was killed, or its server stopped, mid-run)."""
    if status == "running" and claim_is_abandoned(claimed_by, heartbeat_at, now=now, lease=lease):
        return INTERRUPTED
    return status


def claim_rows(
    engine: Engine,
    table: Table,
    *,
    where: ColumnElement[bool],
    values: Mapping[str, Any],
    limit: int,
    order_by: Iterable[ColumnElement[Any]] | None = None,
) -> list[Row]:
    """Atomically set `values` on up to `limit` rows matching `where`; return them.

    Rows another worker is claiming right now are skipped (SKIP LOCKED), and the
    outer WHERE re-checks `where`, so a row is never handed to two callers. Make
    `values` falsify `where` (e.g. status='claimed'), or the row stays claimable.
    """
    if limit <= 0:
        return []
    pk = list(table.primary_key.columns)
    assert len(pk) == 1, f"claim_rows needs a single-column primary key, {table.name} has {pk}"
    order = list(order_by) if order_by is not None else pk
    candidates = select(pk[0].label("claim_id")).where(where).order_by(*order).limit(limit)
    if engine.dialect.name == "postgresql":
        # A MATERIALIZED CTE runs the locking pick exactly once; an IN (subquery) may be
        # re-run per outer row by the planner and then hand out more than `limit` rows.
        picked = (
            candidates.with_for_update(skip_locked=True)
            .cte("picked")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        matches = pk[0] == picked.c.claim_id
    else:
        # SQLite runs one writer at a time; the uncorrelated IN list is built once.
        matches = pk[0].in_(candidates.scalar_subquery())
    statement = update(table).where(matches, where).values(**values).returning(*table.columns)
    with engine.begin() as conn:
        rows = conn.execute(statement).all()
    key = pk[0].name
    return sorted(rows, key=lambda row: getattr(row, key))


class Heartbeat:
    """Calls `beat(now)` every `interval_s` from a thread of its own while work runs.

    `beat` renews the claim and returns False if the claim was taken over; `lost` is
    then set (the work should stop) and the thread ends. A beat that raises (the
    database briefly away) keeps the work going and tries again next time.
    `beat_once` is the unit a test drives with its own clock.
    """

    def __init__(self, beat: Callable[[datetime], bool], *, interval_s: float,
                 clock: Callable[[], datetime] = utcnow, name: str = "heartbeat") -> None:
        self._beat = beat
        self.interval_s = interval_s
        self.clock = clock
        self.name = name
        self.lost = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def beat_once(self) -> bool:
        try:
            kept = self._beat(self.clock())
        except Exception:
            return True
        if not kept:
            self.lost.set()
        return kept

    def _loop(self) -> None:
        while not self._done.wait(self.interval_s):
            if not self.beat_once():
                return

    def __enter__(self) -> Heartbeat:
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
