"""Rate-limit and login-lockout arithmetic: pure functions, no clocks, no storage."""

from __future__ import annotations

import math
from dataclasses import dataclass


class InvalidRateLimit(ValueError):
    """A rate-limit setting that is not COUNT/SECONDS."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    count: int
    window_s: float

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """Parse "COUNT/SECONDS", e.g. "10/60" for ten per minute."""
        try:
            count_text, window_text = text.strip().split("/")
            count, window = int(count_text), float(window_text)
        except ValueError:
            raise InvalidRateLimit(
                f"{text!r} is not a rate limit such as 10/60 (count/seconds)."
            ) from None
        if count < 1 or window <= 0:
            raise InvalidRateLimit(f"{text!r}: count and seconds must be positive.")
        return cls(count, window)


LEASE_SHARE = 32  # a process leases at most 1/32 of a limit at once
LEASE_MAX = 100


def lease_places(limit: RateLimit) -> int:
    """Places a process may count at once and hand out from memory: 1 (every request
    asks the database) for small limits such as login's, up to 1/32 of a large one, so
    a lease left unused in one process withholds at most ~3% of the limit from others."""
    return max(1, min(LEASE_MAX, limit.count // LEASE_SHARE))


def lockout_seconds(consecutive_failures: int, *, threshold: int, base_s: int, max_s: int) -> int:
    """How long an account stays locked after this many failures in a row (0: not locked).

    The lock starts at `threshold` failures and doubles with each further one.
    """
    if consecutive_failures < threshold:
        return 0
    return int(min(max_s, base_s * 2 ** min(consecutive_failures - threshold, 30)))


def lockout_remaining(
    consecutive_failures: int,
    last_failure_at: float | None,
    now: float,
    *,
    threshold: int,
    base_s: int,
    max_s: int,
) -> int:
    """Seconds left on a login lockout, 0 when the account may try again."""
    if last_failure_at is None:
        return 0
    lock = lockout_seconds(consecutive_failures, threshold=threshold, base_s=base_s, max_s=max_s)
    return max(0, math.ceil(last_failure_at + lock - now)) if lock else 0
