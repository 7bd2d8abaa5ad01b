"""Per-account and per-IP rate limits for login, sign-up, submit, comment and the API.

Limits come from Settings (COUNT/SECONDS). A refused request gets 429 with
Retry-After. Counters live in this process's memory (a sliding log per key).
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from dataclasses import dataclass

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from paperwire.domain.rate_limits import Decision, RateLimit, check_window
from paperwire.web.http_middleware import HttpMiddleware, container_of


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    methods: frozenset[str]
    path: re.Pattern[str]


_WRITE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RULES = (
    Rule("login", _WRITE, re.compile(r"^/(login|forgot-password|reset-password)(/.*)?$")),
    Rule("signup", _WRITE, re.compile(r"^/signup/?$")),
    Rule("submit", _WRITE, re.compile(r"^(/submit|/api/papers/index)/?$")),
    Rule("comment", _WRITE, re.compile(r"^(/api)?/papers/.+/comments/?$|^(/api)?/comments/\d+")),
    Rule("api", frozenset({"GET", "HEAD", *_WRITE}), re.compile(r"^/api/")),
)


class SlidingLog:
    """Timestamps of recent hits per key; thread-safe."""

    def __init__(self, clock=time.monotonic) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._last_sweep = clock()

    def check_and_record(self, keys: list[tuple[str, RateLimit]]) -> Decision:
        now = self._clock()
        with self._lock:
            worst = Decision(True)
            for key, limit in keys:
                hits = self._hits.get(key, ())
                decision = check_window(hits, now, limit)
                if not decision.allowed and decision.retry_after_s >= worst.retry_after_s:
                    worst = decision
            if worst.allowed:
                for key, limit in keys:
                    log = self._hits.setdefault(key, deque(maxlen=limit.count))
                    log.append(now)
            if now - self._last_sweep > 300:
                self._sweep(now)
            return worst

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        for key in [k for k, log in self._hits.items() if not log or log[-1] < now - 86400]:
            del self._hits[key]


class RateLimitMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self.log = SlidingLog()
        self._limits: dict[str, RateLimit] | None = None

    def limits(self, settings) -> dict[str, RateLimit]:
        if self._limits is None:
            self._limits = {
                rule.name: RateLimit.parse(getattr(settings, f"rate_limit_{rule.name}"))
                for rule in RULES
            }
        return self._limits

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = container_of(scope).settings
        if settings.rate_limits_enabled:
            keys = self._keys(scope, self.limits(settings))
            if keys:
                decision = self.log.check_and_record(keys)
                if not decision.allowed:
                    response = _too_many(scope, decision.retry_after_s)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _keys(self, scope: Scope, limits: dict[str, RateLimit]) -> list[tuple[str, RateLimit]]:
        method, path = scope["method"], scope["path"]
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        user = scope.get("state", {}).get("user")
        keys = []
        for rule in RULES:
            if method in rule.methods and rule.path.match(path):
                limit = limits[rule.name]
                keys.append((f"{rule.name}:ip:{ip}", limit))
                if user is not None:
                    keys.append((f"{rule.name}:user:{user.id}", limit))
        return keys


def _too_many(scope: Scope, retry_after_s: int) -> Response:
    """429: the site's error page for a browser's form, JSON for programs."""
    from starlette.requests import Request

    from paperwire.web.error_pages import html_error, request_wants_html

    message = f"Too many requests. Try again in {retry_after_s} seconds."
    headers = {"Retry-After": str(retry_after_s)}
    request = Request(scope)
    if request_wants_html(request):
        return html_error(request, 429, message, headers=headers)
    return JSONResponse({"detail": message}, status_code=429, headers=headers)
