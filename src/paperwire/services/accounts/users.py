"""Sign-up, looking accounts up, and the admin's suspend and role switches."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from paperwire.domain import account_rules as rules
from paperwire.domain.permissions import Role
from paperwire.services.accounts.common import AccountError, User, hasher, row_to_user
from paperwire.store.accounts_tables import sessions, users
from paperwire.store.db import utcnow


class EmailTaken(AccountError):
    """The address already has an account. Only admin tools report this; the sign-up
    form answers as if it had worked (see `services/accounts/signup.py`)."""

    def __init__(self) -> None:
        super().__init__(
            "An account with this email exists; log in or reset its password.", "email"
        )


def create_user(
    engine: Engine,
    *,
    username: str,
    email: str,
    password: str,
    role: str = Role.USER,
    verified: bool = False,
) -> User:
    """Create an account; AccountError names the field that is wrong or taken
    (EmailTaken for an address that has an account).

    The password is hashed before anything is looked up, so a taken address or
    username costs the same time as an account created.
    """
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
    password_hash = hasher.hash(password)
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
                    password_hash=password_hash,
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
    """Usernames first: they are public (profile pages), so saying one is taken tells
    nothing new; a taken address is only ever reported as EmailTaken."""
    if conn.execute(
        select(users.c.id).where(users.c.username_key == rules.username_key(username))
    ).first():
        raise AccountError(f"The username {username!r} is taken; choose another.", "username")
    if conn.execute(select(users.c.id).where(users.c.email_key == rules.email_key(email))).first():
        raise EmailTaken()


def get_user(engine_or_conn: Engine | Connection, user_id: int) -> User | None:
    return one_user(engine_or_conn, users.c.id == user_id)


def find_user(engine_or_conn: Engine | Connection, username: str) -> User | None:
    key = rules.username_key(rules.without_nul(username)[:100])
    return one_user(engine_or_conn, users.c.username_key == key)


def find_by_login(conn: Connection, login: str):
    """The users row for a username or an email address (the raw row, with the hash)."""
    key = login.strip()
    column = users.c.email_key if "@" in key else users.c.username_key
    value = rules.email_key(key) if "@" in key else rules.username_key(key)
    return conn.execute(select(users).where(column == value[:320])).first()


def one_user(engine_or_conn: Engine | Connection, condition) -> User | None:
    query = select(users).where(condition)
    if isinstance(engine_or_conn, Connection):
        row = engine_or_conn.execute(query).first()
    else:
        with engine_or_conn.connect() as conn:
            row = conn.execute(query).first()
    return row_to_user(row) if row else None


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return [row_to_user(r) for r in conn.execute(select(users).order_by(users.c.id))]


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
