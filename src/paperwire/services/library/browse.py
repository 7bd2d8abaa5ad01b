"""The library page: a user's saved papers, filtered by collection, tag and read state,
and searched with the site's own query syntax (keyword, semantic or hybrid) restricted to
the papers in the library."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, and_, exists, select

from paperwire.domain.library_rules import name_key
from paperwire.ports import PaperSearch
from paperwire.search.plan import MODES, SearchFilters
from paperwire.services.accounts import User
from paperwire.services.library.collections import CollectionView, get_collection
from paperwire.services.library.common import CommunityError, require_active
from paperwire.services.library.saved import LibraryItem, library_items_for, user_tags
from paperwire.services.papers import PaperCard, cards_by_id
from paperwire.store.library_tables import (
    collection_items,
    library_items,
    library_tags,
    paper_marks,
)

READ_FILTERS = ("read", "unread")
MAX_QUERY = 500


@dataclass(frozen=True, slots=True)
class LibraryQuery:
    q: str = ""
    mode: str = "hybrid"
    collection_id: int | None = None
    tag: str | None = None
    read: str | None = None  # read | unread | None
    limit: int = 50
    offset: int = 0


@dataclass(slots=True)
class LibraryPage:
    query: LibraryQuery
    entries: list[tuple[PaperCard, LibraryItem]]
    total: int
    collection: CollectionView | None = None
    notice: str | None = None
    mode_used: str | None = None
    tags: list[tuple[str, int]] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return self.query.offset + len(self.entries) < self.total


def library_page(
    engine: Engine, search: PaperSearch | None, user: User | None, query: LibraryQuery
) -> LibraryPage:
    user = require_active(user, verified=False)
    if query.mode not in MODES:
        raise CommunityError(f"Unknown search mode: use one of {', '.join(MODES)}.", 400)
    if query.read not in (None, *READ_FILTERS):
        raise CommunityError("The read filter is read or unread.", 400)
    if len(query.q) > MAX_QUERY:
        raise CommunityError(f"Searches have at most {MAX_QUERY} characters.", 400)
    collection = None
    if query.collection_id is not None:
        collection = get_collection(engine, query.collection_id, user)
        if collection.owner_id != user.id:  # a public collection of someone else
            raise CommunityError("There is no such collection here.", 404)
    ids = candidate_ids(engine, user.id, query)
    notice = mode_used = None
    if query.q.strip() and search is not None:
        if not ids:
            page_ids, total = [], 0
        else:
            results = search.search(
                query.q,
                mode=query.mode,
                filters=SearchFilters(paper_ids=frozenset(ids)),
                limit=query.limit,
                offset=query.offset,
            )
            page_ids, total = [h.paper_id for h in results.hits], results.total
            notice, mode_used = results.notice, results.mode
    else:
        page_ids, total = ids[query.offset : query.offset + query.limit], len(ids)
    with engine.connect() as conn:
        cards = cards_by_id(conn, page_ids)
        items = library_items_for(conn, user.id, page_ids)
    entries = [(cards[pid], items[pid]) for pid in page_ids if pid in cards and pid in items]
    tags = user_tags(engine, user.id)
    return LibraryPage(query, entries, total, collection, notice, mode_used, tags)


def candidate_ids(engine: Engine, user_id: int, query: LibraryQuery) -> list[str]:
    """The user's saved papers that pass the filters, most recently saved first."""
    li = library_items
    stmt = select(li.c.paper_id).where(li.c.user_id == user_id)
    if query.collection_id is not None:
        stmt = stmt.where(
            exists().where(
                and_(
                    collection_items.c.collection_id == query.collection_id,
                    collection_items.c.paper_id == li.c.paper_id,
                )
            )
        )
    if query.tag:
        stmt = stmt.where(
            exists().where(
                and_(
                    library_tags.c.user_id == user_id,
                    library_tags.c.paper_id == li.c.paper_id,
                    library_tags.c.tag_key == name_key(query.tag),
                )
            )
        )
    if query.read:
        is_read = exists().where(
            and_(
                paper_marks.c.user_id == user_id,
                paper_marks.c.paper_id == li.c.paper_id,
                paper_marks.c.kind == "read",
            )
        )
        stmt = stmt.where(is_read if query.read == "read" else ~is_read)
    stmt = stmt.order_by(li.c.saved_at.desc(), li.c.paper_id)
    with engine.connect() as conn:
        return list(conn.scalars(stmt))
