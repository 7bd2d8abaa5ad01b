"""Digest delivery rows: one per (subscriber, digest date), claimed by one sender at a time.

States: pending -> claimed -> sent | skipped | failed | bounced. A claim is
`store.leases.claim_rows` (one UPDATE ... RETURNING; PostgreSQL skips rows another
sender is locking, SQLite runs one writer at a time, and the outer WHERE re-checks
status='pending'), so no row is ever handed to two senders. A sender that died is
found by `store.leases.claim_is_abandoned` (its process on this host is gone, or its
lease ran out).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, and_, func, select, update

from paperwire.store.db import insert_ignore, utcnow
from paperwire.store.digest_tables import digest_deliveries, sent_papers, subscribers
from paperwire.store.leases import claim_is_abandoned, claim_rows


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: int
    subscriber_id: int
    digest_date: date
    attempts: int


def create_deliveries(conn: Connection, digest_date: date, subscriber_ids: Sequence[int]) -> int:
    """Add a pending row for each subscriber that has none for this date yet."""
    existing = set(conn.execute(
        select(digest_deliveries.c.subscriber_id)
        .where(digest_deliveries.c.digest_date == digest_date)
    ).scalars())
    now = utcnow()
    rows = [
        {"subscriber_id": sid, "digest_date": digest_date, "status": "pending", "attempts": 0,
         "created_at": now}
        for sid in subscriber_ids if sid not in existing
    ]
    if rows:
        conn.execute(insert_ignore(conn, digest_deliveries), rows)
    return len(rows)


def claim_deliveries(
    engine: Engine, digest_date: date, worker_id: str, limit: int
) -> list[ClaimedDelivery]:
    """Atomically take up to `limit` pending deliveries of this date for `worker_id`."""
    pending = and_(digest_deliveries.c.digest_date == digest_date,
                   digest_deliveries.c.status == "pending")
    rows = claim_rows(
        engine, digest_deliveries, where=pending, limit=limit,
        values={"status": "claimed", "claimed_by": worker_id, "claimed_at": utcnow(),
                "attempts": digest_deliveries.c.attempts + 1},
    )
    return [ClaimedDelivery(r.id, r.subscriber_id, r.digest_date, r.attempts) for r in rows]


def release_abandoned(engine: Engine, digest_date: date, lease: timedelta) -> int:
    """Put back to pending the claims of senders that died (killed, crashed, timed out)."""
    now = utcnow()
    with engine.begin() as conn:
        claims = conn.execute(
            select(digest_deliveries.c.claimed_by, func.min(digest_deliveries.c.claimed_at))
            .where(digest_deliveries.c.digest_date == digest_date,
                   digest_deliveries.c.status == "claimed")
            .group_by(digest_deliveries.c.claimed_by)
        ).all()
        released = 0
        for claimed_by, oldest in claims:
            if claim_is_abandoned(claimed_by, oldest, now=now, lease=lease):
                released += conn.execute(
                    update(digest_deliveries)
                    .where(digest_deliveries.c.digest_date == digest_date,
                           digest_deliveries.c.status == "claimed",
                           digest_deliveries.c.claimed_by == claimed_by)
                    .values(status="pending", claimed_by=None, claimed_at=None)
                ).rowcount
    return released


def _owned(delivery_id: int, worker_id: str):
    return and_(digest_deliveries.c.id == delivery_id, digest_deliveries.c.status == "claimed",
                digest_deliveries.c.claimed_by == worker_id)


def mark_sent(
    conn: Connection,
    delivery: ClaimedDelivery,
    worker_id: str,
    *,
    message_id: str,
    paper_ids: Iterable[str],
    sent_at: datetime,
) -> bool:
    """Record the sent mail, its papers (never sent again) and the subscriber's last digest."""
    ids = list(dict.fromkeys(paper_ids))
    result = conn.execute(
        update(digest_deliveries).where(_owned(delivery.id, worker_id)).values(
            status="sent", sent_at=sent_at, message_id=message_id, paper_count=len(ids),
            last_error=None,
        )
    )
    if ids:
        conn.execute(insert_ignore(conn, sent_papers), [
            {"subscriber_id": delivery.subscriber_id, "paper_id": pid,
             "digest_date": delivery.digest_date} for pid in ids
        ])
    conn.execute(
        update(subscribers).where(subscribers.c.id == delivery.subscriber_id)
        .values(last_digest_at=sent_at)
    )
    return result.rowcount == 1


def finish_delivery(conn: Connection, delivery: ClaimedDelivery, worker_id: str, status: str,
                    error: str | None = None) -> bool:
    """End a claim as skipped, failed or bounced (or hand it back as pending)."""
    values: dict[str, object] = {"status": status, "last_error": error}
    if status == "pending":
        values.update(claimed_by=None, claimed_at=None)
    return conn.execute(
        update(digest_deliveries).where(_owned(delivery.id, worker_id)).values(**values)
    ).rowcount == 1


def release_claims(engine: Engine, deliveries: Iterable[ClaimedDelivery], worker_id: str,
                   error: str | None = None) -> None:
    with engine.begin() as conn:
        for delivery in deliveries:
            finish_delivery(conn, delivery, worker_id, "pending", error)


def already_sent(conn: Connection, subscriber_ids: Sequence[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {sid: set() for sid in subscriber_ids}
    for start in range(0, len(subscriber_ids), 900):
        chunk = list(subscriber_ids[start : start + 900])
        for sid, pid in conn.execute(
            select(sent_papers.c.subscriber_id, sent_papers.c.paper_id)
            .where(sent_papers.c.subscriber_id.in_(chunk))
        ):
            found[sid].add(pid)
    return found


def delivery_counts(conn: Connection, digest_date: date) -> dict[str, int]:
    rows = conn.execute(
        select(digest_deliveries.c.status, func.count())
        .where(digest_deliveries.c.digest_date == digest_date)
        .group_by(digest_deliveries.c.status)
    )
    return {status: count for status, count in rows}
