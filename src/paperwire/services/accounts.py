"""Accounts: sign-up, password and magic-link login, sessions, one-time tokens, API tokens.

Every secret handed to a user (session cookie, API token, mail-link token) is a
random string stored only as its SHA-256 hash. Each function owns its
transaction. Login failures and password resets answer the same way whether or
not the account exists.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from paperwire.domain import account_rules as rules
from paperwire.domain.permissions import Role
from paperwire.domain.rate_limits import lockout_remaining
from paperwire.store.accounts_tables import (
    api_tokens,
    login_attempts,
    one_time_tokens,
    sessions,
    users,
)

if TYPE_CHECKING:
    from paperwire.config import Settings
    from paperwire.mail.transport import Mailer

log = logging.getLogger(__name__)

_hasher = PasswordHasher()
# Verified against when the account does not exist, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("paperwire-no-such-account")

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"
MAGIC_LINK = "magic_link"
LOGIN_FAILED = "Wrong username/email or password."


class AccountError(ValueError):
    """A form problem shown next to `field` (None: at the top of the form)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class LockedOut(AccountError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"Too many failed logins. Wait {retry_after_s} seconds and try again, "
            "or log in with an email link."
        )
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    email: str
    role: str
    suspended: bool
    email_verified: bool
    created_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.ADMIN, Role.MODERATOR)

    def public(self) -> dict[str, object]:
        return {
            "username": self.username,
            "role": self.role,
            "createdAt": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


def utcnow() -> datetime:
    return datetime.now(UTC)


def secret_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _row_to_user(row) -> User:
    return User(
        id=row.id,
        username=row.username,
        email=row.email,
        role=row.role,
        suspended=bool(row.suspended),
        email_verified=row.email_verified_at is not None,
        created_at=_aware(row.created_at),
    )


# -- users -------------------------------------------------------------------------


def create_user(
    engine: Engine,
    *,
    username: str,
    email: str,
    password: str,
    role: str = Role.USER,
    verified: bool = False,
) -> User:
    """Create an account; AccountError names the field that is wrong or taken."""
    username, email = username.strip(), email.strip()
    for field, problem in (
        ("username", rules.username_problem(username)),
        ("email", rules.email_problem(email)),
        ("password", rules.password_problem(password)),
    ):
        if problem:
            raise AccountError(problem, field)
    if role not in {r.value for r in Role}:
        raise AccountError(f"Unknown role {role!r}.", "role")
    now = utcnow()
    try:
        with engine.begin() as conn:
            _refuse_taken(conn, username, email)
            user_id = conn.execute(
                insert(users).values(
                    username=username,
                    username_key=rules.username_key(username),
                    email=email,
                    email_key=rules.email_key(email),
                    password_hash=_hasher.hash(password),
                    email_verified_at=now if verified else None,
                    role=role,
                    suspended=False,
                    created_at=now,
                )
            ).inserted_primary_key[0]
    except IntegrityError:
        # Lost a race with a simultaneous sign-up: report it as taken.
        with engine.connect() as conn:
            _refuse_taken(conn, username, email)
        raise AccountError("That username or email is already registered.") from None
    return get_user(engine, user_id)


def _refuse_taken(conn: Connection, username: str, email: str) -> None:
    if conn.execute(
        select(users.c.id).where(users.c.username_key == rules.username_key(username))
    ).first():
        raise AccountError(f"The username {username!r} is taken; choose another.", "username")
    if conn.execute(select(users.c.id).where(users.c.email_key == rules.email_key(email))).first():
        raise AccountError(
            "An account with this email exists; log in or reset its password.", "email"
        )


def get_user(engine_or_conn: Engine | Connection, user_id: int) -> User | None:
    return _one_user(engine_or_conn, users.c.id == user_id)


def find_user(engine_or_conn: Engine | Connection, username: str) -> User | None:
    key = rules.username_key(rules.without_nul(username)[:100])
    return _one_user(engine_or_conn, users.c.username_key == key)


def _find_by_login(conn: Connection, login: str):
    key = login.strip()
    column = users.c.email_key if "@" in key else users.c.username_key
    value = rules.email_key(key) if "@" in key else rules.username_key(key)
    return conn.execute(select(users).where(column == value[:320])).first()


def _one_user(engine_or_conn: Engine | Connection, condition) -> User | None:
    query = select(users).where(condition)
    if isinstance(engine_or_conn, Connection):
        row = engine_or_conn.execute(query).first()
    else:
        with engine_or_conn.connect() as conn:
            row = conn.execute(query).first()
    return _row_to_user(row) if row else None


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return [_row_to_user(r) for r in conn.execute(select(users).order_by(users.c.id))]


def set_suspended(engine: Engine, user_id: int, suspended: bool) -> None:
    """Suspend (and log out everywhere) or reinstate an account."""
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user_id).values(suspended=suspended))
        if suspended:
            conn.execute(delete(sessions).where(sessions.c.user_id == user_id))


def set_role(engine: Engine, user_id: int, role: str) -> None:
    if role not in {r.value for r in Role}:
        raise AccountError(f"Unknown role {role!r}.", "role")
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user_id).values(role=role))


# -- password login and lockout ----------------------------------------------------


def authenticate(
    engine: Engine, settings: Settings, *, login: str, password: str, ip: str | None
) -> User:
    """Check a password login. Raises LockedOut or AccountError(LOGIN_FAILED)."""
    login = rules.without_nul(login)
    if not login.strip() or not password:
        raise AccountError("Enter your username or email and your password.")
    with engine.connect() as conn:
        row = _find_by_login(conn, login)
    # Username and email of one account share a lock; unknown names lock the same way.
    account_key = lockout_key(row.id) if row else "login:" + login.strip().casefold()[:300]
    wait = login_lockout_remaining(engine, settings, account_key)
    if wait:
        raise LockedOut(wait)
    ok = (
        _verify_password(row.password_hash if row else _DUMMY_HASH, password[:1000])
        and row is not None
    )
    with engine.begin() as conn:
        conn.execute(
            insert(login_attempts).values(
                account_key=account_key, ip=(ip or "")[:64], succeeded=ok, created_at=utcnow()
            )
        )
        if ok and _hasher.check_needs_rehash(row.password_hash):
            conn.execute(
                update(users)
                .where(users.c.id == row.id)
                .values(password_hash=_hasher.hash(password))
            )
    if not ok:
        raise AccountError(LOGIN_FAILED)
    if row.suspended:
        raise AccountError("This account is suspended. Contact the site's administrators.")
    return _row_to_user(row)


def lockout_key(user_id: int) -> str:
    return f"user:{user_id}"


def _record_success(conn: Connection, user_id: int) -> None:
    conn.execute(
        insert(login_attempts).values(
            account_key=lockout_key(user_id), ip="", succeeded=True, created_at=utcnow()
        )
    )


def _verify_password(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def login_lockout_remaining(engine: Engine, settings: Settings, account_key: str) -> int:
    """Seconds this login name must wait (consecutive failures since the last success)."""
    with engine.connect() as conn:
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
    last = _aware(rows[0].created_at).timestamp()
    return lockout_remaining(
        failures,
        last,
        utcnow().timestamp(),
        threshold=settings.login_lockout_failures,
        base_s=settings.login_lockout_base_s,
        max_s=settings.login_lockout_max_s,
    )


# -- sessions ----------------------------------------------------------------------


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
    return _row_to_user(row)


def end_session(engine: Engine, raw: str) -> None:
    if raw:
        with engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id == secret_hash(raw)))


# -- one-time tokens (mail links) --------------------------------------------------


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


INVALID_LINK = "This link is invalid, already used or expired. Ask for a new one."


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
        _record_success(conn, user_id)
        return get_user(conn, user_id)


def reset_password(engine: Engine, raw: str, new_password: str) -> User:
    """Set a new password with a reset token; every session of the account ends."""
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
                password_hash=_hasher.hash(new_password),
                email_verified_at=func.coalesce(users.c.email_verified_at, utcnow()),
            )
        )
        conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
        _record_success(conn, user_id)
        return get_user(conn, user_id)


# -- account mails -----------------------------------------------------------------


class AccountMail:
    """Sends verification, magic-link and reset mails through the Mailer (SMTP or outbox)."""

    def __init__(self, engine: Engine, settings: Settings, mailer: Mailer) -> None:
        self.engine = engine
        self.settings = settings
        self.mailer = mailer

    def _send(self, user: User, subject: str, text: str) -> bool:
        from paperwire.mail.message import build_message
        from paperwire.mail.transport import MailError

        try:
            message = build_message(
                sender=self.settings.mail_from, to=user.email, subject=subject, text=text
            )
            self.mailer.send(message)
        except (MailError, ValueError) as exc:
            log.warning("could not send %r to user %s: %s", subject, user.id, exc)
            return False
        return True

    def _link(self, path: str, raw: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}{path}?token={raw}"

    def send_verification(self, user: User) -> bool:
        raw = issue_one_time_token(self.engine, self.settings, user.id, VERIFY_EMAIL)
        return self._send(
            user,
            f"Confirm your email address for {self.settings.site_name}",
            f"Hello {user.username},\n\nconfirm your email address by opening this link:\n\n"
            f"{self._link('/verify-email', raw)}\n\n"
            f"The link works once and expires in {self.settings.token_ttl_minutes} minutes.\n"
            "If you did not sign up, ignore this mail.\n",
        )

    def send_magic_link(self, email: str) -> None:
        """Mail a login link if the address has an account; silent otherwise."""
        user = self._by_email(email)
        if user is None or user.suspended:
            return
        raw = issue_one_time_token(self.engine, self.settings, user.id, MAGIC_LINK)
        self._send(
            user,
            f"Your {self.settings.site_name} login link",
            f"Hello {user.username},\n\nlog in by opening this link:\n\n"
            f"{self._link('/login/magic', raw)}\n\n"
            f"The link works once and expires in {self.settings.token_ttl_minutes} minutes.\n"
            "If you did not ask for it, ignore this mail.\n",
        )

    def send_password_reset(self, email: str) -> None:
        """Mail a reset link if the address has an account; silent otherwise."""
        user = self._by_email(email)
        if user is None:
            return
        raw = issue_one_time_token(self.engine, self.settings, user.id, RESET_PASSWORD)
        self._send(
            user,
            f"Reset your {self.settings.site_name} password",
            f"Hello {user.username},\n\nchoose a new password here:\n\n"
            f"{self._link('/reset-password', raw)}\n\n"
            f"The link works once and expires in {self.settings.token_ttl_minutes} minutes.\n"
            "If you did not ask for it, ignore this mail; your password stays as it is.\n",
        )

    def _by_email(self, email: str) -> User | None:
        if rules.email_problem(email.strip()):
            return None
        return _one_user(self.engine, users.c.email_key == rules.email_key(email))


# -- API tokens --------------------------------------------------------------------

TOKEN_PREFIX = "pw_"


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
        ApiToken(r.id, r.name, r.prefix, _aware(r.created_at), _aware(r.last_used_at)) for r in rows
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
    return _row_to_user(row)
