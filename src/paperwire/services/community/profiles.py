"""User profiles: submitted, upvoted and claimed papers, and comments."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select

from paperwire.services.accounts import User, find_user
from paperwire.services.community.organizations import organizations_of
from paperwire.store.accounts_tables import (
    authorship_claims,
    comments,
    paper_votes,
)
from paperwire.store.db import aware_utc
from paperwire.store.tables import papers


@dataclass(slots=True)
class Profile:
    user: User
    submitted: list[dict[str, object]]
    upvoted: list[dict[str, object]]
    claimed: list[dict[str, object]]
    comments: list[dict[str, object]]
    organizations: list[str]

    def as_json(self) -> dict[str, object]:
        return {
            "user": self.user.public(),
            "submittedPapers": self.submitted,
            "upvotedPapers": self.upvoted,
            "claimedPapers": self.claimed,
            "comments": self.comments,
            "organizations": self.organizations,
        }


def _paper_summary(row) -> dict[str, object]:
    return {"id": row.id, "title": row.title, "upvotes": row.source_upvotes + row.local_upvotes}


def profile(engine: Engine, username: str, *, limit: int = 100) -> Profile | None:
    from paperwire.store.tables import daily_entries

    user = find_user(engine, username)
    if user is None:
        return None
    cols = (papers.c.id, papers.c.title, papers.c.source_upvotes, papers.c.local_upvotes)
    visible = papers.c.hidden.is_(False)
    with engine.connect() as conn:
        submitted = [
            _paper_summary(r) | {"day": r.day.isoformat()}
            for r in conn.execute(
                select(*cols, daily_entries.c.day)
                .join(daily_entries, daily_entries.c.paper_id == papers.c.id)
                .where(daily_entries.c.submitted_by_user_id == user.id, visible)
                .order_by(daily_entries.c.day.desc())
                .limit(limit)
            )
        ]
        upvoted = [
            _paper_summary(r)
            for r in conn.execute(
                select(*cols)
                .join(paper_votes, paper_votes.c.paper_id == papers.c.id)
                .where(paper_votes.c.user_id == user.id, visible)
                .order_by(paper_votes.c.created_at.desc())
                .limit(limit)
            )
        ]
        claimed = [
            _paper_summary(r) | {"authorName": r.author_name}
            for r in conn.execute(
                select(*cols, authorship_claims.c.author_name)
                .join(authorship_claims, authorship_claims.c.paper_id == papers.c.id)
                .where(
                    authorship_claims.c.user_id == user.id,
                    authorship_claims.c.status == "approved",
                    visible,
                )
                .order_by(authorship_claims.c.decided_at.desc())
                .limit(limit)
            )
        ]
        user_comments = [
            {
                "id": r.id,
                "paperId": r.paper_id,
                "paperTitle": r.title,
                "html": r.body_html,
                "createdAt": aware_utc(r.created_at).isoformat(),
            }
            for r in conn.execute(
                select(
                    comments.c.id,
                    comments.c.paper_id,
                    comments.c.body_html,
                    comments.c.created_at,
                    papers.c.title,
                )
                .join(papers, papers.c.id == comments.c.paper_id)
                .where(comments.c.user_id == user.id, comments.c.deleted_at.is_(None), visible)
                .order_by(comments.c.created_at.desc())
                .limit(limit)
            )
        ]
    return Profile(
        user, submitted, upvoted, claimed, user_comments, organizations_of(engine, user.id)
    )
