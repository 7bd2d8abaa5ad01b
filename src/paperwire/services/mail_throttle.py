"""Per-recipient and per-IP throttle on mails that anyone can make the site send
(sign-up confirmation, resend, magic link, password reset, digest subscription).

Counters live in the database (`store/throttles.py`), so every web process counts
against the same limits. A throttled request answers exactly like an allowed one and
simply sends nothing, so the throttle reveals nothing about accounts either.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from paperwire.domain.rate_limits import RateLimit
from paperwire.store import throttles

if TYPE_CHECKING:
    from paperwire.config import Settings


def allow_mail(engine: Engine, settings: Settings, *, recipient: str, ip: str,
               now: float | None = None) -> bool:
    """Count one mail to `recipient` asked for from `ip`; False (and nothing counted)
    when either limit is reached."""
    if not settings.rate_limits_enabled:
        return True
    hits = [throttles.Hit("mail-to", recipient.strip().casefold(),
                          RateLimit.parse(settings.mail_throttle_recipient))]
    if ip:
        hits.append(throttles.Hit("mail-ip", ip, RateLimit.parse(settings.mail_throttle_ip)))
    return throttles.take_all(engine, hits, time.time() if now is None else now).allowed
