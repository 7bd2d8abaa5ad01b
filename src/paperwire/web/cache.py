"""A small in-process TTL cache for data that is the same for every visitor.

Feed pages, API lists and similar papers change slowly; serving them from memory
for a few seconds keeps the site fast under load. Anything per user (navigation,
CSRF tokens, forms) is rendered per request, never cached.

A write to the paper tables through this process's engine (a vote, a comment, a
submission, an import) empties the cache at once; writes from other processes are
seen when the entries expire.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import event

T = TypeVar("T")

_PAPER_WRITE = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?"
    r"(?:papers|daily_entries|organizations|paper_authors)\b",
    re.IGNORECASE,
)


class TTLCache:
    def __init__(self, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, ttl_s: float, compute: Callable[[], T]) -> T:
        if ttl_s <= 0:
            return compute()
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] > now:
                self._items.move_to_end(key)
                return hit[1]
        value = compute()
        with self._lock:
            self._items[key] = (now + ttl_s, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def watch(self, engine) -> None:
        """Empty the cache whenever a statement on `engine` writes to the paper tables."""

        def after_execute(conn, cursor, statement, parameters, context, executemany) -> None:
            if _PAPER_WRITE.match(statement):
                self.clear()

        event.listen(engine, "after_cursor_execute", after_execute)


_create_lock = threading.Lock()


def app_cache(request: Request) -> TTLCache:
    """The cache of this app instance (each app, and so each test, has its own)."""
    state = request.app.state
    cache = getattr(state, "page_cache", None)
    if cache is None:
        with _create_lock:
            cache = getattr(state, "page_cache", None)
            if cache is None:
                cache = TTLCache()
                cache.watch(state.container.engine)
                state.page_cache = cache
    return cache
