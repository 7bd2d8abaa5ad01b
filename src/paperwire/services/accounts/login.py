"""Password login and the lockout after repeated failures.

Login failures answer the same way whether or not the account exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, insert, select, update

from paperwire.domain import account_rules as rules
from paperwire.domain.rate_limits import lockout_remaining
from paperwire.services.accounts.common import AccountError, LockedOut, User, hasher, row_to_user
from paperwire.services.accounts.users import find_by_login
from paperwire.store.accounts_tables import login_attempts, users
from paperwire.store.db import aware_utc, lock_for_write, utcnow

if TYPE_CHECKING:
    from paperwire.config import Settings

# Verified against when the account does not exist, so both paths cost the same.
_DUMMY_HASH = hasher.hash("paperwire-no-such-account")

LOGIN_FAILED = "Wrong username/email or password."


def authenticate(
    engine: Engine, settings: Settings, *, login: str, password: str, ip: str | None
) -> User:
    """Check a password login. Raises LockedOut or AccountError(LOGIN_FAILED)."""
    login = rules.without_nul(login)
    if not login.strip() or not password:
        raise AccountError("Enter your username or email and your password.")
    with engine.connect() as conn:
        row = find_by_login(conn, login)
    # Username and email of one account share a lock; unknown names lock the same way.
    account_key = lockout_key(row.id) if row else "login:" + login.strip().casefold()[:300]
    # Check the lockout and record this attempt as a failure in one locked transaction,
    # before the (slow) password check: parallel guesses each see the failures of the
    # ones before them, so no more than the threshold get past the check at once.
    with engine.begin() as conn:
        lock_for_write(conn, "accounts", [account_key])
        wait = _lockout_wait(conn, settings, account_key)
        if wait:
            raise LockedOut(wait)
        attempt_id = conn.execute(
            insert(login_attempts)
            .values(account_key=account_key, ip=(ip or "")[:64], succeeded=False,
                    created_at=utcnow())
            .returning(login_attempts.c.id)
        ).scalar_one()
    ok = (
        _verify_password(row.password_hash if row else _DUMMY_HASH, password[:1000])
        and row is not None
    )
    if ok:
        with engine.begin() as conn:
            conn.execute(
                update(login_attempts)
                .where(login_attempts.c.id == attempt_id)
                .values(succeeded=True)
            )
            if hasher.check_needs_rehash(row.password_hash):
                # Only over the hash that was checked: a password reset that committed
                # since then keeps its new password.
                conn.execute(
                    update(users)
                    .where(users.c.id == row.id, users.c.password_hash == row.password_hash)
                    .values(password_hash=hasher.hash(password))
                )
    if not ok:
        raise AccountError(LOGIN_FAILED)
    if row.suspended:
        raise AccountError("This account is suspended. Contact the site's administrators.")
    return row_to_user(row)


def lockout_key(user_id: int) -> str:
    return f"user:{user_id}"


def record_success(conn: Connection, user_id: int) -> None:
    """Log a successful login (a mail link counts), which ends any lockout."""
    conn.execute(
        insert(login_attempts).values(
            account_key=lockout_key(user_id), ip="", succeeded=True, created_at=utcnow()
        )
    )


def _verify_password(hashed: str, password: str) -> bool:
    try:
        return hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def login_lockout_remaining(engine: Engine, settings: Settings, account_key: str) -> int:
    """Seconds this login name must wait (consecutive failures since the last success)."""
    with engine.connect() as conn:
        return _lockout_wait(conn, settings, account_key)


def _lockout_wait(conn: Connection, settings: Settings, account_key: str) -> int:
    rows = conn.execute(
        select(login_attempts.c.succeeded, login_attempts.c.created_at)
        .where(login_attempts.c.account_key == account_key)
        .order_by(login_attempts.c.id.desc())
        .limit(settings.login_lockout_failures + 40)
    ).all()
    failures = 0
    for row in rows:
        if row.succeeded:
            break
        failures += 1
    if not failures:
        return 0
    last = aware_utc(rows[0].created_at).timestamp()
    return lockout_remaining(
        failures,
        last,
        utcnow().timestamp(),
        threshold=settings.login_lockout_failures,
        base_s=settings.login_lockout_base_s,
        max_s=settings.login_lockout_max_s,
    )
