"""Claiming work so that several workers, on several machines, never run it twice.

Two primitives, both safe on SQLite and PostgreSQL:

- `claim_scheduled_run(engine, job_name, run_key, worker_id)`: one winner per
  (job_name, run_key), e.g. ("daily-digest", "2025-06-16"). The winner inserts the
  unique `job_runs` row; everyone else gets False and skips the run. A claim whose
  worker stopped heart-beating for `stale_after_s` (a dead worker), or that ended
  "failed", can be taken over; a "done" run never runs again.
- `enqueue_jobs` / `claim_jobs` / `complete_job` / `fail_job`: a small queue on the
  `jobs` table, claimed with `store.leases.claim_rows` (the one row-claim every queue
  uses; digest deliveries too).

A claim's owner is `store.leases.worker_identity()` (host:pid:tag), so a claim whose
process on this host is gone counts as abandoned at once (`claim_is_abandoned`).

Timestamps are UTC and come from the caller's clock: keep the machines on NTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from paperwire.store.db import aware_utc, insert_ignore, utcnow
from paperwire.store.leases import (  # noqa: F401  (claim_rows re-exported)
    STALE_AFTER_S,
    Heartbeat,
    claim_is_abandoned,
    claim_rows,
)
from paperwire.store.tables import metadata

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_name", String(100), nullable=False),
    Column("run_key", String(200), nullable=False),
    Column("worker_id", String(200), nullable=False),
    Column("status", String(20), nullable=False),  # running | done | failed
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, default=1),
    Column("detail", Text),
    UniqueConstraint("job_name", "run_key", name="uq_job_runs_job_run"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("queue", String(100), nullable=False),
    Column("dedupe_key", String(300)),
    Column("payload", JSON, nullable=False),
    Column("status", String(20), nullable=False),  # pending | claimed | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("available_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(200)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("queue", "dedupe_key", name="uq_jobs_queue_dedupe"),
    Index("ix_jobs_queue_status_id", "queue", "status", "id"),
)

DEFAULT_STALE_AFTER_S = STALE_AFTER_S
DEFAULT_LEASE_S = 10 * 60
RETRY_FIRST_S = 60  # a failed scheduled run is tried again after 1, 2, 4, ... minutes
RETRY_MAX_S = 6 * 60 * 60  # ... at most every 6 hours


def retry_delay_s(attempts: int) -> float:
    """How long a scheduled run that failed `attempts` times waits before the next try."""
    return float(min(RETRY_FIRST_S * 2 ** max(attempts - 1, 0), RETRY_MAX_S))


# --- scheduled runs -------------------------------------------------------------------


def claim_scheduled_run(
    engine: Engine,
    job_name: str,
    run_key: str,
    worker_id: str,
    *,
    stale_after_s: float = DEFAULT_STALE_AFTER_S,
    now: datetime | None = None,
) -> bool:
    """Try to become the one worker that runs (job_name, run_key); True if we won.

    A failed run is claimed again only after `retry_delay_s(attempts)` (exponential,
    capped), not on every tick.
    """
    now = now or utcnow()
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(job_runs).values(
                    job_name=job_name, run_key=run_key, worker_id=worker_id, status="running",
                    claimed_at=now, heartbeat_at=now, attempts=1,
                )
            )
        return True
    except IntegrityError:
        pass
    # Someone holds it. Take it over only if it failed or its worker went silent; the
    # compare-and-swap on (worker_id, heartbeat_at) lets exactly one taker win.
    # The read and the swap are separate transactions: on SQLite a read transaction
    # that then writes can fail at once under contention; the swap alone is atomic.
    with engine.connect() as conn:
        row = conn.execute(
            select(job_runs).where(job_runs.c.job_name == job_name, job_runs.c.run_key == run_key)
        ).one_or_none()
    if row is None or row.status == "done":
        return False
    stale = claim_is_abandoned(row.worker_id, row.heartbeat_at, now=now,
                               lease=timedelta(seconds=stale_after_s))
    if row.status == "running" and not stale:
        return False
    if row.status == "failed" and row.finished_at is not None and (
        now < aware_utc(row.finished_at) + timedelta(seconds=retry_delay_s(row.attempts))
    ):
        return False
    with engine.begin() as conn:
        taken = conn.execute(
            update(job_runs)
            .where(
                job_runs.c.id == row.id,
                job_runs.c.worker_id == row.worker_id,
                job_runs.c.heartbeat_at == row.heartbeat_at,
                job_runs.c.status == row.status,
            )
            .values(worker_id=worker_id, status="running", claimed_at=now, heartbeat_at=now,
                    finished_at=None, attempts=job_runs.c.attempts + 1)
        )
        return taken.rowcount == 1


def heartbeat_scheduled_run(engine: Engine, job_name: str, run_key: str, worker_id: str,
                            *, now: datetime | None = None) -> bool:
    """Tell others we are alive (call during long runs); False if we lost the claim."""
    with engine.begin() as conn:
        result = conn.execute(
            update(job_runs)
            .where(*_run_owned(job_name, run_key, worker_id))
            .values(heartbeat_at=now or utcnow())
        )
        return result.rowcount == 1


def finish_scheduled_run(
    engine: Engine,
    job_name: str,
    run_key: str,
    worker_id: str,
    *,
    ok: bool = True,
    detail: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Mark our run done (never runs again) or failed (may be claimed again, later)."""
    now = now or utcnow()
    with engine.begin() as conn:
        result = conn.execute(
            update(job_runs)
            .where(*_run_owned(job_name, run_key, worker_id))
            .values(status="done" if ok else "failed", finished_at=now, heartbeat_at=now,
                    detail=detail)
        )
        return result.rowcount == 1


def _run_owned(job_name: str, run_key: str, worker_id: str) -> list[ColumnElement[bool]]:
    return [
        job_runs.c.job_name == job_name,
        job_runs.c.run_key == run_key,
        job_runs.c.worker_id == worker_id,
        job_runs.c.status == "running",
    ]


# --- the `jobs` queue ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    queue: str
    payload: Any
    attempts: int
    dedupe_key: str | None


def enqueue_jobs(
    engine: Engine,
    queue: str,
    items: Iterable[tuple[str | None, Any]],
    *,
    available_at: datetime | None = None,
) -> int:
    """Add (dedupe_key, payload) jobs; a key already in this queue is skipped. Returns new."""
    now = utcnow()
    rows = [
        {"queue": queue, "dedupe_key": key, "payload": payload, "status": "pending",
         "attempts": 0, "available_at": available_at or now, "created_at": now}
        for key, payload in items
    ]
    if not rows:
        return 0
    statement = insert_ignore(engine, jobs, index_elements=["queue", "dedupe_key"])
    added = 0
    with engine.begin() as conn:
        for start in range(0, len(rows), 1000):
            result = conn.execute(statement.returning(jobs.c.id), rows[start : start + 1000])
            added += len(result.all())
    return added


def enqueue_job(engine: Engine, queue: str, payload: Any, *,
                dedupe_key: str | None = None) -> int:
    """Add one job and return its id; with a `dedupe_key` already queued, that job's id."""
    now = utcnow()
    row = {"queue": queue, "dedupe_key": dedupe_key, "payload": payload, "status": "pending",
           "attempts": 0, "available_at": now, "created_at": now}
    statement = insert_ignore(engine, jobs, index_elements=["queue", "dedupe_key"])
    with engine.begin() as conn:
        added = conn.execute(statement.returning(jobs.c.id), row).scalar()
        if added is not None:
            return int(added)
        return int(conn.execute(
            select(jobs.c.id).where(jobs.c.queue == queue, jobs.c.dedupe_key == dedupe_key)
        ).scalar_one())


@dataclass(frozen=True, slots=True)
class JobView:
    """A job as its outcome is shown: pending | claimed | done | failed, and why."""

    id: int
    queue: str
    payload: Any
    status: str
    attempts: int
    last_error: str | None
    available_at: datetime | None
    finished_at: datetime | None


def get_job(engine: Engine, job_id: int) -> JobView | None:
    with engine.connect() as conn:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).one_or_none()
    if row is None:
        return None
    return JobView(row.id, row.queue, row.payload, row.status, row.attempts, row.last_error,
                   aware_utc(row.available_at), aware_utc(row.finished_at))


def claim_jobs(
    engine: Engine,
    queue: str,
    worker_id: str,
    *,
    limit: int = 1,
    lease_s: float = DEFAULT_LEASE_S,
) -> list[ClaimedJob]:
    """Claim up to `limit` due jobs; jobs whose claim lease ran out are claimed again."""
    now = utcnow()
    claimable = and_(
        jobs.c.queue == queue,
        or_(
            and_(jobs.c.status == "pending", jobs.c.available_at <= now),
            and_(jobs.c.status == "claimed", jobs.c.claimed_at < now - timedelta(seconds=lease_s)),
        ),
    )
    rows = claim_rows(
        engine, jobs, where=claimable, limit=limit, order_by=[jobs.c.id],
        values={"status": "claimed", "claimed_by": worker_id, "claimed_at": now,
                "attempts": jobs.c.attempts + 1},
    )
    return [ClaimedJob(r.id, r.queue, r.payload, r.attempts, r.dedupe_key) for r in rows]


def complete_job(engine: Engine, job_id: int, worker_id: str) -> bool:
    """Mark our claimed job done; False if the claim was lost (lease ran out)."""
    with engine.begin() as conn:
        result = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.claimed_by == worker_id, jobs.c.status == "claimed")
            .values(status="done", finished_at=utcnow())
        )
        return result.rowcount == 1


def fail_job(
    engine: Engine,
    job_id: int,
    worker_id: str,
    error: str,
    *,
    retry_in_s: float | None = 60.0,
    max_attempts: int = 5,
) -> bool:
    """Give a job back for a later retry, or fail it for good after `max_attempts`."""
    now = utcnow()
    retry = retry_in_s is not None
    with engine.begin() as conn:
        result = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.claimed_by == worker_id, jobs.c.status == "claimed")
            .values(
                status=_retry_status(retry, max_attempts),
                available_at=now + timedelta(seconds=retry_in_s or 0),
                claimed_by=None,
                claimed_at=None,
                finished_at=None if retry else now,
                last_error=error[:2000],
            )
        )
        return result.rowcount == 1


def _retry_status(retry: bool, max_attempts: int) -> ColumnElement[str] | str:
    if not retry:
        return "failed"
    return case((jobs.c.attempts >= max_attempts, literal("failed")), else_=literal("pending"))


def queue_counts(engine: Engine, queue: str) -> dict[str, int]:
    """How many jobs of this queue are in each status."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(jobs.c.status, func.count()).where(jobs.c.queue == queue).group_by(jobs.c.status)
        ).all()
    return {status: count for status, count in rows}


class ClaimRenewal(Heartbeat):
    """Renews a scheduled-run claim while its step runs, from a thread of its own.

    `lost` is set when a renewal finds the claim taken over (the step should stop: its
    `should_stop` reads it). `renew_once` is the unit a test drives with its own clock.
    """

    def __init__(self, engine: Engine, job_name: str, run_key: str, worker_id: str, *,
                 interval_s: float = DEFAULT_STALE_AFTER_S / 5,
                 clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(
            lambda now: heartbeat_scheduled_run(engine, job_name, run_key, worker_id, now=now),
            interval_s=interval_s, clock=clock, name="claim-renewal",
        )

    def renew_once(self) -> bool:
        return self.beat_once()
