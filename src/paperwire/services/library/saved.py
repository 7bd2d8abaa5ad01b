"""Saved papers: save and remove, private notes, tags, read and not-interested marks.

Every function acts for one user and touches only that user's rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, func, select, update

from paperwire.domain import library_rules as rules
from paperwire.domain.comment_markup import render_comment
from paperwire.services.accounts import User
from paperwire.services.library.common import (
    MARKS,
    CommunityError,
    checked,
    library_changed,
    require_active,
    require_paper,
)
from paperwire.store.db import aware_utc, insert_ignore, utcnow
from paperwire.store.library_tables import (
    collection_items,
    collections,
    library_items,
    library_tags,
    paper_marks,
)


@dataclass(slots=True)
class LibraryItem:
    paper_id: str
    saved_at: datetime
    note_source: str = ""
    note_html: str = ""
    tags: list[str] = field(default_factory=list)
    collections: list[tuple[int, str]] = field(default_factory=list)  # (id, name)
    read: bool = False
    not_interested: bool = False

    def as_json(self) -> dict[str, object]:
        return {
            "paperId": self.paper_id,
            "savedAt": self.saved_at.isoformat(),
            "note": self.note_source,
            "noteHtml": self.note_html,
            "tags": self.tags,
            "collections": [{"id": cid, "name": name} for cid, name in self.collections],
            "read": self.read,
            "notInterested": self.not_interested,
        }


@dataclass(frozen=True, slots=True)
class PaperState:
    """What the paper page shows for one user: saved or not, and the marks."""

    paper_id: str
    saved: bool
    read: bool
    not_interested: bool

    def as_json(self) -> dict[str, object]:
        return {
            "paperId": self.paper_id,
            "saved": self.saved,
            "read": self.read,
            "notInterested": self.not_interested,
        }


def _save(conn: Connection, user_id: int, paper_id: str) -> bool:
    require_paper(conn, paper_id)
    now = utcnow()
    stmt = (
        insert_ignore(conn, library_items)
        .values(user_id=user_id, paper_id=paper_id, saved_at=now, updated_at=now)
        .returning(library_items.c.paper_id)
    )
    return conn.execute(stmt).first() is not None


def save_paper(engine: Engine, user: User | None, paper_id: str) -> PaperState:
    """Save to the library (idempotent). Saving also lifts a not-interested mark."""
    user = require_active(user)
    with engine.begin() as conn:
        _save(conn, user.id, paper_id)
        library_changed(conn, user.id)
        conn.execute(
            delete(paper_marks).where(
                paper_marks.c.user_id == user.id,
                paper_marks.c.paper_id == paper_id,
                paper_marks.c.kind == "not_interested",
            )
        )
    return paper_state(engine, user.id, paper_id)


def save_papers(conn: Connection, user_id: int, paper_ids: Iterable[str]) -> int:
    """Save many known papers in the caller's transaction; how many were new."""
    now = utcnow()
    ids = list(dict.fromkeys(paper_ids))
    if not ids:
        return 0
    already = set(
        conn.scalars(
            select(library_items.c.paper_id).where(
                library_items.c.user_id == user_id, library_items.c.paper_id.in_(ids)
            )
        )
    )
    new = [pid for pid in ids if pid not in already]
    if new:
        conn.execute(
            library_items.insert(),
            [{"user_id": user_id, "paper_id": pid, "saved_at": now, "updated_at": now,
              "note_source": "", "note_html": ""} for pid in new],
        )
        library_changed(conn, user_id)
    return len(new)


def remove_paper(engine: Engine, user: User | None, paper_id: str) -> PaperState:
    """Remove from the library, with its note, tags and places in the user's collections."""
    user = require_active(user)
    with engine.begin() as conn:
        own = select(collections.c.id).where(collections.c.user_id == user.id)
        conn.execute(
            delete(collection_items).where(
                collection_items.c.collection_id.in_(own), collection_items.c.paper_id == paper_id
            )
        )
        conn.execute(
            delete(library_tags).where(
                library_tags.c.user_id == user.id, library_tags.c.paper_id == paper_id
            )
        )
        conn.execute(
            delete(library_items).where(
                library_items.c.user_id == user.id, library_items.c.paper_id == paper_id
            )
        )
        library_changed(conn, user.id)
    return paper_state(engine, user.id, paper_id)


def set_mark(engine: Engine, user: User | None, paper_id: str, kind: str, on: bool) -> PaperState:
    """Mark a paper read or not interested (or lift the mark). Any paper can be marked."""
    user = require_active(user)
    if kind not in MARKS:
        raise CommunityError(f"Unknown mark {kind[:30]!r}: use read or not_interested.", 400)
    with engine.begin() as conn:
        require_paper(conn, paper_id)
        if on:
            conn.execute(
                insert_ignore(conn, paper_marks).values(
                    user_id=user.id, paper_id=paper_id, kind=kind, created_at=utcnow()
                )
            )
        else:
            conn.execute(
                delete(paper_marks).where(
                    paper_marks.c.user_id == user.id,
                    paper_marks.c.paper_id == paper_id,
                    paper_marks.c.kind == kind,
                )
            )
        library_changed(conn, user.id)
    return paper_state(engine, user.id, paper_id)


def set_note(engine: Engine, user: User | None, paper_id: str, source: str) -> LibraryItem:
    """Write the private note (Markdown, sanitised as comments are); saves the paper."""
    user = require_active(user)
    source = checked(rules.note, source)
    html = render_comment(source) if source.strip() else ""
    with engine.begin() as conn:
        _save(conn, user.id, paper_id)
        conn.execute(
            update(library_items)
            .where(library_items.c.user_id == user.id, library_items.c.paper_id == paper_id)
            .values(note_source=source, note_html=html, updated_at=utcnow())
        )
        library_changed(conn, user.id)
    return _require_item(engine, user.id, paper_id)


def set_tags(
    engine: Engine, user: User | None, paper_id: str, tags: str | list[str]
) -> LibraryItem:
    """Replace the paper's tags (comma-separated text or a list); saves the paper."""
    user = require_active(user)
    text = tags if isinstance(tags, str) else ",".join(tags)
    cleaned = checked(rules.tag_list, text)
    with engine.begin() as conn:
        _save(conn, user.id, paper_id)
        conn.execute(
            delete(library_tags).where(
                library_tags.c.user_id == user.id, library_tags.c.paper_id == paper_id
            )
        )
        if cleaned:
            conn.execute(
                library_tags.insert(),
                [{"user_id": user.id, "paper_id": paper_id, "tag": t,
                  "tag_key": rules.name_key(t)} for t in cleaned],
            )
        library_changed(conn, user.id)
    return _require_item(engine, user.id, paper_id)


def paper_state(engine: Engine, user_id: int, paper_id: str) -> PaperState:
    with engine.connect() as conn:
        saved = conn.execute(
            select(library_items.c.paper_id).where(
                library_items.c.user_id == user_id, library_items.c.paper_id == paper_id
            )
        ).first() is not None
        kinds = set(
            conn.scalars(
                select(paper_marks.c.kind).where(
                    paper_marks.c.user_id == user_id, paper_marks.c.paper_id == paper_id
                )
            )
        )
    return PaperState(paper_id, saved, "read" in kinds, "not_interested" in kinds)


def saved_ids(engine: Engine, user_id: int, paper_ids: Iterable[str] | None = None) -> set[str]:
    query = select(library_items.c.paper_id).where(library_items.c.user_id == user_id)
    if paper_ids is not None:
        query = query.where(library_items.c.paper_id.in_(list(paper_ids)))
    with engine.connect() as conn:
        return set(conn.scalars(query))


def marked_ids(conn: Connection, user_id: int, kind: str) -> set[str]:
    return set(
        conn.scalars(
            select(paper_marks.c.paper_id).where(
                paper_marks.c.user_id == user_id, paper_marks.c.kind == kind
            )
        )
    )


def library_items_for(
    conn: Connection, user_id: int, paper_ids: list[str]
) -> dict[str, LibraryItem]:
    """The user's items for these papers, with tags, collections and marks."""
    if not paper_ids:
        return {}
    items = {
        r.paper_id: LibraryItem(r.paper_id, aware_utc(r.saved_at), r.note_source, r.note_html)
        for r in conn.execute(
            select(library_items).where(
                library_items.c.user_id == user_id, library_items.c.paper_id.in_(paper_ids)
            )
        )
    }
    ids = list(items)
    if not ids:
        return items
    for r in conn.execute(
        select(library_tags.c.paper_id, library_tags.c.tag)
        .where(library_tags.c.user_id == user_id, library_tags.c.paper_id.in_(ids))
        .order_by(library_tags.c.tag_key)
    ):
        items[r.paper_id].tags.append(r.tag)
    for r in conn.execute(
        select(collection_items.c.paper_id, collections.c.id, collections.c.name)
        .join(collections, collections.c.id == collection_items.c.collection_id)
        .where(collections.c.user_id == user_id, collection_items.c.paper_id.in_(ids))
        .order_by(collections.c.name_key)
    ):
        items[r.paper_id].collections.append((r.id, r.name))
    for r in conn.execute(
        select(paper_marks.c.paper_id, paper_marks.c.kind).where(
            paper_marks.c.user_id == user_id, paper_marks.c.paper_id.in_(ids)
        )
    ):
        if r.kind == "read":
            items[r.paper_id].read = True
        elif r.kind == "not_interested":
            items[r.paper_id].not_interested = True
    return items


def library_item(engine: Engine, user_id: int, paper_id: str) -> LibraryItem | None:
    with engine.connect() as conn:
        return library_items_for(conn, user_id, [paper_id]).get(paper_id)


def _require_item(engine: Engine, user_id: int, paper_id: str) -> LibraryItem:
    item = library_item(engine, user_id, paper_id)
    if item is None:  # removed by a concurrent request
        raise CommunityError("This paper is not in your library.", 404)
    return item


def user_tags(engine: Engine, user_id: int) -> list[tuple[str, int]]:
    """The user's tags with how many papers carry each, most used first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(func.min(library_tags.c.tag), func.count())
            .where(library_tags.c.user_id == user_id)
            .group_by(library_tags.c.tag_key)
            .order_by(func.count().desc(), func.min(library_tags.c.tag))
        ).all()
    return [(tag, int(n)) for tag, n in rows]
