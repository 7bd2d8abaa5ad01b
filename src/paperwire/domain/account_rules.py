"""Rules for what users type into account forms: usernames, emails, passwords, lengths."""

from __future__ import annotations

import re

USERNAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{1,28})[A-Za-z0-9]$")
EMAIL_RE = re.compile(
    r"^[^@\s<>\"'\\,;\x00-\x1f\x7f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
RESERVED_USERNAMES = frozenset(
    {
        "admin",
        "api",
        "login",
        "logout",
        "signup",
        "settings",
        "submit",
        "static",
        "users",
        "moderation",
        "papers",
        "me",
        "root",
        "system",
        "paperwire",
        "null",
        "none",
    }
)
PASSWORD_MIN = 8
PASSWORD_MAX = 200
COMMENT_MAX = 5000
TOKEN_NAME_MAX = 100
TOKEN_EXPIRY_MAX_DAYS = 3650
# lastUsedAt is written at most this often per token (one cheap UPDATE that usually
# matches no row), so a busy script does not turn every request into a write.
TOKEN_LAST_USED_EVERY_S = 60
AUTHOR_NAME_MAX = 300
ORG_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,98}[a-z0-9])?$")


def without_nul(text: str) -> str:
    """Drop NUL characters (PostgreSQL text cannot hold them; they are never meaningful)."""
    return text.replace("\x00", "")


def username_key(username: str) -> str:
    """Usernames are unique regardless of case."""
    return username.strip().casefold()


def email_key(email: str) -> str:
    return email.strip().lower()


def username_problem(username: str) -> str | None:
    """Why a username cannot be used, or None when it can."""
    if not USERNAME_RE.match(username):
        return (
            "Usernames are 3 to 30 letters, digits, '-' or '_', "
            "starting and ending with a letter or digit."
        )
    if username_key(username) in RESERVED_USERNAMES:
        return f"The username {username!r} is reserved; choose another."
    return None


def email_problem(email: str) -> str | None:
    if len(email) > 254 or not EMAIL_RE.match(email):
        return "Enter an email address such as ada@example.org."
    return None


def password_problem(password: str) -> str | None:
    if len(password) < PASSWORD_MIN:
        return f"Passwords need at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"Passwords can have at most {PASSWORD_MAX} characters."
    return None


def org_name_problem(name: str) -> str | None:
    if not ORG_NAME_RE.match(name):
        return "Organization names are 1 to 100 lowercase letters, digits, '-' or '_'."
    return None
