"""The feed pages: a day, an ISO week or a month of papers, and trending.

One call serves the HTML page, its JSON twin, the RSS/Atom feed and the
Hugging Face-compatible `/api/daily_papers`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, func, select

from paperwire.domain.periods import Period, day_period, period_of
from paperwire.domain.trending import TrendingScore, trending_score
from paperwire.services.papers import UPVOTES, VISIBLE, PaperCard, entry_select, row_to_card
from paperwire.store.tables import daily_entries, papers

TRENDING_WINDOW_DAYS = 7
VISIBLE_ENTRIES = daily_entries.join(papers, daily_entries.c.paper_id == papers.c.id)
SORTS = ("upvotes", "publishedAt", "trending")
SOURCE_ORDER = func.coalesce(daily_entries.c.source_position, 1_000_000_000)
# The source item's publishedAt where there is one, else the paper's.
PUBLISHED_AT = func.coalesce(daily_entries.c.published_at, papers.c.published_at)


@dataclass(slots=True)
class FeedPage:
    """One page of a feed period (or of the whole feed when `period` is None)."""

    period: Period | None
    papers: list[PaperCard]
    total: int
    page: int
    limit: int
    sort: str
    prev_key: str | None = None  # previous day with papers, or previous week/month
    next_key: str | None = None
    latest_day: date | None = None
    scores: dict[str, TrendingScore] = field(default_factory=dict)

    @property
    def has_next_page(self) -> bool:
        return (self.page + 1) * self.limit < self.total


def latest_feed_day(conn: Connection, *, on_or_before: date | None = None) -> date | None:
    query = select(func.max(daily_entries.c.day))
    if on_or_before is not None:
        query = query.where(daily_entries.c.day <= on_or_before)
    return conn.execute(query).scalar()


def neighbour_days(
    conn: Connection, day: date, until: date | None = None
) -> tuple[date | None, date | None]:
    """The nearest days before `day` and after `until` (default `day`) that have visible
    papers (empty days are skipped)."""
    until = until or day
    prev_day = conn.execute(
        select(func.max(daily_entries.c.day))
        .select_from(VISIBLE_ENTRIES)
        .where(daily_entries.c.day < day, VISIBLE)
    ).scalar()
    next_day = conn.execute(
        select(func.min(daily_entries.c.day))
        .select_from(VISIBLE_ENTRIES)
        .where(daily_entries.c.day > until, VISIBLE)
    ).scalar()
    return prev_day, next_day


def feed_page(
    conn: Connection,
    period: Period | None,
    *,
    sort: str = "upvotes",
    page: int = 0,
    limit: int = 50,
    submitter: str | None = None,
    now: datetime | None = None,
    featured_first: bool = False,
) -> FeedPage:
    """Papers of `period` (the latest day with papers when None and `default_latest`)."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}.")
    conditions = []
    if period is not None:
        conditions += [daily_entries.c.day >= period.start, daily_entries.c.day <= period.end]
    if submitter:
        conditions.append(daily_entries.c.submitted_by == submitter)
    base = entry_select().where(*conditions)
    total = conn.execute(
        select(func.count(func.distinct(daily_entries.c.paper_id)))
        .select_from(VISIBLE_ENTRIES)
        .where(*conditions, VISIBLE)
    ).scalar_one()
    scores: dict[str, TrendingScore] = {}
    if sort == "trending":
        if period is None:
            latest = latest_feed_day(conn)
            if latest is not None:
                window = [daily_entries.c.day > latest - timedelta(days=TRENDING_WINDOW_DAYS)]
                base = base.where(*window)
                total = conn.execute(
                    select(func.count(func.distinct(daily_entries.c.paper_id)))
                    .select_from(VISIBLE_ENTRIES)
                    .where(*conditions, *window, VISIBLE)
                ).scalar_one()
        cards = _dedupe(row_to_card(row) for row in conn.execute(base))
        reference = now or _reference_time(period, cards)
        scores = {card.id: _score(card, reference) for card in cards}
        cards.sort(key=lambda c: (-scores[c.id].score, c.id))
        cards = cards[page * limit : (page + 1) * limit]
    else:
        cards = _distinct_papers(conn, conditions, sort, page, limit, featured_first)
    result = FeedPage(period, cards, total, page, limit, sort, scores=scores)
    if period is not None:
        # Like the day view, weeks and months link only to periods that have papers.
        prev_day, next_day = neighbour_days(conn, period.start, period.end)
        result.prev_key = period_of(period.kind, prev_day).key if prev_day else None
        result.next_key = period_of(period.kind, next_day).key if next_day else None
    return result


def _distinct_papers(
    conn: Connection, conditions: list, sort: str, page: int, limit: int, featured_first: bool
) -> list[PaperCard]:
    """One card per paper (a paper on two days of a period counts once), paged by paper,
    each with the period's days it was on (`feed_days`, newest first)."""
    last_day = func.max(daily_entries.c.day)
    order = (
        # As Hugging Face: upvotes, then the source's order (local entries last).
        (UPVOTES.desc(), last_day.desc(), func.min(SOURCE_ORDER), papers.c.id)
        if sort == "upvotes"
        else (last_day.desc(), func.max(PUBLISHED_AT).desc(), papers.c.id)
    )
    if featured_first:
        order = (papers.c.featured.desc(), *order)
    group = [papers.c.id, papers.c.published_at, papers.c.featured]
    group += [papers.c.source_upvotes, papers.c.local_upvotes]  # UPVOTES' columns
    ids = list(
        conn.execute(
            select(papers.c.id)
            .select_from(VISIBLE_ENTRIES)
            .where(*conditions, VISIBLE)
            .group_by(*group)
            .order_by(*order)
            .limit(limit)
            .offset(page * limit)
        ).scalars()
    )
    if not ids:
        return []
    rows = conn.execute(
        entry_select()
        .where(*conditions, daily_entries.c.paper_id.in_(ids))
        .order_by(daily_entries.c.day.desc())
    )
    by_id: dict[str, PaperCard] = {}
    for row in rows:
        card = by_id.get(row.id)
        if card is None:
            card = by_id[row.id] = row_to_card(row)
        if row.day not in card.feed_days:
            card.feed_days.append(row.day)
    return [by_id[i] for i in ids if i in by_id]


def daily_page(
    conn: Connection, period: Period | None, *, page: int = 0, limit: int = 50
) -> FeedPage:
    """The site's front page: the given period, or the latest day that has papers."""
    latest = latest_feed_day(conn)
    if period is None and latest is not None:
        period = day_period(latest)
    result = feed_page(conn, period, sort="upvotes", page=page, limit=limit, featured_first=True)
    result.latest_day = latest
    return result


@dataclass(slots=True)
class TrendingPage:
    items: list[tuple[PaperCard, TrendingScore]]
    as_of: datetime
    window_days: int
    since: date | None
    until: date | None = None  # the window's last day (the latest feed day)


def trending_page(
    conn: Connection,
    *,
    limit: int = 50,
    now: datetime | None = None,
    window_days: int = TRENDING_WINDOW_DAYS,
) -> TrendingPage:
    """Papers added in the last `window_days` days that have papers, ranked by trending score.

    The reference time is `now`, capped at the end of the latest feed day, so that
    a server holding an archive (no papers today) still ranks its newest week.
    """
    now = now or datetime.now(UTC)
    latest = latest_feed_day(conn, on_or_before=now.date())
    if latest is None:
        return TrendingPage([], now, window_days, None)
    since = latest - timedelta(days=window_days - 1)
    end_of_latest = datetime.combine(latest + timedelta(days=1), time(), tzinfo=UTC)
    reference = min(now, end_of_latest)
    query = entry_select().where(daily_entries.c.day >= since, daily_entries.c.day <= latest)
    cards = _dedupe(row_to_card(row) for row in conn.execute(query))
    scored = [(card, _score(card, reference)) for card in cards]
    scored.sort(key=lambda pair: (-pair[1].score, pair[0].id))
    return TrendingPage(scored[:limit], reference, window_days, since, latest)


def _score(card: PaperCard, reference: datetime) -> TrendingScore:
    added = card.added_at or reference
    return trending_score(
        upvotes=card.upvotes, stars=card.github_stars, added_at=added, now=reference
    )


def _reference_time(period: Period | None, cards: list[PaperCard]) -> datetime:
    now = datetime.now(UTC)
    if period is not None:
        now = min(now, datetime.combine(period.end + timedelta(days=1), time(), tzinfo=UTC))
    elif cards:
        latest = max((c.added_at for c in cards if c.added_at), default=now)
        now = min(now, latest + timedelta(days=1))
    return now


def _dedupe(cards) -> list[PaperCard]:
    """A paper listed on two days of one period appears once (its first listing wins)."""
    seen: set[str] = set()
    unique = []
    for card in cards:
        if card.id not in seen:
            seen.add(card.id)
            unique.append(card)
    return unique
