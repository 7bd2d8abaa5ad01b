"""Shared rules of the community services: errors, permission checks, clocks."""

from __future__ import annotations

from sqlalchemy import Connection, select

from paperwire.domain.permissions import Action, can
from paperwire.services.accounts import User
from paperwire.store.tables import papers


class CommunityError(ValueError):
    """A refused action; `status` is the HTTP status that fits it."""

    def __init__(self, message: str, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


def require_active(user: User | None, *, verified: bool = True) -> User:
    if user is None:
        raise CommunityError("Log in first.", 401)
    if user.suspended:
        raise CommunityError("This account is suspended.", 403)
    if verified and not user.email_verified:
        raise CommunityError(
            "Confirm your email address first: open the link we mailed you "
            "(Settings can send it again).",
            403,
        )
    return user


def require(user: User | None, action: Action) -> User:
    user = require_active(user, verified=False)
    if not can(user.role, action):
        raise CommunityError("You are not allowed to do that.", 403)
    return user


def paper_exists(conn: Connection, paper_id: str) -> bool:
    return conn.execute(select(papers.c.id).where(papers.c.id == paper_id)).first() is not None


def paper_not_found(paper_id: str) -> CommunityError:
    return CommunityError(f"There is no paper {paper_id[:80]!r} here.", 404)


