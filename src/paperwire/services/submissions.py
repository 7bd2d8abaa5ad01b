"""Submitting a paper to today's daily page, as on Hugging Face.

Metadata comes from the database when the paper is known, else from the arXiv
API. The paper and its daily entry are written in one transaction: a refused or
failed submission leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from paperwire.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.domain.records import DailyEntryRecord, PaperRecord
from paperwire.services.accounts import User
from paperwire.services.community import CommunityError, require_active
from paperwire.store.papers import add_daily_entries, get_paper, upsert_papers
from paperwire.store.tables import daily_entries

SOURCE = "submitted"

# ids -> records; raises PaperNotFound (SourceError) or SourceUnavailable/SourceRefused.
PaperFetcher = Callable[[list[str]], list[PaperRecord]]


@dataclass(frozen=True, slots=True)
class Submission:
    paper: PaperRecord
    day: date
    fetched: bool  # True when the metadata came from arXiv just now

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.paper.id,
            "title": self.paper.title,
            "day": self.day.isoformat(),
            "url": f"/papers/{self.paper.id}",
        }


def submit_paper(
    engine: Engine,
    user: User | None,
    text: str,
    *,
    fetch: PaperFetcher,
    max_age_days: int,
    today: date | None = None,
) -> Submission:
    """Add a paper (id or URL) to today's page with the submitter recorded."""
    from paperwire.sources.http_client import SourceError

    user = require_active(user)
    text = (text or "").strip()
    if not text:
        raise CommunityError("Enter an arXiv id such as 2506.11924 or its URL.", 400, "arxiv_id")
    try:
        paper_id = parse_arxiv_id(text[:300]).id
    except InvalidArxivId as exc:
        raise CommunityError(str(exc), 400, "arxiv_id") from None
    today = today or datetime.now(UTC).date()
    with engine.connect() as conn:
        if _listed_on(conn, paper_id, today):
            raise _duplicate(paper_id)
        recent = _last_listed_since(conn, paper_id, today - timedelta(days=max_age_days))
        if recent is not None:  # once per window: an old listing brings no second run
            raise CommunityError(
                f"{paper_id} was on the daily page on {recent.isoformat()}; a paper is on the "
                f"daily page once per {max_age_days} days.",
                409,
                "arxiv_id",
            )
        stored = get_paper(conn, paper_id)
    fetched = False
    paper = stored
    if paper is None:
        try:
            paper = fetch([paper_id])[0]
        except SourceError as exc:
            status = 404 if type(exc).__name__ == "PaperNotFound" else 502
            message = (
                f"arXiv has no paper {paper_id}; check the id."
                if status == 404
                else f"arXiv did not answer for {paper_id}; try again in a few minutes."
            )
            raise CommunityError(message, status, "arxiv_id") from None
        fetched = True
    _check_age(paper, today, max_age_days)
    entry = DailyEntryRecord(
        paper_id=paper.id,
        day=today,
        source=SOURCE,
        submitted_by=user.username,
        submitted_by_name=user.username,
        submitted_at=datetime.now(UTC),
    )
    try:
        with engine.begin() as conn:
            if fetched:
                upsert_papers(conn, [paper])
            if add_daily_entries(conn, [entry]) != 1:
                raise _duplicate(paper.id)
            conn.execute(
                update(daily_entries)
                .where(daily_entries.c.day == today, daily_entries.c.paper_id == paper.id)
                .values(submitted_by_user_id=user.id)
            )
    except IntegrityError:  # a simultaneous submission of the same paper won
        raise _duplicate(paper.id) from None
    return Submission(paper, today, fetched)


def _listed_on(conn, paper_id: str, day: date) -> bool:
    return (
        conn.execute(
            select(daily_entries.c.id).where(
                daily_entries.c.day == day, daily_entries.c.paper_id == paper_id
            )
        ).first()
        is not None
    )


def _last_listed_since(conn, paper_id: str, since: date) -> date | None:
    return conn.execute(
        select(func.max(daily_entries.c.day)).where(
            daily_entries.c.paper_id == paper_id, daily_entries.c.day >= since
        )
    ).scalar()


def _duplicate(paper_id: str) -> CommunityError:
    return CommunityError(f"{paper_id} is already on today's page.", 409, "arxiv_id")


def _check_age(paper: PaperRecord, today: date, max_age_days: int) -> None:
    published = paper.published_at
    if published is None:
        return
    if published.date() < today - timedelta(days=max_age_days):
        raise CommunityError(
            f"{paper.id} was published on {published.date().isoformat()}; only papers from the "
            f"last {max_age_days} days can be submitted.",
            400,
            "arxiv_id",
        )
