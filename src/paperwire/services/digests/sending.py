"""A digest run: create the day's deliveries, claim batches, send, record, resume.

`send_digests` creates the day's delivery rows, hands back claims of senders
that died, then repeatedly claims a batch of rows, builds and sends each mail,
and marks it sent in its own transaction. A 5xx from the server bounces the
address; a 4xx (after retries), a dead or silent server stops the run cleanly
with the unsent claims handed back, so the next run resumes where it stopped.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, case, select, update

from paperwire.config import Settings
from paperwire.mail.transport import Mailer, PermanentMailError, TemporaryMailError
from paperwire.services.digests.builder import DigestBuilder
from paperwire.services.digests.compose import compose_digest
from paperwire.services.digests.schedule import (
    due_subscriber_ids,
    last_digest_dates,
    shared_topic_needs,
)
from paperwire.store.deliveries import (
    ClaimedDelivery,
    already_sent,
    claim_deliveries,
    create_deliveries,
    finish_delivery,
    mark_sent,
    release_abandoned,
    release_claims,
)
from paperwire.store.digest_tables import subscribers
from paperwire.store.leases import worker_identity
from paperwire.store.subscribers import Subscriber, load_subscribers

if TYPE_CHECKING:
    from paperwire.ports import PaperSearch


class DigestRunFailed(RuntimeError):
    """The run stopped early (mail server trouble); rerun to send the rest."""

    def __init__(self, message: str, report: SendReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(slots=True)
class SendReport:
    digest_date: date
    worker_id: str = ""
    created: int = 0
    reclaimed: int = 0
    sent: int = 0
    skipped: int = 0
    bounced: int = 0
    topics: int = 0
    topics_s: float = 0.0
    fallbacks: int = 0  # topic searches / For-you rankings that failed and fell back
    build_s: float = 0.0
    send_s: float = 0.0
    store_s: float = 0.0
    elapsed_s: float = 0.0
    error: str | None = None
    sent_message_ids: list[str] = field(default_factory=list)

    def summary_line(self) -> str:
        line = (
            f"digest {self.digest_date}: {self.sent} sent, {self.skipped} skipped (nothing new), "
            f"{self.bounced} bounced, {self.created} new deliveries, {self.reclaimed} resumed; "
            f"{self.elapsed_s:.1f}s (topics {self.topics_s:.1f}s for {self.topics} distinct, "
            f"build {self.build_s:.1f}s, send {self.send_s:.1f}s, db {self.store_s:.1f}s)"
        )
        if self.fallbacks:
            line += (f"; {self.fallbacks} topic searches or For-you rankings failed and "
                     "fell back to word matching (see the log)")
        return line + (f"; stopped: {self.error}" if self.error else "")


def record_bounce(engine: Engine, subscriber_id: int, max_bounces: int) -> bool:
    """Count a 5xx bounce; return True when the address is now marked bounced."""
    count = subscribers.c.bounce_count + 1
    with engine.begin() as conn:
        conn.execute(
            update(subscribers).where(subscribers.c.id == subscriber_id).values(
                bounce_count=count,
                status=case((count >= max_bounces, "bounced"), else_=subscribers.c.status),
            )
        )
        status = conn.execute(
            select(subscribers.c.status).where(subscribers.c.id == subscriber_id)
        ).scalar_one_or_none()
    return status == "bounced"


def send_digests(
    engine: Engine,
    mailer: Mailer,
    settings: Settings,
    digest_date: date,
    *,
    search: PaperSearch | None = None,
    worker_tag: str | None = None,
    batch_size: int = 50,
    on_progress: Callable[[SendReport], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SendReport:
    """Send the digests of `digest_date` that are still missing; safe to run concurrently."""
    started = time.perf_counter()
    worker_id = worker_identity(worker_tag or uuid.uuid4().hex[:8])
    report = SendReport(digest_date=digest_date, worker_id=worker_id)
    due = due_subscriber_ids(engine, digest_date)
    with engine.begin() as conn:
        report.created = create_deliveries(conn, digest_date, due)
    report.reclaimed = release_abandoned(
        engine, digest_date, timedelta(seconds=settings.digest_claim_lease_s)
    )
    builder = DigestBuilder(engine, digest_date, search=search)
    tick = time.perf_counter()
    needs = shared_topic_needs(engine, digest_date, due)
    builder.prefetch(needs)
    report.topics = len({topic for topic, _ in needs})
    report.topics_s = time.perf_counter() - tick
    try:
        while not (should_stop and should_stop()):
            batch = claim_deliveries(engine, digest_date, worker_id, batch_size)
            if not batch:
                break
            _send_batch(engine, mailer, settings, builder, batch, worker_id, report)
            if on_progress:
                on_progress(report)
    except TemporaryMailError as exc:
        report.fallbacks = builder.fallbacks
        report.error = str(exc)
        report.elapsed_s = time.perf_counter() - started
        raise DigestRunFailed(
            f"the mail server failed ({exc}); {report.sent} digests were sent. "
            "Run `paperwire digest send` again to send the rest.", report
        ) from None
    report.fallbacks = builder.fallbacks
    report.elapsed_s = time.perf_counter() - started
    return report


def _send_batch(engine: Engine, mailer: Mailer, settings: Settings, builder: DigestBuilder,
                batch: list[ClaimedDelivery], worker_id: str, report: SendReport) -> None:
    tick = time.perf_counter()
    ids = [d.subscriber_id for d in batch]
    with engine.connect() as conn:
        subs = load_subscribers(conn, ids)
        sent_before = already_sent(conn, ids)
    last_dates = last_digest_dates(engine, ids, builder.digest_date)
    report.store_s += time.perf_counter() - tick
    for index, delivery in enumerate(batch):
        try:
            _deliver_one(engine, mailer, settings, builder, delivery, worker_id, report,
                         subs.get(delivery.subscriber_id),
                         sent_before.get(delivery.subscriber_id, set()),
                         last_dates.get(delivery.subscriber_id))
        except BaseException as exc:
            # Hand the unsent rest of the batch back so a rerun (or a peer) takes it.
            release_claims(engine, batch[index:], worker_id, error=str(exc)[:500] or None)
            raise


def _deliver_one(engine: Engine, mailer: Mailer, settings: Settings, builder: DigestBuilder,
                 delivery: ClaimedDelivery, worker_id: str, report: SendReport,
                 subscriber: Subscriber | None, sent_ids: set[str],
                 last_date: date | None) -> None:
    tick = time.perf_counter()
    if subscriber is None or subscriber.status != "active" or not subscriber.is_confirmed:
        with engine.begin() as conn:
            finish_delivery(conn, delivery, worker_id, "skipped", "no longer subscribed")
        report.skipped += 1
        return
    digest = builder.build(subscriber, sent_ids, last_date)
    if digest.is_empty:
        with engine.begin() as conn:
            finish_delivery(conn, delivery, worker_id, "skipped", "no new papers")
        report.skipped += 1
        report.build_s += time.perf_counter() - tick
        return
    message = compose_digest(settings, subscriber, digest, fragments=builder.fragments)
    built = time.perf_counter()
    report.build_s += built - tick
    try:
        mailer.send(message)
    except PermanentMailError as exc:
        report.send_s += time.perf_counter() - built
        record_bounce(engine, subscriber.id, settings.digest_max_bounces)
        with engine.begin() as conn:
            finish_delivery(conn, delivery, worker_id, "bounced", str(exc)[:500])
        report.bounced += 1
        return
    sent = time.perf_counter()
    report.send_s += sent - built
    with engine.begin() as conn:
        mark_sent(conn, delivery, worker_id, message_id=message["Message-ID"],
                  paper_ids=digest.paper_ids, sent_at=datetime.now(UTC))
    report.store_s += time.perf_counter() - sent
    report.sent += 1
    report.sent_message_ids.append(message["Message-ID"])
