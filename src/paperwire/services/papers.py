"""Read-side paper data for pages and their JSON twins: cards, paper, author, organization, stats.

Every function takes a Connection and returns plain dataclasses; the HTML page and
its JSON twin render the same object.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection, func, select
from sqlalchemy.sql import Select

from paperwire.domain.arxiv_ids import abs_url, pdf_url
from paperwire.domain.bibtex import bibtex_entry
from paperwire.domain.urls import safe_url
from paperwire.store.db import aware_utc
from paperwire.store.papers import author_key
from paperwire.store.tables import daily_entries, organizations, paper_authors, papers

ABSTRACT_PREVIEW_CHARS = 320


@dataclass(slots=True)
class OrgView:
    name: str
    fullname: str | None
    avatar_url: str | None

    @property
    def display(self) -> str:
        return self.fullname or self.name


@dataclass(slots=True)
class PaperCard:
    """One paper as a card, a feed item or an API object."""

    id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    primary_category: str | None
    published_at: datetime | None
    upvotes: int
    num_comments: int
    github_repo: str | None
    github_stars: int | None
    project_page: str | None
    ai_summary: str | None
    ai_keywords: list[str]
    organization: OrgView | None
    version: int | None = None
    featured: bool = False
    doi: str | None = None
    journal_ref: str | None = None
    arxiv_comments: str | None = None
    updated_at: datetime | None = None
    day: date | None = None
    submitted_by: str | None = None
    submitted_by_name: str | None = None
    submitted_at: datetime | None = None
    feed_days: list[date] = field(default_factory=list)  # the period's days it was on
    hf_comments: int = 0  # the part of num_comments imported from Hugging Face
    thumbnail: str | None = None
    entry_published_at: datetime | None = None  # the source item's publishedAt
    submitter: dict | None = None  # the source's submitter fields (sanitised)
    source_position: int | None = None

    @property
    def abstract_preview(self) -> str:
        text = " ".join(self.abstract.split())
        if len(text) <= ABSTRACT_PREVIEW_CHARS:
            return text
        cut = text[:ABSTRACT_PREVIEW_CHARS].rsplit(" ", 1)[0]
        return cut + "…"

    @property
    def dom_id(self) -> str:
        """The id as an HTML id fragment (old-style ids contain slashes, new ones dots)."""
        return self.id.replace("/", "-").replace(".", "-")

    @property
    def abs_url(self) -> str:
        return abs_url(self.id)

    @property
    def pdf_url(self) -> str:
        return pdf_url(self.id)

    @property
    def added_at(self) -> datetime | None:
        """When the paper reached the feed (falls back to its day, then to publication)."""
        if self.submitted_at is not None:
            return self.submitted_at
        if self.day is not None:
            return datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)
        return self.published_at


PAPER_COLUMNS = (
    papers.c.id,
    papers.c.title,
    papers.c.abstract,
    papers.c.authors,
    papers.c.categories,
    papers.c.primary_category,
    papers.c.published_at,
    papers.c.updated_at,
    papers.c.version,
    papers.c.doi,
    papers.c.journal_ref,
    papers.c.comments.label("arxiv_comments"),
    papers.c.github_repo,
    papers.c.github_stars,
    papers.c.project_page,
    papers.c.ai_summary,
    papers.c.ai_keywords,
    papers.c.featured,
    (papers.c.source_upvotes + papers.c.local_upvotes).label("upvotes"),
    (papers.c.source_comments + papers.c.local_comments).label("num_comments"),
    papers.c.source_comments.label("hf_comments"),
    organizations.c.name.label("org_name"),
    organizations.c.fullname.label("org_fullname"),
    organizations.c.avatar_url.label("org_avatar_url"),
)
ENTRY_COLUMNS = (
    daily_entries.c.day,
    daily_entries.c.submitted_by,
    daily_entries.c.submitted_by_name,
    daily_entries.c.submitted_at,
    daily_entries.c.thumbnail,
    daily_entries.c.published_at.label("entry_published_at"),
    daily_entries.c.submitter,
    daily_entries.c.source_position,
)
UPVOTES = papers.c.source_upvotes + papers.c.local_upvotes


VISIBLE = papers.c.hidden.is_(False)  # moderators can hide papers


def paper_select() -> Select:
    """Visible papers with their organization, no feed entry."""
    return (
        select(*PAPER_COLUMNS)
        .select_from(
            papers.outerjoin(organizations, papers.c.organization_id == organizations.c.id)
        )
        .where(VISIBLE)
    )


def entry_select() -> Select:
    """Feed entries of visible papers, with their paper and organization."""
    return (
        select(*PAPER_COLUMNS, *ENTRY_COLUMNS)
        .select_from(
            daily_entries.join(papers, daily_entries.c.paper_id == papers.c.id).outerjoin(
                organizations, papers.c.organization_id == organizations.c.id
            )
        )
        .where(VISIBLE)
    )


def row_to_card(row) -> PaperCard:
    mapping = row._mapping
    org = None
    if mapping["org_name"]:
        org = OrgView(
            mapping["org_name"], mapping["org_fullname"], safe_url(mapping["org_avatar_url"])
        )
    return PaperCard(
        id=row.id,
        title=row.title,
        abstract=row.abstract or "",
        authors=list(row.authors or ()),
        categories=row.categories.split() if row.categories else [],
        primary_category=row.primary_category,
        published_at=aware_utc(row.published_at),
        updated_at=aware_utc(row.updated_at),
        version=row.version,
        doi=row.doi,
        journal_ref=row.journal_ref,
        arxiv_comments=row.arxiv_comments,
        upvotes=int(row.upvotes or 0),
        num_comments=int(row.num_comments or 0),
        github_repo=safe_url(row.github_repo),
        github_stars=row.github_stars,
        project_page=safe_url(row.project_page),
        ai_summary=row.ai_summary,
        ai_keywords=list(row.ai_keywords or ()),
        organization=org,
        featured=bool(row.featured),
        day=mapping.get("day"),
        submitted_by=mapping.get("submitted_by"),
        submitted_by_name=mapping.get("submitted_by_name"),
        submitted_at=aware_utc(mapping.get("submitted_at")),
        hf_comments=int(mapping.get("hf_comments") or 0),
        thumbnail=safe_url(mapping.get("thumbnail")),
        entry_published_at=aware_utc(mapping.get("entry_published_at")),
        submitter=mapping.get("submitter"),
        source_position=mapping.get("source_position"),
    )


def cards_by_id(conn: Connection, ids: list[str]) -> dict[str, PaperCard]:
    """Cards for these ids (with their first feed entry where there is one)."""
    if not ids:
        return {}
    cards = {
        row.id: row_to_card(row) for row in conn.execute(paper_select().where(papers.c.id.in_(ids)))
    }
    first_entries = conn.execute(
        select(daily_entries.c.paper_id, *ENTRY_COLUMNS)
        .where(daily_entries.c.paper_id.in_(list(cards)))
        .order_by(daily_entries.c.day)
    )
    seen: set[str] = set()
    for entry in first_entries:
        if entry.paper_id in seen:
            continue
        seen.add(entry.paper_id)
        card = cards[entry.paper_id]
        card.day, card.submitted_by = entry.day, entry.submitted_by
        card.submitted_by_name, card.submitted_at = (
            entry.submitted_by_name,
            aware_utc(entry.submitted_at),
        )
        card.thumbnail, card.submitter = safe_url(entry.thumbnail), entry.submitter
        card.entry_published_at = aware_utc(entry.entry_published_at)
        card.source_position = entry.source_position
    return cards


# ---------------------------------------------------------------- paper page


@dataclass(slots=True)
class FeedDay:
    day: date
    submitted_by: str | None
    submitted_by_name: str | None


@dataclass(slots=True)
class PaperDetail:
    paper: PaperCard
    feed_days: list[FeedDay]
    bibtex: str
    similar: list[PaperCard] = field(default_factory=list)


def get_paper_detail(conn: Connection, paper_id: str) -> PaperDetail | None:
    cards = cards_by_id(conn, [paper_id])
    card = cards.get(paper_id)
    if card is None:
        return None
    days = [
        FeedDay(row.day, row.submitted_by, row.submitted_by_name)
        for row in conn.execute(
            select(*ENTRY_COLUMNS)
            .where(daily_entries.c.paper_id == paper_id)
            .order_by(daily_entries.c.day)
        )
    ]
    bib = bibtex_entry(
        arxiv_id=card.id,
        title=card.title,
        authors=card.authors,
        year=(card.published_at or card.added_at or datetime.now(UTC)).year,
        primary_category=card.primary_category,
        doi=card.doi,
    )
    return PaperDetail(paper=card, feed_days=days, bibtex=bib)


# ---------------------------------------------------------------- author / organization


@dataclass(slots=True)
class PaperList:
    """A titled, paged list of papers (author and organization pages)."""

    name: str
    display_name: str
    papers: list[PaperCard]
    total: int
    page: int
    limit: int
    total_upvotes: int = 0

    @property
    def has_next(self) -> bool:
        return (self.page + 1) * self.limit < self.total


def get_author_papers(conn: Connection, name: str, *, page: int, limit: int) -> PaperList | None:
    key = author_key(name)
    if not key:
        return None
    spellings = Counter(
        conn.execute(
            select(paper_authors.c.name).where(paper_authors.c.name_key == key).limit(500)
        ).scalars()
    )
    if not spellings:
        return None
    total = conn.execute(
        select(func.count(func.distinct(paper_authors.c.paper_id))).where(
            paper_authors.c.name_key == key
        )
    ).scalar_one()
    ids_query = select(paper_authors.c.paper_id).where(paper_authors.c.name_key == key).distinct()
    query = (
        paper_select()
        .where(papers.c.id.in_(ids_query))
        .order_by(papers.c.published_at.desc(), papers.c.id.desc())
        .limit(limit)
        .offset(page * limit)
    )
    cards = [row_to_card(row) for row in conn.execute(query)]
    upvotes = conn.execute(
        select(func.coalesce(func.sum(UPVOTES), 0)).where(papers.c.id.in_(ids_query))
    ).scalar_one()
    return PaperList(key, spellings.most_common(1)[0][0], cards, total, page, limit, int(upvotes))


def find_organization(conn: Connection, name: str):
    """The organizations row named `name`: the exact name first, else case-insensitively
    (`/organizations/Google` finds `google`)."""
    exact = conn.execute(select(organizations).where(organizations.c.name == name)).first()
    if exact is not None:
        return exact
    return conn.execute(
        select(organizations)
        .where(func.lower(organizations.c.name) == name.lower())
        .order_by(organizations.c.name)
        .limit(1)
    ).first()


@dataclass(slots=True)
class OrganizationEntry:
    name: str
    display_name: str
    papers: int
    members: int


def list_organizations(
    conn: Connection, *, query: str = "", page: int = 0, limit: int = 100
) -> tuple[list[OrganizationEntry], int]:
    """Organizations with their visible papers and members, most papers first, then by name;
    `query` keeps those whose name or full name contains it. Returns a page and the total."""
    from paperwire.store.accounts_tables import organization_members

    paper_count = (
        select(func.count()).where(papers.c.organization_id == organizations.c.id, VISIBLE)
        .scalar_subquery()
    )
    member_count = (
        select(func.count())
        .where(organization_members.c.organization_id == organizations.c.id)
        .scalar_subquery()
    )
    where = []
    if query.strip():
        like = f"%{query.strip().lower()[:100]}%"
        where.append(
            func.lower(organizations.c.name).like(like)
            | func.lower(func.coalesce(organizations.c.fullname, "")).like(like)
        )
    total = conn.execute(select(func.count()).select_from(organizations).where(*where)).scalar_one()
    rows = conn.execute(
        select(organizations.c.name, organizations.c.fullname,
               paper_count.label("papers"), member_count.label("members"))
        .where(*where)
        .order_by(paper_count.desc(), func.lower(organizations.c.name), organizations.c.name)
        .limit(limit)
        .offset(page * limit)
    ).all()
    entries = [OrganizationEntry(r.name, r.fullname or r.name, int(r.papers), int(r.members))
               for r in rows]
    return entries, int(total)


def get_organization_papers(
    conn: Connection, name: str, *, page: int, limit: int
) -> PaperList | None:
    org = find_organization(conn, name)
    if org is None:
        return None
    where = (papers.c.organization_id == org.id) & VISIBLE
    total = conn.execute(select(func.count()).select_from(papers).where(where)).scalar_one()
    upvotes = conn.execute(select(func.coalesce(func.sum(UPVOTES), 0)).where(where)).scalar_one()
    query = (
        paper_select()
        .where(where)
        .order_by(papers.c.published_at.desc(), papers.c.id.desc())
        .limit(limit)
        .offset(page * limit)
    )
    cards = [row_to_card(row) for row in conn.execute(query)]
    return PaperList(org.name, org.fullname or org.name, cards, total, page, limit, int(upvotes))


# ---------------------------------------------------------------- cursor listing (API)


def list_papers_after(
    conn: Connection, cursor: str | None, *, limit: int
) -> tuple[list[PaperCard], str | None]:
    """Papers in id order after `cursor`; returns the page and the next cursor (None at the end)."""
    query = paper_select().order_by(papers.c.id).limit(limit + 1)
    if cursor:
        query = query.where(papers.c.id > cursor)
    cards = [row_to_card(row) for row in conn.execute(query)]
    next_cursor = cards[limit - 1].id if len(cards) > limit else None
    return cards[:limit], next_cursor


# ---------------------------------------------------------------- stats


@dataclass(slots=True)
class TopPaper:
    period: str
    id: str
    title: str
    upvotes: int


@dataclass(slots=True)
class Stats:
    total_papers: int
    total_feed_entries: int
    total_feed_days: int
    total_organizations: int
    feed_per_day: list[tuple[date, int]]
    papers_per_month: list[tuple[str, int]]
    top_by_month: list[TopPaper]
    top_categories: list[tuple[str, int]]


def get_stats(conn: Connection, *, recent_days: int = 120) -> Stats:
    total_papers = conn.execute(select(func.count()).select_from(papers)).scalar_one()
    total_entries = conn.execute(select(func.count()).select_from(daily_entries)).scalar_one()
    total_orgs = conn.execute(select(func.count()).select_from(organizations)).scalar_one()
    per_day = [
        (row.day, row.n)
        for row in conn.execute(
            select(daily_entries.c.day, func.count().label("n"))
            .group_by(daily_entries.c.day)
            .order_by(daily_entries.c.day.desc())
            .limit(recent_days)
        )
    ][::-1]
    total_days = conn.execute(select(func.count(func.distinct(daily_entries.c.day)))).scalar_one()
    month = _month_expr(conn, papers.c.published_at)
    per_month = [
        (row.m, row.n)
        for row in conn.execute(
            select(month.label("m"), func.count().label("n"))
            .where(papers.c.published_at.is_not(None))
            .group_by(month)
            .order_by(month)
        )
        if row.m
    ]
    top: dict[str, TopPaper] = {}
    entries = conn.execute(
        select(
            daily_entries.c.day, papers.c.id, papers.c.title, UPVOTES.label("upvotes")
        ).select_from(daily_entries.join(papers, daily_entries.c.paper_id == papers.c.id))
    )
    for row in entries:
        key = f"{row.day.year}-{row.day.month:02d}"
        best = top.get(key)
        if best is None or row.upvotes > best.upvotes:
            top[key] = TopPaper(key, row.id, row.title, int(row.upvotes))
    count = func.count().label("n")
    categories = conn.execute(
        select(papers.c.primary_category, count)
        .where(papers.c.primary_category.is_not(None))
        .group_by(papers.c.primary_category)
        .order_by(count.desc())
        .limit(12)
    ).all()
    return Stats(
        total_papers=total_papers,
        total_feed_entries=total_entries,
        total_feed_days=total_days,
        total_organizations=total_orgs,
        feed_per_day=per_day,
        papers_per_month=per_month,
        top_by_month=[top[k] for k in sorted(top)],
        top_categories=[(c, n) for c, n in categories],
    )


def _month_expr(conn: Connection, column):
    if conn.dialect.name == "sqlite":
        return func.strftime("%Y-%m", column)
    return func.to_char(column, "YYYY-MM")
