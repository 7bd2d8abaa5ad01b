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

from paperwire.domain.rate_limits import RateLimit, window_start
from paperwire.store import throttles

if TYPE_CHECKING:
    from paperwire.config import Settings


def allow_mail(engine: Engine, settings: Settings, *, recipient: str, ip: str,
               now: float | None = None) -> bool:
    """Count one mail to `recipient` asked for from `ip`; False when over either limit."""
    if not settings.rate_limits_enabled:
        return True
    now = time.time() if now is None else now
    per_recipient = RateLimit.parse(settings.mail_throttle_recipient)
    per_ip = RateLimit.parse(settings.mail_throttle_ip)
    with engine.begin() as conn:
        to_count = throttles.hit(conn, "mail-to", recipient.strip().casefold(),
                                 window_start(now, per_recipient))
        ip_count = throttles.hit(conn, "mail-ip", ip, window_start(now, per_ip)) if ip else 0
        if to_count == 1:  # now and then: drop counters of long-gone windows
            throttles.forget_before(conn, int(now - 2 * 86400))
    return to_count <= per_recipient.count and ip_count <= per_ip.count
