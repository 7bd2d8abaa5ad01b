"""Personal API tokens (`pw_...`), sent as `Authorization: Bearer` by scripts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update

from paperwire.domain import account_rules as rules
from paperwire.services.accounts.common import AccountError, User, row_to_user, secret_hash
from paperwire.store.accounts_tables import api_tokens, users
from paperwire.store.db import aware_utc, lock_for_write, utcnow

TOKEN_PREFIX = "pw_"


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None = None


def create_api_token(
    engine: Engine, user_id: int, name: str, *, expires_days: int | None = None
) -> str:
    """Create a token and return it: the only time its full value is known.

    `expires_days` (1..3650) makes it stop working that many days from now; None: never.
    """
    name = name.strip()
    if expires_days is not None and not 1 <= expires_days <= rules.TOKEN_EXPIRY_MAX_DAYS:
        raise AccountError(
            f"A token expires after 1 to {rules.TOKEN_EXPIRY_MAX_DAYS} days "
            "(leave it empty for a token that does not expire).",
            "expires_days",
        )
    if not name:
        raise AccountError("Give the token a name, such as 'laptop script'.", "name")
    if len(name) > rules.TOKEN_NAME_MAX:
        raise AccountError(f"Token names have at most {rules.TOKEN_NAME_MAX} characters.", "name")
    name = rules.without_nul(name)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with engine.begin() as conn:
        # Count and insert as one: two creations at once cannot both see 49.
        lock_for_write(conn, "accounts", [f"api-tokens:{user_id}"])
        active = conn.execute(
            select(func.count())
            .select_from(api_tokens)
            .where(api_tokens.c.user_id == user_id, *_usable(now))
        ).scalar_one()
        if active >= 50:
            raise AccountError("You have 50 active tokens; revoke one first.", "name")
        conn.execute(
            insert(api_tokens).values(
                user_id=user_id,
                name=name,
                token_hash=secret_hash(raw),
                prefix=raw[:10],
                created_at=now,
                expires_at=now + timedelta(days=expires_days) if expires_days else None,
            )
        )
    return raw


def list_api_tokens(engine: Engine, user_id: int) -> list[ApiToken]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(api_tokens)
            .where(api_tokens.c.user_id == user_id, *_usable(utcnow()))
            .order_by(api_tokens.c.id)
        ).all()
    return [
        ApiToken(
            r.id,
            r.name,
            r.prefix,
            aware_utc(r.created_at),
            aware_utc(r.last_used_at),
            aware_utc(r.expires_at),
        )
        for r in rows
    ]


def _usable(now: datetime):
    """Conditions of a token that still works: not revoked, not expired."""
    return (
        api_tokens.c.revoked_at.is_(None),
        or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now),
    )


def revoke_all_api_tokens(conn: Connection, user_id: int) -> int:
    """Revoke every token of the account (a password reset does this); returns how many."""
    result = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount


def revoke_api_token(engine: Engine, user_id: int, token_id: int) -> bool:
    """Revoke one of the user's own tokens; False when it is not theirs or already gone."""
    with engine.begin() as conn:
        result = conn.execute(
            update(api_tokens)
            .where(
                and_(
                    api_tokens.c.id == token_id,
                    api_tokens.c.user_id == user_id,
                    api_tokens.c.revoked_at.is_(None),
                )
            )
            .values(revoked_at=utcnow())
        )
    return result.rowcount == 1


def user_for_api_token(engine: Engine, raw: str) -> User | None:
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    now = utcnow()
    token_hash = secret_hash(raw)
    with engine.connect() as conn:
        row = conn.execute(
            select(users)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.token_hash == token_hash, *_usable(now))
        ).first()
    if row is None or row.suspended:
        return None
    _note_use(engine, token_hash, now)
    return row_to_user(row)


def _note_use(engine: Engine, token_hash: str, now: datetime) -> None:
    """Write lastUsedAt, at most once a minute per token: one UPDATE whose condition
    matches no row while the stored time is recent, so most requests write nothing."""
    stale = now - timedelta(seconds=rules.TOKEN_LAST_USED_EVERY_S)
    with engine.begin() as conn:
        conn.execute(
            update(api_tokens)
            .where(
                api_tokens.c.token_hash == token_hash,
                or_(api_tokens.c.last_used_at.is_(None), api_tokens.c.last_used_at < stale),
            )
            .values(last_used_at=now)
        )
