"""Stored full texts (paper_fulltext): read one, record a success, record a failure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from paperwire.store.db import aware_utc
from paperwire.store.tables import paper_fulltext

_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class StoredFulltext:
    paper_id: str
    markdown: str | None
    source_url: str | None
    fetched_at: datetime | None
    attempted_at: datetime
    last_error: str | None


def load_fulltext(conn: Connection, paper_id: str) -> StoredFulltext | None:
    row = conn.execute(
        select(paper_fulltext).where(paper_fulltext.c.paper_id == paper_id)
    ).one_or_none()
    if row is None:
        return None
    return StoredFulltext(
        row.paper_id, row.markdown, row.source_url, aware_utc(row.fetched_at),
        aware_utc(row.attempted_at), row.last_error,
    )


def save_fulltext(
    conn: Connection, paper_id: str, markdown: str, *, source_url: str, at: datetime
) -> None:
    _upsert(conn, paper_id, {"markdown": markdown, "source_url": source_url[:500],
                             "fetched_at": at, "attempted_at": at, "last_error": None})


def record_failure(conn: Connection, paper_id: str, reason: str, *, at: datetime) -> None:
    """Note a failed fetch; any full text stored before stays (and is still served)."""
    _upsert(conn, paper_id, {"attempted_at": at, "last_error": reason[:_ERROR_CHARS]})


def _upsert(conn: Connection, paper_id: str, values: dict) -> None:
    where = paper_fulltext.c.paper_id == paper_id
    if conn.execute(update(paper_fulltext).where(where).values(values)).rowcount:
        return
    try:
        with conn.begin_nested():
            conn.execute(paper_fulltext.insert().values(paper_id=paper_id, **values))
    except IntegrityError:  # another process stored it first (or the paper vanished)
        conn.execute(update(paper_fulltext).where(where).values(values))
