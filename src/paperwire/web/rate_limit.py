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
    setting: str = ""  # the Settings field rate_limit_<setting>; default: the name

    @property
    def setting_name(self) -> str:
        return f"rate_limit_{self.setting or self.name}"


_WRITE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RULES = (
    Rule("login", _WRITE, re.compile(r"^/(login|forgot-password|reset-password)(/.*)?$")),
    # Every sign-up attempt counts against the looser attempts limit; only accounts
    # created count against PAPERWIRE_RATE_LIMIT_SIGNUP (see SIGNUP_CREATED).
    Rule("signup", _WRITE, re.compile(r"^/signup/?$"), setting="signup_attempts"),
    Rule("submit", _WRITE, re.compile(r"^(/submit|/api/papers/index)/?$")),
    Rule("comment", _WRITE, re.compile(r"^(/api)?/papers/.+/comments/?$|^(/api)?/comments/\d+")),
    Rule("api", frozenset({"GET", "HEAD", *_WRITE}), re.compile(r"^/api/")),
)


SIGNUP_PATH = re.compile(r"^/signup/?$")


class SlidingLog:
    """Timestamps of recent hits per key; thread-safe."""

    def __init__(self, clock=time.monotonic) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._last_sweep = clock()

    def check(self, keys: list[tuple[str, RateLimit]]) -> Decision:
        """The decision for `keys`, recording nothing (see `record`)."""
        now = self._clock()
        with self._lock:
            worst = Decision(True)
            for key, limit in keys:
                decision = check_window(self._hits.get(key, ()), now, limit)
                if not decision.allowed and decision.retry_after_s >= worst.retry_after_s:
                    worst = decision
            return worst

    def record(self, keys: list[tuple[str, RateLimit]]) -> None:
        now = self._clock()
        with self._lock:
            for key, limit in keys:
                self._hits.setdefault(key, deque(maxlen=limit.count)).append(now)

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
                rule.name: RateLimit.parse(getattr(settings, rule.setting_name))
                for rule in RULES
            }
            self._limits["signup-created"] = RateLimit.parse(settings.rate_limit_signup)
        return self._limits

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = container_of(scope).settings
        created_keys: list[tuple[str, RateLimit]] = []
        if settings.rate_limits_enabled:
            limits = self.limits(settings)
            keys = self._keys(scope, limits)
            if scope["method"] == "POST" and SIGNUP_PATH.match(scope["path"]):
                created_keys = [(f"signup-created:ip:{_ip(scope)}", limits["signup-created"])]
                decision = self.log.check(created_keys)
                if not decision.allowed:
                    await _too_many(scope, decision.retry_after_s)(scope, receive, send)
                    return
            if keys:
                decision = self.log.check_and_record(keys)
                if not decision.allowed:
                    response = _too_many(scope, decision.retry_after_s)
                    await response(scope, receive, send)
                    return
        if not created_keys:
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status < 400:  # an account was created: only these count against the limit
            self.log.record(created_keys)

    def _keys(self, scope: Scope, limits: dict[str, RateLimit]) -> list[tuple[str, RateLimit]]:
        method, path = scope["method"], scope["path"]
        ip = _ip(scope)
        user = scope.get("state", {}).get("user")
        keys = []
        for rule in RULES:
            if method in rule.methods and rule.path.match(path):
                limit = limits[rule.name]
                keys.append((f"{rule.name}:ip:{ip}", limit))
                if user is not None:
                    keys.append((f"{rule.name}:user:{user.id}", limit))
        return keys


def _ip(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


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
