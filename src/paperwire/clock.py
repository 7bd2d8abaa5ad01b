"""The clock: the one `utcnow` and the one aware-UTC conversion.

Dependency-free, so domain/, sources/ and store/ all use it (store.db re-exports both
for database code). Stored times are UTC; SQLite hands them back naive, PostgreSQL
aware (in the session's time zone), feeds and APIs in any zone.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def aware_utc(value: datetime | None) -> datetime | None:
    """The same moment as an aware UTC datetime; a naive value is taken to be UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
