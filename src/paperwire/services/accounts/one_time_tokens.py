"""Single-use mail-link tokens: e-mail confirmation, magic-link login, password reset."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from paperwire.domain import account_rules as rules
from paperwire.services.accounts.api_tokens import revoke_all_api_tokens
from paperwire.services.accounts.common import AccountError, User, hasher, secret_hash
from paperwire.services.accounts.login import record_success
from paperwire.services.accounts.users import get_user
from paperwire.store.accounts_tables import one_time_tokens, sessions, users
from paperwire.store.db import utcnow

if TYPE_CHECKING:
    from paperwire.config import Settings

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"
MAGIC_LINK = "magic_link"
INVALID_LINK = "This link is invalid, already used or expired. Ask for a new one."


def issue_one_time_token(engine: Engine, settings: Settings, user_id: int, purpose: str) -> str:
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(one_time_tokens).values(
                user_id=user_id,
                purpose=purpose,
                token_hash=secret_hash(raw),
                created_at=now,
                expires_at=now + timedelta(minutes=settings.token_ttl_minutes),
            )
        )
    return raw


def peek_one_time_token(engine: Engine, raw: str, purpose: str) -> User | None:
    """The user a token belongs to while it is unused and unexpired (changes nothing)."""
    with engine.connect() as conn:
        row = conn.execute(_token_query(raw, purpose)).first()
        return get_user(conn, row.user_id) if row else None


def _token_query(raw: str, purpose: str):
    return select(one_time_tokens).where(
        one_time_tokens.c.token_hash == secret_hash(raw or ""),
        one_time_tokens.c.purpose == purpose,
        one_time_tokens.c.used_at.is_(None),
        one_time_tokens.c.expires_at > utcnow(),
    )


def consume_one_time_token(conn: Connection, raw: str, purpose: str) -> int | None:
    """Mark a token used and return its user id; None if unknown, used or expired.

    The conditional UPDATE makes it single-use even under concurrent requests.
    """
    now = utcnow()
    row = conn.execute(_token_query(raw, purpose)).first()
    if row is None:
        return None
    result = conn.execute(
        update(one_time_tokens)
        .where(one_time_tokens.c.id == row.id, one_time_tokens.c.used_at.is_(None))
        .values(used_at=now)
    )
    return row.user_id if result.rowcount == 1 else None


def verify_email(engine: Engine, raw: str) -> User:
    with engine.begin() as conn:
        user_id = consume_one_time_token(conn, raw, VERIFY_EMAIL)
        if user_id is None:
            raise AccountError(INVALID_LINK)
        conn.execute(
            update(users)
            .where(users.c.id == user_id, users.c.email_verified_at.is_(None))
            .values(email_verified_at=utcnow())
        )
        return get_user(conn, user_id)


def use_magic_link(engine: Engine, raw: str) -> User:
    """A magic link logs in once; it also proves the email address."""
    with engine.begin() as conn:
        user_id = consume_one_time_token(conn, raw, MAGIC_LINK)
        if user_id is None:
            raise AccountError(INVALID_LINK)
        user = get_user(conn, user_id)
        if user.suspended:
            raise AccountError("This account is suspended. Contact the site's administrators.")
        conn.execute(
            update(users)
            .where(users.c.id == user_id, users.c.email_verified_at.is_(None))
            .values(email_verified_at=utcnow())
        )
        record_success(conn, user_id)
        return get_user(conn, user_id)


def reset_password(engine: Engine, raw: str, new_password: str) -> User:
    """Set a new password with a reset token; every session and API token of the account
    ends (whoever knew the old password may have made them)."""
    problem = rules.password_problem(new_password)
    if problem:
        raise AccountError(problem, "password")
    with engine.begin() as conn:
        user_id = consume_one_time_token(conn, raw, RESET_PASSWORD)
        if user_id is None:
            raise AccountError(INVALID_LINK)
        conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(
                password_hash=hasher.hash(new_password),
                email_verified_at=func.coalesce(users.c.email_verified_at, utcnow()),
            )
        )
        conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
        revoke_all_api_tokens(conn, user_id)
        record_success(conn, user_id)
        return get_user(conn, user_id)
