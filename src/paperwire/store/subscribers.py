"""Subscriber rows and their topics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from paperwire.domain.digest_topics import Topic
from paperwire.store.db import aware_utc, utcnow
from paperwire.store.digest_tables import subscriber_topics, subscribers


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: int
    email: str
    email_key: str
    confirmed_at: datetime | None
    frequency: str
    weekdays_only: bool
    paper_count: int
    user_id: int | None
    bounce_count: int
    status: str
    last_digest_at: datetime | None
    confirmation_sent_at: datetime | None
    created_at: datetime
    topics: tuple[Topic, ...] = ()
    token_version: int = 0

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


def _to_subscriber(row, topics: Sequence[Topic] = ()) -> Subscriber:
    return Subscriber(
        id=row.id, email=row.email, email_key=row.email_key,
        confirmed_at=aware_utc(row.confirmed_at), frequency=row.frequency,
        weekdays_only=bool(row.weekdays_only), paper_count=row.paper_count,
        user_id=row.user_id, bounce_count=row.bounce_count, status=row.status,
        last_digest_at=aware_utc(row.last_digest_at),
        confirmation_sent_at=aware_utc(row.confirmation_sent_at),
        created_at=aware_utc(row.created_at), topics=tuple(topics),
        token_version=int(row.token_version or 0),
    )


def load_topics(conn: Connection, subscriber_ids: Iterable[int]) -> dict[int, list[Topic]]:
    ids = list(subscriber_ids)
    found: dict[int, list[Topic]] = {sid: [] for sid in ids}
    for chunk_start in range(0, len(ids), 900):
        chunk = ids[chunk_start : chunk_start + 900]
        rows = conn.execute(
            select(subscriber_topics.c.subscriber_id, subscriber_topics.c.kind,
                   subscriber_topics.c.value)
            .where(subscriber_topics.c.subscriber_id.in_(chunk))
            .order_by(subscriber_topics.c.id)
        )
        for sid, kind, value in rows:
            found[sid].append(Topic(kind, value))
    return found


def get_subscriber(conn: Connection, subscriber_id: int) -> Subscriber | None:
    row = conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).one_or_none()
    if row is None:
        return None
    return _to_subscriber(row, load_topics(conn, [row.id])[row.id])


def find_subscriber(conn: Connection, email_key: str) -> Subscriber | None:
    row = conn.execute(
        select(subscribers).where(subscribers.c.email_key == email_key)
    ).one_or_none()
    if row is None:
        return None
    return _to_subscriber(row, load_topics(conn, [row.id])[row.id])


def load_subscribers(conn: Connection, ids: Sequence[int]) -> dict[int, Subscriber]:
    result: dict[int, Subscriber] = {}
    topics = load_topics(conn, ids)
    for start in range(0, len(ids), 900):
        chunk = list(ids[start : start + 900])
        for row in conn.execute(select(subscribers).where(subscribers.c.id.in_(chunk))):
            result[row.id] = _to_subscriber(row, topics.get(row.id, ()))
    return result


def list_subscribers(conn: Connection, *, status: str | None = None) -> list[Subscriber]:
    query = select(subscribers).order_by(subscribers.c.id)
    if status:
        query = query.where(subscribers.c.status == status)
    rows = conn.execute(query).all()
    topics = load_topics(conn, [row.id for row in rows])
    return [_to_subscriber(row, topics[row.id]) for row in rows]


def insert_subscriber(
    conn: Connection,
    *,
    email: str,
    email_key: str,
    frequency: str,
    weekdays_only: bool,
    paper_count: int,
    topics: Sequence[Topic],
    confirmed: bool,
    user_id: int | None = None,
) -> int:
    now = utcnow()
    subscriber_id = conn.execute(
        insert(subscribers).values(
            email=email, email_key=email_key, frequency=frequency, weekdays_only=weekdays_only,
            paper_count=paper_count, user_id=user_id, bounce_count=0, status="active",
            confirmed_at=now if confirmed else None, created_at=now,
        ).returning(subscribers.c.id)
    ).scalar_one()
    replace_topics(conn, subscriber_id, topics)
    return subscriber_id


def update_choices(
    conn: Connection,
    subscriber_id: int,
    *,
    frequency: str,
    weekdays_only: bool,
    paper_count: int,
    topics: Sequence[Topic],
) -> None:
    conn.execute(
        update(subscribers).where(subscribers.c.id == subscriber_id).values(
            frequency=frequency, weekdays_only=weekdays_only, paper_count=paper_count
        )
    )
    replace_topics(conn, subscriber_id, topics)


def replace_topics(conn: Connection, subscriber_id: int, topics: Sequence[Topic]) -> None:
    conn.execute(
        delete(subscriber_topics).where(subscriber_topics.c.subscriber_id == subscriber_id)
    )
    unique = list(dict.fromkeys(topics))
    if unique:
        conn.execute(
            insert(subscriber_topics),
            [{"subscriber_id": subscriber_id, "kind": t.kind, "value": t.value} for t in unique],
        )


def set_status(conn: Connection, subscriber_id: int, **values: object) -> None:
    conn.execute(update(subscribers).where(subscribers.c.id == subscriber_id).values(**values))


def bump_token_version(conn: Connection, subscriber_id: int) -> None:
    """Revoke every mail link made so far (they carry the old version)."""
    conn.execute(update(subscribers).where(subscribers.c.id == subscriber_id).values(
        token_version=subscribers.c.token_version + 1))


def delete_subscriber(conn: Connection, subscriber_id: int) -> None:
    conn.execute(
        delete(subscriber_topics).where(subscriber_topics.c.subscriber_id == subscriber_id)
    )
    conn.execute(delete(subscribers).where(subscribers.c.id == subscriber_id))
