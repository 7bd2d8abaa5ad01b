"""Moderation: hide or feature papers, suspend users."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from paperwire.domain.permissions import Action
from paperwire.services.accounts import User, find_user
from paperwire.services.community.common import CommunityError, paper_not_found, require
from paperwire.store.events import PapersChanged
from paperwire.store.events import record as record_event
from paperwire.store.tables import papers


def set_paper_flag(
    engine: Engine, user: User | None, paper_id: str, flag: str, value: bool
) -> None:
    action = {"hidden": Action.HIDE_PAPER, "featured": Action.FEATURE_PAPER}.get(flag)
    if action is None:
        raise CommunityError(f"Unknown flag {flag!r}.", 400)
    require(user, action)
    with engine.begin() as conn:
        result = conn.execute(update(papers).where(papers.c.id == paper_id).values({flag: value}))
        if result.rowcount != 1:
            raise paper_not_found(paper_id)
        record_event(conn, PapersChanged.of([paper_id]))


def flagged_papers(engine: Engine, flag: str, *, limit: int = 200) -> list[dict[str, object]]:
    """Papers with `hidden` or `featured` set, for the moderation page (hidden pages 404)."""
    column = {"hidden": papers.c.hidden, "featured": papers.c.featured}[flag]
    with engine.connect() as conn:
        rows = conn.execute(
            select(papers.c.id, papers.c.title)
            .where(column.is_(True))
            .order_by(papers.c.modified_at.desc())
            .limit(limit)
        ).all()
    return [{"id": r.id, "title": r.title} for r in rows]


def suspend_user(engine: Engine, admin: User | None, username: str, suspended: bool) -> None:
    from paperwire.services.accounts import set_suspended

    admin = require(admin, Action.SUSPEND_USER)
    target = find_user(engine, username)
    if target is None:
        raise CommunityError(f"There is no user {username[:40]!r}.", 404)
    if target.id == admin.id:
        raise CommunityError("You cannot suspend yourself.", 400)
    set_suspended(engine, target.id, suspended)
