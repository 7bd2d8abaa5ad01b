"""Upvotes: one per user per paper, kept in step with `papers.local_upvotes`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from paperwire.services.accounts import User
from paperwire.services.community.common import paper_not_found, require_active
from paperwire.store.accounts_tables import (
    paper_votes,
)
from paperwire.store.db import insert_ignore, utcnow
from paperwire.store.events import LibraryChanged, PaperPart, PapersChanged
from paperwire.store.events import record as record_event
from paperwire.store.tables import papers


@dataclass(frozen=True, slots=True)
class VoteState:
    paper_id: str
    voted: bool
    upvotes: int  # imported + local

    def as_json(self) -> dict[str, object]:
        return {"paperId": self.paper_id, "upvoted": self.voted, "upvotes": self.upvotes}


def set_vote(engine: Engine, user: User | None, paper_id: str, voted: bool) -> VoteState:
    """Add or remove this user's vote; idempotent, safe under concurrent requests.

    The vote row's primary key (user, paper) decides; the counter moves only
    when a row was really inserted or deleted.
    """
    user = require_active(user)
    with engine.begin() as conn:
        if voted:
            stmt = (
                insert_ignore(conn, paper_votes)
                .values(user_id=user.id, paper_id=paper_id, created_at=utcnow())
                .returning(paper_votes.c.user_id)
            )
            try:
                # RETURNING gives a row only when the vote was really inserted.
                changed = conn.execute(stmt).first() is not None
            except IntegrityError:  # the paper does not exist (foreign key)
                raise paper_not_found(paper_id) from None
            delta = 1
        else:
            changed = (
                conn.execute(
                    paper_votes.delete().where(
                        paper_votes.c.user_id == user.id, paper_votes.c.paper_id == paper_id
                    )
                ).rowcount
                == 1
            )
            delta = -1
        if changed:
            conn.execute(
                update(papers)
                .where(papers.c.id == paper_id)
                .values(local_upvotes=papers.c.local_upvotes + delta)
            )
            # every visitor sees the count; the voter's For-you ranking reads the upvote
            record_event(conn, PapersChanged.of([paper_id], PaperPart.VOTES),
                         LibraryChanged(user.id))
        row = conn.execute(
            select(papers.c.source_upvotes, papers.c.local_upvotes).where(papers.c.id == paper_id)
        ).first()
        if row is None:
            raise paper_not_found(paper_id)
    return VoteState(paper_id, voted, row.source_upvotes + row.local_upvotes)


def voted_ids(engine: Engine, user_id: int, paper_ids: list[str] | None = None) -> set[str]:
    query = select(paper_votes.c.paper_id).where(paper_votes.c.user_id == user_id)
    if paper_ids is not None:
        query = query.where(paper_votes.c.paper_id.in_(paper_ids))
    with engine.connect() as conn:
        return set(conn.scalars(query))


def vote_count(engine: Engine, paper_id: str) -> int:
    with engine.connect() as conn:
        row = conn.execute(
            select(papers.c.source_upvotes, papers.c.local_upvotes).where(papers.c.id == paper_id)
        ).first()
    return (row.source_upvotes + row.local_upvotes) if row else 0
