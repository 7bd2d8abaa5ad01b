"""Signed, expiring tokens for mail links (confirm, settings, unsubscribe).

A token carries a subscriber id and the lower-cased address it was made for;
the signature is keyed by the site secret and a per-purpose salt, so a token
made for one purpose never opens another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

CONFIRM = "confirm"
SETTINGS = "settings"
UNSUBSCRIBE = "unsubscribe"

MAX_AGE = {
    CONFIRM: timedelta(days=7),
    SETTINGS: timedelta(days=90),
    UNSUBSCRIBE: timedelta(days=365),
}


class TokenError(ValueError):
    """A link token that cannot be used; `reason` is 'expired' or 'invalid'."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the link is {reason}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SubscriberToken:
    subscriber_id: int
    email_key: str
    version: int = 0  # the subscriber's token_version when the link was made


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    if purpose not in MAX_AGE:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return URLSafeTimedSerializer(secret, salt=f"paperwire-subscriber-{purpose}")


def make_token(
    secret: str, purpose: str, subscriber_id: int, email_key: str, version: int = 0
) -> str:
    return _serializer(secret, purpose).dumps({"s": subscriber_id, "e": email_key, "v": version})


def read_token(
    secret: str, purpose: str, token: str, *, max_age: timedelta | None = None
) -> SubscriberToken:
    """Check the signature and age; raise TokenError('expired' | 'invalid')."""
    age = max_age if max_age is not None else MAX_AGE[purpose]
    try:
        data = _serializer(secret, purpose).loads(token, max_age=int(age.total_seconds()))
    except SignatureExpired:
        raise TokenError("expired") from None
    except BadSignature:
        raise TokenError("invalid") from None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int) or not isinstance(
        data.get("e"), str
    ):
        raise TokenError("invalid")
    version = data.get("v", 0)
    if not isinstance(version, int):
        raise TokenError("invalid")
    return SubscriberToken(subscriber_id=data["s"], email_key=data["e"], version=version)
