"""The candidate papers of a digest window, loaded from the feed tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from sqlalchemy import Engine, func, select

from paperwire.domain.digest_selection import DigestPaper
from paperwire.domain.urls import safe_url
from paperwire.store.db import aware_utc
from paperwire.store.tables import daily_entries, organizations, paper_enrichments, papers


def day_start(day: date) -> datetime:
    return datetime.combine(day, dtime.min, tzinfo=UTC)


def load_window_papers(engine: Engine, start: date, end: date) -> list[DigestPaper]:
    """Papers that reached the feed in (start, end]: a daily entry then, or published then."""
    lo, hi = day_start(start + timedelta(days=1)), day_start(end + timedelta(days=1))
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
               organizations.c.fullname.label("org_fullname"),
               papers.c.ai_summary, papers.c.ai_keywords,
               paper_enrichments.c.summary.label("computed_summary"),
               paper_enrichments.c.keywords.label("computed_keywords")]
    found: dict[str, DigestPaper] = {}
    with engine.connect() as conn:
        daily_rows = conn.execute(
            select(*columns, in_daily.c.day)
            .join(in_daily, in_daily.c.paper_id == papers.c.id)
            .outerjoin(organizations, papers.c.organization_id == organizations.c.id)
            .outerjoin(paper_enrichments, paper_enrichments.c.paper_id == papers.c.id)
        )
        for row in daily_rows:
            found[row.id] = _digest_paper(row, day_start(row.day))
        published_rows = conn.execute(
            select(*columns)
            .outerjoin(organizations, papers.c.organization_id == organizations.c.id)
            .outerjoin(paper_enrichments, paper_enrichments.c.paper_id == papers.c.id)
            .where(papers.c.published_at >= lo, papers.c.published_at < hi)
        )
        for row in published_rows:
            if row.id not in found:
                found[row.id] = _digest_paper(row, aware_utc(row.published_at))
    return sorted(found.values(), key=lambda p: p.id)


def _digest_paper(row: Any, added_at: datetime) -> DigestPaper:
    return DigestPaper(
        id=row.id, title=" ".join(row.title.split()), authors=tuple(row.authors or ()),
        abstract=row.abstract or "", added_at=added_at,
        upvotes=int(row.source_upvotes or 0) + int(row.local_upvotes or 0),
        stars=row.github_stars, github_repo=safe_url(row.github_repo),
        categories=tuple((row.categories or "").split()),
        organization=row.org_name, organization_fullname=row.org_fullname,
        summary=row.ai_summary or row.computed_summary,
        keywords=tuple(row.ai_keywords or row.computed_keywords or ()),
    )
