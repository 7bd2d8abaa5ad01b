"""Personal API tokens (`pw_...`), sent as `Authorization: Bearer` by scripts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, func, insert, select, update

from paperwire.domain import account_rules as rules
from paperwire.services.accounts.common import (
    AccountError,
    User,
    as_aware,
    row_to_user,
    secret_hash,
    utcnow,
)
from paperwire.store.accounts_tables import api_tokens, users

TOKEN_PREFIX = "pw_"


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


def create_api_token(engine: Engine, user_id: int, name: str) -> str:
    """Create a token and return it: the only time its full value is known."""
    name = name.strip()
    if not name:
        raise AccountError("Give the token a name, such as 'laptop script'.", "name")
    if len(name) > rules.TOKEN_NAME_MAX:
        raise AccountError(f"Token names have at most {rules.TOKEN_NAME_MAX} characters.", "name")
    name = rules.without_nul(name)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        active = conn.execute(
            select(func.count())
            .select_from(api_tokens)
            .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        ).scalar_one()
        if active >= 50:
            raise AccountError("You have 50 active tokens; revoke one first.", "name")
        conn.execute(
            insert(api_tokens).values(
                user_id=user_id,
                name=name,
                token_hash=secret_hash(raw),
                prefix=raw[:10],
                created_at=utcnow(),
            )
        )
    return raw


def list_api_tokens(engine: Engine, user_id: int) -> list[ApiToken]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(api_tokens)
            .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
            .order_by(api_tokens.c.id)
        ).all()
    return [
        ApiToken(r.id, r.name, r.prefix, as_aware(r.created_at), as_aware(r.last_used_at))
        for r in rows
    ]


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
    with engine.connect() as conn:
        row = conn.execute(
            select(users)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.token_hash == secret_hash(raw), api_tokens.c.revoked_at.is_(None))
        ).first()
    if row is None or row.suspended:
        return None
    return row_to_user(row)
