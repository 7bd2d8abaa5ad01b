"""Collections: named, ordered lists of papers, private (default) or public.

A private collection is invisible to everyone but its owner: every read answers "not
found" for anyone else, exactly as for a collection that does not exist. Adding a paper to
a collection also saves it to the owner's library.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from paperwire.domain import library_rules as rules
from paperwire.services.accounts import User
from paperwire.services.library.common import CommunityError, checked, not_found, require_active
from paperwire.services.library.saved import _save
from paperwire.store.accounts_tables import users
from paperwire.store.db import aware_utc, utcnow
from paperwire.store.library_tables import collection_items, collections


@dataclass(frozen=True, slots=True)
class CollectionView:
    id: int
    owner: str
    owner_id: int
    name: str
    description: str
    is_public: bool
    created_at: datetime
    updated_at: datetime
    size: int

    @property
    def slug(self) -> str:
        """Hugging Face style: owner/title-words-id."""
        return f"{self.owner}/{slugify(self.name)}-{self.id}"

    @property
    def url(self) -> str:
        return f"/collections/{self.id}"

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "slug": self.slug,
            "owner": self.owner,
            "name": self.name,
            "description": self.description,
            "public": self.is_public,
            "size": self.size,
            "url": self.url,
            "createdAt": self.created_at.isoformat(),
            "updatedAt": self.updated_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class CollectionItem:
    id: int
    paper_id: str
    position: int
    note: str
    added_at: datetime


def slugify(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:60].strip("-") or "collection"


def id_from_slug(slug: str) -> int | None:
    """The collection id at the end of `owner/title-123` (or a bare id)."""
    match = re.search(r"(?:^|-)(\d{1,9})$", slug.strip())
    return int(match.group(1)) if match else None


def _size():
    return (
        select(func.count())
        .where(collection_items.c.collection_id == collections.c.id)
        .scalar_subquery()
    )


def _select():
    return select(collections, users.c.username, _size().label("size")).join(
        users, users.c.id == collections.c.user_id
    )


def _view(row) -> CollectionView:
    return CollectionView(
        id=row.id,
        owner=row.username,
        owner_id=row.user_id,
        name=row.name,
        description=row.description or "",
        is_public=bool(row.is_public),
        created_at=aware_utc(row.created_at),
        updated_at=aware_utc(row.updated_at),
        size=int(row.size or 0),
    )


def _visible_to(viewer: User | None):
    if viewer is None:
        return collections.c.is_public.is_(True)
    return or_(collections.c.is_public.is_(True), collections.c.user_id == viewer.id)


def get_collection(engine: Engine, collection_id: int, viewer: User | None) -> CollectionView:
    """The collection if `viewer` may see it; a 404 otherwise (private or missing)."""
    with engine.connect() as conn:
        return _get(conn, collection_id, viewer)


def _get(conn: Connection, collection_id: int, viewer: User | None) -> CollectionView:
    row = conn.execute(
        _select().where(collections.c.id == collection_id, _visible_to(viewer))
    ).first()
    if row is None:
        raise not_found()
    return _view(row)


def _owned(conn: Connection, collection_id: int, user: User) -> CollectionView:
    row = conn.execute(
        _select().where(collections.c.id == collection_id, collections.c.user_id == user.id)
    ).first()
    if row is None:
        raise not_found()  # someone else's collection is a 404, not a 403
    return _view(row)


def list_collections(
    engine: Engine, owner_id: int, viewer: User | None, *, limit: int = 500
) -> list[CollectionView]:
    """An owner's collections that `viewer` may see, newest change first."""
    with engine.connect() as conn:
        rows = conn.execute(
            _select()
            .where(collections.c.user_id == owner_id, _visible_to(viewer))
            .order_by(collections.c.updated_at.desc(), collections.c.id.desc())
            .limit(limit)
        ).all()
    return [_view(r) for r in rows]


def find_collection_by_name(engine: Engine, user_id: int, name: str) -> CollectionView | None:
    with engine.connect() as conn:
        row = conn.execute(
            _select().where(
                collections.c.user_id == user_id, collections.c.name_key == rules.name_key(name)
            )
        ).first()
    return _view(row) if row else None


def create_collection(
    engine: Engine,
    user: User | None,
    name: str,
    *,
    description: str = "",
    is_public: bool = False,
) -> CollectionView:
    user = require_active(user)
    name = checked(rules.collection_name, name)
    description = checked(rules.collection_description, description)
    now = utcnow()
    try:
        with engine.begin() as conn:
            count = conn.execute(
                select(func.count()).select_from(collections).where(
                    collections.c.user_id == user.id
                )
            ).scalar_one()
            if count >= rules.COLLECTIONS_PER_USER_MAX:
                raise CommunityError(
                    f"You have {rules.COLLECTIONS_PER_USER_MAX} collections; delete one first.",
                    409,
                    "name",
                )
            new_id = conn.execute(
                collections.insert()
                .values(
                    user_id=user.id,
                    name=name,
                    name_key=rules.name_key(name),
                    description=description,
                    is_public=is_public,
                    created_at=now,
                    updated_at=now,
                )
                .returning(collections.c.id)
            ).scalar_one()
    except IntegrityError:
        raise _duplicate(name) from None
    return get_collection(engine, new_id, user)


def _duplicate(name: str) -> CommunityError:
    return CommunityError(f"You already have a collection called {name!r}.", 409, "name")


def update_collection(
    engine: Engine,
    user: User | None,
    collection_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
    is_public: bool | None = None,
) -> CollectionView:
    user = require_active(user)
    values: dict[str, object] = {"updated_at": utcnow()}
    if name is not None:
        name = checked(rules.collection_name, name)
        values.update(name=name, name_key=rules.name_key(name))
    if description is not None:
        values["description"] = checked(rules.collection_description, description)
    if is_public is not None:
        values["is_public"] = is_public
    try:
        with engine.begin() as conn:
            _owned(conn, collection_id, user)
            conn.execute(
                update(collections).where(collections.c.id == collection_id).values(**values)
            )
    except IntegrityError:
        raise _duplicate(name or "") from None
    return get_collection(engine, collection_id, user)


def delete_collection(engine: Engine, user: User | None, collection_id: int) -> None:
    """Delete the collection; its papers stay in the library."""
    user = require_active(user)
    with engine.begin() as conn:
        _owned(conn, collection_id, user)
        conn.execute(
            delete(collection_items).where(collection_items.c.collection_id == collection_id)
        )
        conn.execute(delete(collections).where(collections.c.id == collection_id))


def add_to_collection(
    engine: Engine, user: User | None, collection_id: int, paper_id: str, *, note: str = ""
) -> CollectionItem:
    """Add a paper (idempotent: an existing item is returned as it is)."""
    user = require_active(user)
    note = checked(rules.collection_description, note)
    with engine.begin() as conn:
        _owned(conn, collection_id, user)
        _save(conn, user.id, paper_id)
        existing = _item_row(conn, collection_id, paper_id=paper_id)
        if existing is None:
            last = conn.execute(
                select(func.max(collection_items.c.position)).where(
                    collection_items.c.collection_id == collection_id
                )
            ).scalar()
            conn.execute(
                collection_items.insert().values(
                    collection_id=collection_id,
                    paper_id=paper_id,
                    position=(last + 1) if last is not None else 0,
                    note=note,
                    added_at=utcnow(),
                )
            )
            conn.execute(
                update(collections)
                .where(collections.c.id == collection_id)
                .values(updated_at=utcnow())
            )
            existing = _item_row(conn, collection_id, paper_id=paper_id)
    return _item(existing)


def update_collection_item(
    engine: Engine,
    user: User | None,
    collection_id: int,
    item_id: int,
    *,
    note: str | None = None,
    position: int | None = None,
) -> CollectionItem:
    """Change an item's note or move it to `position` (0 = first); the rest shift."""
    user = require_active(user)
    if note is not None:
        note = checked(rules.collection_description, note)
    with engine.begin() as conn:
        _owned(conn, collection_id, user)
        row = _item_row(conn, collection_id, item_id=item_id)
        if row is None:
            raise not_found("item in this collection")
        if note is not None:
            conn.execute(
                update(collection_items).where(collection_items.c.id == item_id).values(note=note)
            )
        if position is not None:
            ids = list(
                conn.scalars(
                    select(collection_items.c.id)
                    .where(collection_items.c.collection_id == collection_id)
                    .order_by(collection_items.c.position, collection_items.c.id)
                )
            )
            ids.remove(item_id)
            ids.insert(max(0, min(position, len(ids))), item_id)
            for index, row_id in enumerate(ids):
                conn.execute(
                    update(collection_items)
                    .where(collection_items.c.id == row_id)
                    .values(position=index)
                )
        conn.execute(
            update(collections).where(collections.c.id == collection_id).values(updated_at=utcnow())
        )
        return _item(_item_row(conn, collection_id, item_id=item_id))


def remove_from_collection(
    engine: Engine,
    user: User | None,
    collection_id: int,
    *,
    paper_id: str | None = None,
    item_id: int | None = None,
) -> bool:
    """Take a paper out of the collection (it stays in the library). False if it was not in."""
    user = require_active(user)
    with engine.begin() as conn:
        _owned(conn, collection_id, user)
        condition = (
            collection_items.c.id == item_id
            if item_id is not None
            else collection_items.c.paper_id == paper_id
        )
        removed = conn.execute(
            delete(collection_items).where(
                collection_items.c.collection_id == collection_id, condition
            )
        ).rowcount
        if removed:
            conn.execute(
                update(collections)
                .where(collections.c.id == collection_id)
                .values(updated_at=utcnow())
            )
    return bool(removed)


def collection_items_of(
    engine: Engine, collection_id: int, viewer: User | None
) -> tuple[CollectionView, list[CollectionItem]]:
    """The collection and its items in order; a 404 for a private one not the viewer's."""
    with engine.connect() as conn:
        view = _get(conn, collection_id, viewer)
        rows = conn.execute(
            select(collection_items)
            .where(collection_items.c.collection_id == collection_id)
            .order_by(collection_items.c.position, collection_items.c.id)
        ).all()
    return view, [_item(r) for r in rows]


def collection_paper_ids(conn: Connection, collection_id: int) -> list[str]:
    return list(
        conn.scalars(
            select(collection_items.c.paper_id)
            .where(collection_items.c.collection_id == collection_id)
            .order_by(collection_items.c.position, collection_items.c.id)
        )
    )


def _item_row(conn: Connection, collection_id: int, *, paper_id=None, item_id=None):
    query = select(collection_items).where(collection_items.c.collection_id == collection_id)
    if paper_id is not None:
        query = query.where(collection_items.c.paper_id == paper_id)
    if item_id is not None:
        query = query.where(collection_items.c.id == item_id)
    return conn.execute(query).first()


def _item(row) -> CollectionItem:
    return CollectionItem(
        row.id, row.paper_id, row.position, row.note or "", aware_utc(row.added_at)
    )
