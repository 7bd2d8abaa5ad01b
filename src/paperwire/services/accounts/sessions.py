"""Server-side login sessions: the cookie holds a random id, the table its SHA-256."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, delete, insert, select

from paperwire.services.accounts.common import User, row_to_user, secret_hash
from paperwire.store.accounts_tables import sessions, users
from paperwire.store.db import utcnow

if TYPE_CHECKING:
    from paperwire.config import Settings


def create_session(
    engine: Engine,
    settings: Settings,
    user_id: int,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    replaces: str | None = None,
) -> str:
    """Start a session with a fresh random id; drop the one it replaces (no fixation)."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    with engine.begin() as conn:
        if replaces:
            conn.execute(delete(sessions).where(sessions.c.id == secret_hash(replaces)))
        conn.execute(delete(sessions).where(sessions.c.expires_at < now))
        conn.execute(
            insert(sessions).values(
                id=secret_hash(raw),
                user_id=user_id,
                created_at=now,
                expires_at=now + timedelta(days=settings.session_days),
                ip=(ip or "")[:64],
                user_agent=(user_agent or "")[:300],
            )
        )
    return raw


def user_for_session(engine: Engine, raw: str) -> User | None:
    if not raw or len(raw) > 200:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(users)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.id == secret_hash(raw), sessions.c.expires_at > utcnow())
        ).first()
    if row is None or row.suspended:
        return None
    return row_to_user(row)


def end_session(engine: Engine, raw: str) -> None:
    if raw:
        with engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id == secret_hash(raw)))
