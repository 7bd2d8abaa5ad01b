"""Shared pieces of the library services: the error type, input checks, small queries.

Refusals are `CommunityError`s (message + HTTP status), so the web layer answers them the
way it answers every other community action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, select

from paperwire.domain.library_rules import LibraryInputError
from paperwire.services.community.common import (  # noqa: F401  (re-exported)
    CommunityError,
    paper_not_found,
    require_active,
)
from paperwire.store.events import LibraryChanged, record
from paperwire.store.tables import papers

T = TypeVar("T")

READ = "read"
NOT_INTERESTED = "not_interested"
MARKS = (READ, NOT_INTERESTED)


def checked(rule: Callable[..., T], *args) -> T:
    """Run an input rule; its complaint becomes a 400 naming the field."""
    try:
        return rule(*args)
    except LibraryInputError as exc:
        raise CommunityError(exc.message, 400, exc.field) from None


def require_paper(conn: Connection, paper_id: str) -> None:
    if conn.execute(select(papers.c.id).where(papers.c.id == paper_id)).first() is None:
        raise paper_not_found(paper_id)


def library_changed(conn: Connection, user_id: int) -> None:
    """Note, in the write transaction, that this reader's For-you inputs changed (their
    ranking cache entry is dropped after the commit; never for a rolled-back write)."""
    record(conn, LibraryChanged(user_id))


def not_found(what: str = "collection") -> CommunityError:
    """The same answer whether the thing does not exist or belongs to someone else."""
    return CommunityError(f"There is no such {what} here.", 404)
