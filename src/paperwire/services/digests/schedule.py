"""Who is due a digest on a date, their last digest, and the topics they follow."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Engine, func, select

from paperwire.domain.digest_selection import digest_window, is_digest_due
from paperwire.domain.digest_topics import Topic
from paperwire.store.digest_tables import digest_deliveries, subscribers


def due_subscriber_ids(engine: Engine, digest_date: date) -> list[int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(subscribers.c.id, subscribers.c.frequency, subscribers.c.weekdays_only)
            .where(subscribers.c.status == "active", subscribers.c.confirmed_at.is_not(None))
            .order_by(subscribers.c.id)
        ).all()
    return [sid for sid, freq, weekdays in rows if is_digest_due(digest_date, freq, bool(weekdays))]


def last_digest_dates(engine: Engine, subscriber_ids: Sequence[int],
                      before: date) -> dict[int, date]:
    found: dict[int, date] = {}
    with engine.connect() as conn:
        for start in range(0, len(subscriber_ids), 900):
            chunk = list(subscriber_ids[start : start + 900])
            rows = conn.execute(
                select(digest_deliveries.c.subscriber_id, func.max(digest_deliveries.c.digest_date))
                .where(digest_deliveries.c.subscriber_id.in_(chunk),
                       digest_deliveries.c.status == "sent",
                       digest_deliveries.c.digest_date < before)
                .group_by(digest_deliveries.c.subscriber_id)
            )
            found.update({sid: day for sid, day in rows if day is not None})
    return found


def shared_topic_needs(engine: Engine, digest_date: date,
                       subscriber_ids: Sequence[int]) -> set[tuple[Topic, tuple[date, date]]]:
    """Every distinct (topic, window) the due subscribers need."""
    from paperwire.store.subscribers import load_topics

    last_dates = last_digest_dates(engine, subscriber_ids, digest_date)
    with engine.connect() as conn:
        topics = load_topics(conn, subscriber_ids)
        settings_rows = conn.execute(
            select(subscribers.c.id, subscribers.c.frequency, subscribers.c.weekdays_only)
            .where(subscribers.c.status == "active", subscribers.c.confirmed_at.is_not(None))
        ).all()
    schedule = {sid: (freq, bool(weekdays)) for sid, freq, weekdays in settings_rows}
    needs: set[tuple[Topic, tuple[date, date]]] = set()
    for sid in subscriber_ids:
        if sid not in schedule or not topics.get(sid):
            continue
        window = digest_window(digest_date, *schedule[sid], last_dates.get(sid))
        needs.update((topic, window) for topic in topics[sid])
    return needs
