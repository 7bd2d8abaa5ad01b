"""Shared pieces of the accounts services: errors, the User record, hashing, clocks."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher

from paperwire.domain.permissions import Role
from paperwire.store.db import aware_utc

hasher = PasswordHasher()


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


def secret_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def row_to_user(row) -> User:
    return User(
        id=row.id,
        username=row.username,
        email=row.email,
        role=row.role,
        suspended=bool(row.suspended),
        email_verified=row.email_verified_at is not None,
        created_at=aware_utc(row.created_at),
    )
