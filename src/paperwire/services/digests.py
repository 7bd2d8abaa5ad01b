"""Building and sending digests, exactly once per (subscriber, digest date).

`send_digests` creates the day's delivery rows, hands back claims of senders
that died, then repeatedly claims a batch of rows, builds and sends each mail,
and marks it sent in its own transaction. A 5xx from the server bounces the
address; a 4xx (after retries), a dead or silent server stops the run cleanly
with the unsent claims handed back, so the next run resumes where it stopped.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from sqlalchemy import Engine, case, func, select, update

from paperwire.config import Settings
from paperwire.domain import signed_tokens
from paperwire.domain.digest_selection import (
    Digest,
    DigestPaper,
    UpvotePick,
    build_word_index,
    digest_window,
    is_digest_due,
    match_query,
    paper_matches_topic,
    rank_trending,
    select_digest,
)
from paperwire.domain.digest_topics import Topic
from paperwire.mail.digest_render import MailLinks, render_digest
from paperwire.mail.message import build_message
from paperwire.mail.transport import Mailer, PermanentMailError, TemporaryMailError
from paperwire.store.deliveries import (
    ClaimedDelivery,
    already_sent,
    claim_deliveries,
    create_deliveries,
    finish_delivery,
    mark_sent,
    release_abandoned,
    release_claims,
    worker_identity,
)
from paperwire.store.digest_tables import digest_deliveries, subscribers
from paperwire.store.subscribers import Subscriber, load_subscribers
from paperwire.store.tables import daily_entries, organizations, papers

log = logging.getLogger(__name__)


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
        return line + (f"; stopped: {self.error}" if self.error else "")


# ------------------------------------------------------------------ building


def _day_start(day: date) -> datetime:
    return datetime.combine(day, dtime.min, tzinfo=UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class DigestBuilder:
    """Builds digests for one digest date, sharing work between subscribers.

    Candidate papers are loaded once per window, each distinct topic is searched
    once per window, whatever the number of subscribers who follow it.
    """

    def __init__(self, engine: Engine, digest_date: date, *, search: Any = None,
                 vector_index: Any = None) -> None:
        self.engine = engine
        self.digest_date = digest_date
        self.now = _day_start(digest_date + timedelta(days=1))
        self.search = search
        self.vector_index = vector_index
        self._candidates: dict[tuple[date, date], list[DigestPaper]] = {}
        self._topic_hits: dict[tuple[Topic, date, date], list[str]] = {}
        self._search_failed = False
        self._trending: dict[tuple[date, date], list[DigestPaper]] = {}
        self._word_index: dict[tuple[date, date], dict[str, set[str]]] = {}
        self.fragments: dict[tuple[str, str | None, str], str] = {}  # rendered paper blocks

    def build(self, subscriber: Subscriber, sent_ids: set[str],
              last_digest_date: date | None) -> Digest:
        window = digest_window(self.digest_date, subscriber.frequency,
                               subscriber.weekdays_only, last_digest_date)
        candidates = self.candidates(window)
        hits = {topic: self.topic_hits(topic, window) for topic in subscriber.topics}
        picks = self.upvote_picks(subscriber.user_id, window) if subscriber.user_id else []
        return select_digest(
            digest_date=self.digest_date, window=window, candidates=candidates, now=self.now,
            paper_count=subscriber.paper_count, topic_hits=hits, upvote_picks=picks,
            already_sent=sent_ids, trending_order=self.trending(window),
        )

    def trending(self, window: tuple[date, date]) -> list[DigestPaper]:
        if window not in self._trending:
            self._trending[window] = rank_trending(self.candidates(window), self.now)
        return self._trending[window]

    def candidates(self, window: tuple[date, date]) -> list[DigestPaper]:
        if window not in self._candidates:
            self._candidates[window] = load_window_papers(self.engine, *window)
        return self._candidates[window]

    def topic_hits(self, topic: Topic, window: tuple[date, date]) -> list[str]:
        key = (topic, *window)
        if key not in self._topic_hits:
            candidates = self.candidates(window)
            if topic.kind == "query":
                ids = self._search_ids(topic.value, window, candidates)
            else:
                ids = [p.id for p in candidates if paper_matches_topic(topic, p)]
            self._topic_hits[key] = ids
        return self._topic_hits[key]

    def prefetch(self, needs: set[tuple[Topic, tuple[date, date]]], threads: int = 2) -> None:
        """Compute the topic hits many subscribers share, searches in parallel threads
        (the database does the work, outside the GIL)."""
        from concurrent.futures import ThreadPoolExecutor

        for window in {window for _, window in needs}:
            self.candidates(window)
            self.trending(window)
        todo = [(topic, window) for topic, window in needs
                if (topic, *window) not in self._topic_hits]
        with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
            list(pool.map(lambda need: self.topic_hits(*need), todo))

    def _search_ids(self, query: str, window: tuple[date, date],
                    candidates: Sequence[DigestPaper]) -> list[str]:
        in_window = {p.id for p in candidates}
        if self.search is not None and not self._search_failed:
            try:
                # Published up to a week before the window: HF lists papers days later.
                ids = run_search(self.search, query, after=window[0] - timedelta(days=7),
                                 before=window[1] + timedelta(days=1))
                return [pid for pid in ids if pid in in_window]
            except Exception as exc:  # search is optional: fall back to plain matching
                log.warning("search failed for digest topics (%s); using keyword matching", exc)
                self._search_failed = True
        if window not in self._word_index:
            self._word_index[window] = build_word_index(candidates)
        matched = match_query(self._word_index[window], query)
        hits = [p for p in candidates if p.id in matched]
        hits.sort(key=lambda p: (-p.upvotes, -(p.stars or 0), p.id))
        return [p.id for p in hits]

    def upvote_picks(self, user_id: int, window: tuple[date, date]) -> list[UpvotePick]:
        if self.vector_index is None:
            return []
        try:
            return find_upvote_picks(self.engine, self.vector_index, user_id,
                                     [p.id for p in self.candidates(window)])
        except Exception as exc:  # embeddings are optional
            log.warning("upvote picks unavailable (%s)", exc)
            return []


def run_search(search: Any, query: str, *, after: date, before: date,
               limit: int = 200) -> list[str]:
    """Paper ids from the search service (keyword + semantic), best first."""
    from paperwire.services.search import SearchFilters  # type: ignore[import-not-found]

    result = search.search(query, mode="hybrid", filters=SearchFilters(after=after, before=before),
                           limit=limit)
    hits = getattr(result, "hits", None)
    if hits is None:
        hits = getattr(result, "results", result)
    ids: list[str] = []
    for hit in hits:
        pid = getattr(hit, "paper_id", None) or getattr(hit, "id", None)
        if pid is None and getattr(hit, "paper", None) is not None:
            pid = hit.paper.id
        if pid is None and isinstance(hit, dict):
            pid = hit.get("paper_id") or hit.get("id")
        if pid is None and isinstance(hit, tuple):
            pid = hit[0]
        if pid is not None:
            ids.append(str(pid))
    return ids


def find_upvote_picks(engine: Engine, vector_index: Any, user_id: int,
                      candidate_ids: list[str], *, per_upvote: int = 3,
                      upvotes: int = 5) -> list[UpvotePick]:
    """Candidates nearest to the user's latest upvoted papers, naming the upvoted paper."""
    from paperwire.store.accounts_tables import paper_votes

    if not candidate_ids:
        return []
    with engine.connect() as conn:
        voted = conn.execute(
            select(papers.c.id, papers.c.title)
            .join(paper_votes, paper_votes.c.paper_id == papers.c.id)
            .where(paper_votes.c.user_id == user_id)
            .order_by(paper_votes.c.created_at.desc())
            .limit(upvotes)
        ).all()
    picks: list[UpvotePick] = []
    voted_ids = {pid for pid, _ in voted}
    pool = [pid for pid in candidate_ids if pid not in voted_ids]
    for voted_id, voted_title in voted:
        vector = vector_index.vector_for(voted_id)
        if vector is None:
            continue
        for hit in vector_index.search(vector, per_upvote, candidates=pool):
            pid, score = (hit[0], hit[1]) if isinstance(hit, tuple) else (
                getattr(hit, "paper_id", None) or getattr(hit, "id", None),
                getattr(hit, "score", 0.0))
            if pid is not None and pid not in voted_ids:
                picks.append(UpvotePick(str(pid), " ".join(voted_title.split()), float(score)))
    picks.sort(key=lambda pick: -pick.similarity)
    return picks


def load_window_papers(engine: Engine, start: date, end: date) -> list[DigestPaper]:
    """Papers that reached the feed in (start, end]: a daily entry then, or published then."""
    lo, hi = _day_start(start + timedelta(days=1)), _day_start(end + timedelta(days=1))
    in_daily = (
        select(daily_entries.c.paper_id, func.min(daily_entries.c.day).label("day"))
        .where(daily_entries.c.day > start, daily_entries.c.day <= end)
        .group_by(daily_entries.c.paper_id)
        .subquery()
    )
    columns = [papers.c.id, papers.c.title, papers.c.authors, papers.c.abstract,
               papers.c.source_upvotes, papers.c.local_upvotes, papers.c.github_stars,
               papers.c.github_repo, papers.c.categories, papers.c.published_at,
               organizations.c.name.label("org_name"),
               organizations.c.fullname.label("org_fullname")]
    found: dict[str, DigestPaper] = {}
    with engine.connect() as conn:
        daily_rows = conn.execute(
            select(*columns, in_daily.c.day)
            .join(in_daily, in_daily.c.paper_id == papers.c.id)
            .outerjoin(organizations, papers.c.organization_id == organizations.c.id)
        )
        for row in daily_rows:
            found[row.id] = _digest_paper(row, _day_start(row.day))
        published_rows = conn.execute(
            select(*columns)
            .outerjoin(organizations, papers.c.organization_id == organizations.c.id)
            .where(papers.c.published_at >= lo, papers.c.published_at < hi)
        )
        for row in published_rows:
            if row.id not in found:
                found[row.id] = _digest_paper(row, _aware(row.published_at))
    return sorted(found.values(), key=lambda p: p.id)


def _digest_paper(row: Any, added_at: datetime) -> DigestPaper:
    return DigestPaper(
        id=row.id, title=" ".join(row.title.split()), authors=tuple(row.authors or ()),
        abstract=row.abstract or "", added_at=added_at,
        upvotes=int(row.source_upvotes or 0) + int(row.local_upvotes or 0),
        stars=row.github_stars, github_repo=row.github_repo,
        categories=tuple((row.categories or "").split()),
        organization=row.org_name, organization_fullname=row.org_fullname,
    )


# ------------------------------------------------------------------ composing


def subscriber_links(settings: Settings, subscriber: Subscriber) -> MailLinks:
    base = settings.base_url.rstrip("/")
    secret = settings.secret_key
    return MailLinks(
        site=base + "/",
        settings=f"{base}/subscribe/settings/"
        + signed_tokens.make_token(secret, signed_tokens.SETTINGS, subscriber.id,
                                   subscriber.email_key),
        unsubscribe=f"{base}/unsubscribe/"
        + signed_tokens.make_token(secret, signed_tokens.UNSUBSCRIBE, subscriber.id,
                                   subscriber.email_key),
    )


def unsubscribe_mailto(settings: Settings, subscriber: Subscriber) -> str:
    _, sender = parseaddr(settings.mail_reply_to or settings.mail_from)
    return f"mailto:{sender}?subject=unsubscribe%20{subscriber.id}"


def digest_message_id(settings: Settings, subscriber_id: int, digest_date: date) -> str:
    _, sender = parseaddr(settings.mail_from)
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<digest.{digest_date:%Y%m%d}.{subscriber_id}@{domain}>"


def compose_digest(settings: Settings, subscriber: Subscriber, digest: Digest,
                   *, now: datetime | None = None,
                   fragments: dict[tuple[str, str | None, str], str] | None = None,
                   ) -> EmailMessage:
    links = subscriber_links(settings, subscriber)
    subject, text, html = render_digest(site_name=settings.site_name, base_url=settings.base_url,
                                        digest=digest, links=links, email=subscriber.email,
                                        fragments=fragments)
    return build_message(
        sender=settings.mail_from, to=subscriber.email, subject=subject, text=text, html=html,
        reply_to=settings.mail_reply_to or settings.mail_from,
        message_id=digest_message_id(settings, subscriber.id, digest.digest_date),
        date=now or datetime.now(UTC),
        unsubscribe_url=links.unsubscribe,
        unsubscribe_mailto=unsubscribe_mailto(settings, subscriber),
    )


# ------------------------------------------------------------------ sending


def due_subscriber_ids(engine: Engine, digest_date: date) -> list[int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(subscribers.c.id, subscribers.c.frequency, subscribers.c.weekdays_only)
            .where(subscribers.c.status == "active", subscribers.c.confirmed_at.is_not(None))
            .order_by(subscribers.c.id)
        ).all()
    return [sid for sid, freq, weekdays in rows if is_digest_due(digest_date, freq, bool(weekdays))]


def last_digest_dates(engine: Engine, subscriber_ids: Sequence[int],
                      before: date) -> dict[int, date]:
    found: dict[int, date] = {}
    with engine.connect() as conn:
        for start in range(0, len(subscriber_ids), 900):
            chunk = list(subscriber_ids[start : start + 900])
            rows = conn.execute(
                select(digest_deliveries.c.subscriber_id, func.max(digest_deliveries.c.digest_date))
                .where(digest_deliveries.c.subscriber_id.in_(chunk),
                       digest_deliveries.c.status == "sent",
                       digest_deliveries.c.digest_date < before)
                .group_by(digest_deliveries.c.subscriber_id)
            )
            found.update({sid: day for sid, day in rows if day is not None})
    return found


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
    search: Any = None,
    vector_index: Any = None,
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
    builder = DigestBuilder(engine, digest_date, search=search, vector_index=vector_index)
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
        report.error = str(exc)
        report.elapsed_s = time.perf_counter() - started
        raise DigestRunFailed(
            f"the mail server failed ({exc}); {report.sent} digests were sent. "
            "Run `paperwire digest send` again to send the rest.", report
        ) from None
    report.elapsed_s = time.perf_counter() - started
    return report


def shared_topic_needs(engine: Engine, digest_date: date,
                       subscriber_ids: Sequence[int]) -> set[tuple[Topic, tuple[date, date]]]:
    """Every distinct (topic, window) the due subscribers need."""
    from paperwire.store.subscribers import load_topics

    last_dates = last_digest_dates(engine, subscriber_ids, digest_date)
    with engine.connect() as conn:
        topics = load_topics(conn, subscriber_ids)
        settings_rows = conn.execute(
            select(subscribers.c.id, subscribers.c.frequency, subscribers.c.weekdays_only)
            .where(subscribers.c.status == "active", subscribers.c.confirmed_at.is_not(None))
        ).all()
    schedule = {sid: (freq, bool(weekdays)) for sid, freq, weekdays in settings_rows}
    needs: set[tuple[Topic, tuple[date, date]]] = set()
    for sid in subscriber_ids:
        if sid not in schedule or not topics.get(sid):
            continue
        window = digest_window(digest_date, *schedule[sid], last_dates.get(sid))
        needs.update((topic, window) for topic in topics[sid])
    return needs


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


def preview_digest(engine: Engine, settings: Settings, subscriber: Subscriber,
                   digest_date: date, *, search: Any = None,
                   vector_index: Any = None) -> tuple[Digest, EmailMessage]:
    """The digest this subscriber would get for `digest_date` (nothing is recorded)."""
    builder = DigestBuilder(engine, digest_date, search=search, vector_index=vector_index)
    with engine.connect() as conn:
        sent_ids = already_sent(conn, [subscriber.id])[subscriber.id]
    last = last_digest_dates(engine, [subscriber.id], digest_date).get(subscriber.id)
    digest = builder.build(subscriber, sent_ids, last)
    return digest, compose_digest(settings, subscriber, digest)


__all__ = ["DigestBuilder", "DigestRunFailed", "SendReport", "send_digests", "preview_digest",
           "compose_digest", "optional_adapter"]


def optional_adapter(container: Any, name: str) -> Any:
    """An adapter another area may provide (search, vector_index), or None without it."""
    try:
        return getattr(container, name)
    except Exception as exc:  # missing area, model files absent, ...
        log.info("%s is not available for digests (%s)", name, exc)
        return None
