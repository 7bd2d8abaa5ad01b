"""Threaded Markdown comments, kept in step with `papers.local_comments`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select, update

from paperwire.domain import account_rules as rules
from paperwire.domain.comment_markup import mentioned_usernames, render_comment
from paperwire.domain.permissions import can_delete_comment, can_edit_comment
from paperwire.services.accounts import User
from paperwire.services.community.common import (
    CommunityError,
    paper_exists,
    paper_not_found,
    require_active,
)
from paperwire.store.accounts_tables import (
    comments,
    users,
)
from paperwire.store.db import aware_utc, utcnow
from paperwire.store.events import PaperPart, PapersChanged
from paperwire.store.events import record as record_event
from paperwire.store.tables import papers


@dataclass(slots=True)
class CommentView:
    id: int
    paper_id: str
    parent_id: int | None
    author: str | None  # None once deleted
    author_id: int
    body_source: str
    body_html: str
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    replies: list[CommentView] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "paperId": self.paper_id,
            "parentId": self.parent_id,
            "author": self.author,
            "body": self.body_source,
            "html": self.body_html,
            "createdAt": self.created_at.isoformat(),
            "editedAt": self.edited_at.isoformat() if self.edited_at else None,
            "deleted": self.deleted,
            "replies": [reply.as_json() for reply in self.replies],
        }


def _check_body(body: str) -> str:
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise CommunityError("Write something first.", 400, "body")
    if len(body) > rules.COMMENT_MAX:
        raise CommunityError(
            f"Comments have at most {rules.COMMENT_MAX} characters (this one has {len(body)}).",
            400,
            "body",
        )
    if "\x00" in body:
        raise CommunityError("Comments cannot contain NUL characters.", 400, "body")
    return body


def _render(conn: Connection, body: str) -> str:
    names = list(mentioned_usernames(body))[:50]
    existing = []
    if names:
        existing = list(
            conn.scalars(
                select(users.c.username).where(
                    users.c.username_key.in_([rules.username_key(n) for n in names])
                )
            )
        )
    return render_comment(body, existing)


def add_comment(
    engine: Engine, user: User | None, paper_id: str, body: str, parent_id: int | None = None
) -> CommentView:
    user = require_active(user)
    body = _check_body(body)
    now = utcnow()
    with engine.begin() as conn:
        if not paper_exists(conn, paper_id):
            raise paper_not_found(paper_id)
        if parent_id is not None:
            parent = conn.execute(
                select(comments.c.paper_id, comments.c.deleted_at).where(comments.c.id == parent_id)
            ).first()
            if parent is None or parent.paper_id != paper_id:
                raise CommunityError("The comment you reply to is not on this paper.", 400)
            if parent.deleted_at is not None:
                raise CommunityError("The comment you reply to was deleted.", 400)
        comment_id = conn.execute(
            insert(comments).values(
                paper_id=paper_id,
                user_id=user.id,
                parent_id=parent_id,
                body_source=body,
                body_html=_render(conn, body),
                created_at=now,
            )
        ).inserted_primary_key[0]
        conn.execute(
            update(papers)
            .where(papers.c.id == paper_id)
            .values(local_comments=papers.c.local_comments + 1)
        )
        record_event(conn, PapersChanged.of([paper_id], PaperPart.COMMENTS))
    return get_comment(engine, comment_id)


def get_comment(engine: Engine, comment_id: int) -> CommentView | None:
    with engine.connect() as conn:
        rows = _comment_rows(conn, comments.c.id == comment_id)
    return rows[0] if rows else None


def _comment_rows(conn: Connection, condition) -> list[CommentView]:
    query = (
        select(comments, users.c.username)
        .join(users, users.c.id == comments.c.user_id)
        .where(condition)
        .order_by(comments.c.created_at, comments.c.id)
    )
    out = []
    for r in conn.execute(query):
        deleted = r.deleted_at is not None
        out.append(
            CommentView(
                id=r.id,
                paper_id=r.paper_id,
                parent_id=r.parent_id,
                author=None if deleted else r.username,
                author_id=r.user_id,
                body_source="" if deleted else r.body_source,
                body_html="" if deleted else r.body_html,
                created_at=aware_utc(r.created_at),
                edited_at=aware_utc(r.edited_at),
                deleted=deleted,
            )
        )
    return out


def comment_thread(engine: Engine, paper_id: str) -> list[CommentView]:
    """Top-level comments, oldest first, each with its replies nested.

    Deleted comments stay as placeholders only while they have live replies.
    """
    with engine.connect() as conn:
        flat = _comment_rows(conn, comments.c.paper_id == paper_id)
    by_id = {c.id: c for c in flat}
    roots: list[CommentView] = []
    for c in flat:
        parent = by_id.get(c.parent_id) if c.parent_id else None
        (parent.replies if parent else roots).append(c)

    def prune(items: list[CommentView]) -> list[CommentView]:
        kept = []
        for c in items:
            c.replies = prune(c.replies)
            if not c.deleted or c.replies:
                kept.append(c)
        return kept

    return prune(roots)


def _load_owned(conn: Connection, comment_id: int):
    row = conn.execute(select(comments).where(comments.c.id == comment_id)).first()
    if row is None or row.deleted_at is not None:
        raise CommunityError("That comment does not exist or was deleted.", 404)
    return row


def edit_comment(engine: Engine, user: User | None, comment_id: int, body: str) -> CommentView:
    user = require_active(user)
    body = _check_body(body)
    with engine.begin() as conn:
        row = _load_owned(conn, comment_id)
        if not can_edit_comment(user.id, row.user_id):
            raise CommunityError("You can only edit your own comments.", 403)
        conn.execute(
            update(comments)
            .where(comments.c.id == comment_id)
            .values(body_source=body, body_html=_render(conn, body), edited_at=utcnow())
        )
        record_event(conn, PapersChanged.of([row.paper_id], PaperPart.COMMENTS))
    return get_comment(engine, comment_id)


def delete_comment(engine: Engine, user: User | None, comment_id: int) -> str:
    """Soft-delete (text wiped); returns the paper id. Authors and moderators may."""
    user = require_active(user, verified=False)
    with engine.begin() as conn:
        row = _load_owned(conn, comment_id)
        if not can_delete_comment(user.id, user.role, row.user_id):
            raise CommunityError("You can only delete your own comments.", 403)
        result = conn.execute(
            update(comments)
            .where(comments.c.id == comment_id, comments.c.deleted_at.is_(None))
            .values(deleted_at=utcnow(), deleted_by=user.id, body_source="", body_html="")
        )
        if result.rowcount == 1:
            conn.execute(
                update(papers)
                .where(papers.c.id == row.paper_id)
                .values(local_comments=papers.c.local_comments - 1)
            )
            record_event(conn, PapersChanged.of([row.paper_id], PaperPart.COMMENTS))
    return row.paper_id
