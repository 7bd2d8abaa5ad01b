"""Per-account and per-IP rate limits for login, sign-up, submit, comment and the API.

Limits come from Settings (COUNT/SECONDS). A refused request gets 429 with
Retry-After. Counters live in the database (`store/throttles.py`, one atomic upsert
per key), so every web process and worker counts against the same limits: with
`--workers 4` a limit stays the limit, not four times it. A key's window starts at
its first request after the previous window ended.

Every request a rule covers is counted in the database (API reads included: the
limit holds across processes, `tests/security/test_request_limits.py`). For a large
limit (the API's 600/60) a process counts a lease of places at once (`lease_places`:
up to 1/32 of the limit) and hands them out from memory (`Leases`) until they are used
or the window ends, so most requests cost no write; near the limit leases shrink to one
place, so the places counted, and so the requests let through, never exceed the limit.
Small limits (login, sign-up, submit, comment) lease one place: every request asks the
database. A key found full is remembered in this process until its window ends
(`FullKeys`): further requests of that key are refused without touching the database,
so a client hammering past its limit costs no writes. Counts only go down when a
window ends (the one exception, the sign-up bucket given back for a refused sign-up,
is never remembered or leased), so the memory refuses exactly what the database would.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from paperwire.domain.rate_limits import RateLimit, lease_places
from paperwire.store import throttles
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
SIGNUP_CREATED = "signup-created"  # the bucket of sign-ups answered as created
FULL_KEYS_MAX = 10_000  # keys remembered as full, per process


class FullKeys:
    """(bucket, key) pairs whose window is full, each until its window ends."""

    def __init__(self, max_keys: int = FULL_KEYS_MAX) -> None:
        self.max_keys = max_keys
        self._until: dict[tuple[str, str], float] = {}

    def __len__(self) -> int:
        return len(self._until)

    def wait_s(self, hits: list[throttles.Hit], now: float) -> float:
        """Seconds until every remembered-full key among `hits` has room (0: ask the DB)."""
        wait = 0.0
        for hit in hits:
            until = self._until.get((hit.bucket, hit.key))
            if until is not None:
                if until > now:
                    wait = max(wait, until - now)
                else:
                    del self._until[(hit.bucket, hit.key)]
        return wait

    def remember(self, full_until: dict[tuple[str, str], float], now: float) -> None:
        if len(self._until) + len(full_until) > self.max_keys:
            self._until = {k: u for k, u in self._until.items() if u > now}
            if len(self._until) + len(full_until) > self.max_keys:
                return  # too many distinct full keys: the database answers them
        for (bucket, key), until in full_until.items():
            if bucket != SIGNUP_CREATED:  # given back on a refused sign-up: counts go down
                self._until[(bucket, key)] = until


LEASES_MAX = 10_000  # keys holding a lease, per process


class Leases:
    """Places this process counted in the database ahead of use, per (bucket, key):
    (window end, places left). Used only from the event loop's thread, and a place is
    taken in the same step as the check, so two requests never get the same place."""

    def __init__(self, max_keys: int = LEASES_MAX) -> None:
        self.max_keys = max_keys
        self._left: dict[tuple[str, str], tuple[float, int]] = {}

    def __len__(self) -> int:
        return len(self._left)

    def take(self, hit: throttles.Hit, now: float) -> bool:
        """Use one leased place of `hit`'s key (False: none left, ask the database)."""
        entry = self._left.get((hit.bucket, hit.key))
        if entry is None:
            return False
        ends, left = entry
        if ends <= now or left < 1:
            del self._left[(hit.bucket, hit.key)]
            return False
        self._left[(hit.bucket, hit.key)] = (ends, left - 1)
        return True

    def put_back(self, hit: throttles.Hit) -> None:
        """Return a place `take` gave for a request that was refused by another key."""
        ends, left = self._left.get((hit.bucket, hit.key), (0.0, 0))
        if ends:
            self._left[(hit.bucket, hit.key)] = (ends, left + 1)

    def add(self, hit: throttles.Hit, window_start: float, places: int, now: float) -> None:
        """Keep the places beyond the one this request used, until the window ends
        (added to what is left of a lease in the same window)."""
        if places < 2:
            return
        key, ends = (hit.bucket, hit.key), window_start + hit.limit.window_s
        if key not in self._left and len(self._left) >= self.max_keys:
            self._left = {k: e for k, e in self._left.items() if e[0] > now and e[1] > 0}
            if len(self._left) >= self.max_keys:
                return  # too many keys: the unused places lapse with their window
        held_ends, held = self._left.get(key, (0.0, 0))
        self._left[key] = (ends, places - 1 + (held if held_ends == ends else 0))


class RateLimitMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, clock=time.time) -> None:
        super().__init__(app)
        self._limits: dict[str, RateLimit] | None = None
        self._clock = clock
        self.full_keys = FullKeys()
        self.leases = Leases()
        # keys whose lease this process is counting now: later requests wait for it
        # instead of all asking the database at once when a lease runs out
        self._fetching: dict[tuple[str, str], asyncio.Future[None]] = {}

    async def _take(self, engine, asked: list[throttles.Hit], now: float) -> throttles.Taken:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        mine = [k for hit in asked if hit.amount > 1
                and (k := (hit.bucket, hit.key)) not in self._fetching]
        for key in mine:
            self._fetching[key] = done
        try:
            taken = await run_in_threadpool(throttles.take_all, engine, asked, now)
            for hit, window_start in taken.windows.items():
                self.leases.add(hit, window_start, taken.granted.get(hit, 1), now)
            return taken
        finally:
            for key in mine:
                del self._fetching[key]
            done.set_result(None)

    def limits(self, settings) -> dict[str, RateLimit]:
        if self._limits is None:
            self._limits = {
                rule.name: RateLimit.parse(getattr(settings, rule.setting_name))
                for rule in RULES
            }
            self._limits[SIGNUP_CREATED] = RateLimit.parse(settings.rate_limit_signup)
        return self._limits

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        container = container_of(scope)
        if not container.settings.rate_limits_enabled:
            await self.app(scope, receive, send)
            return
        limits = self.limits(container.settings)
        hits = self._hits(scope, limits)
        created = None
        if scope["method"] == "POST" and SIGNUP_PATH.match(scope["path"]):
            # Counted now (so parallel sign-ups cannot all pass), given back below
            # when the answer says no account was made.
            created = throttles.Hit(SIGNUP_CREATED, f"ip:{_ip(scope)}", limits[SIGNUP_CREATED])
            hits.append(created)
        if not hits:
            await self.app(scope, receive, send)
            return
        now = self._clock()
        wait = self.full_keys.wait_s(hits, now)
        if wait > 0:  # a key this process saw full and whose window has not ended
            await _too_many(scope, max(1, math.ceil(wait)))(scope, receive, send)
            return
        leased = [hit for hit in hits if self.leases.take(hit, now)]
        if len(leased) < len(hits):  # a lease of this key may be on its way: wait for it
            loop = asyncio.get_running_loop()  # (a test client may run several loops)
            waits = {f for hit in hits if hit not in leased
                     and (f := self._fetching.get((hit.bucket, hit.key))) is not None
                     and f.get_loop() is loop}
            if waits:
                await asyncio.wait(waits)
                now = self._clock()
                leased += [hit for hit in hits if hit not in leased
                           and self.leases.take(hit, now)]
        asked = [hit for hit in hits if hit not in leased]
        taken = throttles.Taken(True)
        if asked:
            taken = await self._take(container.engine, asked, now)
        if not taken.allowed:
            for hit in leased:
                self.leases.put_back(hit)
            self.full_keys.remember(taken.full_until, now)
            await _too_many(scope, taken.retry_after_s)(scope, receive, send)
            return
        if created is None:
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if status >= 400:  # no account made: only created ones count against the limit
                await run_in_threadpool(throttles.give_back, container.engine, created,
                                        taken.windows[created])

    def _hits(self, scope: Scope, limits: dict[str, RateLimit]) -> list[throttles.Hit]:
        method, path = scope["method"], scope["path"]
        ip = _ip(scope)
        user = scope.get("state", {}).get("user")
        hits = []
        for rule in RULES:
            if method in rule.methods and rule.path.match(path):
                limit = limits[rule.name]
                places = lease_places(limit)
                hits.append(throttles.Hit(rule.name, f"ip:{ip}", limit, places))
                if user is not None:
                    hits.append(throttles.Hit(rule.name, f"user:{user.id}", limit, places))
        return hits


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
