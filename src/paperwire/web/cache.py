"""A small in-process TTL cache for data that is the same for every visitor.

Feed pages, API lists and similar papers change slowly; serving them from memory
for a few seconds keeps the site fast under load. Anything per user (navigation,
CSRF tokens, forms) is rendered per request, never cached.

A committed write through this process's engine (a vote, a comment, a submission,
an import) empties the cache right after its commit, through the change events of
`store.events`; writes from other processes are seen when the entries expire.

Async handlers read it through `cached`: a hit is answered on the event loop, and
only a miss (which reads the database) goes to the thread pool. Concurrent misses
for one key compute it once; the others wait for that answer.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from paperwire.store.events import ChangeEvent, SharedChange, bus_for

T = TypeVar("T")
MISSING: Any = object()

class TTLCache:
    def __init__(self, max_entries: int = 1024, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self._clock = clock  # seconds, monotonic; tests inject their own
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._computing: dict[Hashable, Future] = {}
        self._lock = threading.Lock()
        self._generation = 0  # bumped by clear(): answers computed before it are not stored

    def get(self, key: Hashable) -> Any:
        """The live value for `key`, or MISSING."""
        now = self._clock()
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] <= now:
                return MISSING
            self._items.move_to_end(key)
            return hit[1]

    @property
    def generation(self) -> int:
        """Changes with every clear(): pass it to put() to drop answers a write outdated."""
        return self._generation

    def put(self, key: Hashable, ttl_s: float, value: Any, generation: int) -> None:
        """Store `value`, unless the cache was cleared since `generation` was read."""
        with self._lock:
            if generation != self._generation or ttl_s <= 0:
                return
            self._items[key] = (self._clock() + ttl_s, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def get_or_compute(self, key: Hashable, ttl_s: float, compute: Callable[[], T]) -> T:
        if ttl_s <= 0:
            return compute()
        now = self._clock()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] > now:
                self._items.move_to_end(key)
                return hit[1]
            pending = self._computing.get(key)
            owner = pending is None
            if owner:
                pending = self._computing[key] = Future()
                generation = self._generation
        if not owner:
            return pending.result()  # another thread computes it; its error is ours too
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                self._computing.pop(key, None)
            pending.set_exception(exc)
            raise
        with self._lock:
            self._computing.pop(key, None)
            if generation == self._generation:
                self._items[key] = (now + ttl_s, value)
                self._items.move_to_end(key)
                while len(self._items) > self.max_entries:
                    self._items.popitem(last=False)
        pending.set_result(value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._generation += 1

    def watch(self, engine) -> None:
        """Empty the cache after each committed write to what every visitor sees.

        The write path publishes change events after commit (store.events), so a
        reader that computed an answer from pre-write data before the commit always
        has it dropped: the clear comes after the commit, and bumps the generation.
        """
        self._unsubscribe = bus_for(engine).subscribe(self._on_changes)

    def _on_changes(self, events: Sequence[ChangeEvent]) -> None:
        if any(isinstance(e, SharedChange) for e in events):
            self.clear()


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


async def cached(request: Request, key: Hashable, ttl_s: float, compute: Callable[[], T]) -> T:
    """`compute()` through the app's cache, for async handlers: a hit never leaves the
    event loop, a miss runs `compute` (database reads) in the thread pool."""
    cache = app_cache(request)
    if ttl_s > 0 and (hit := cache.get(key)) is not MISSING:
        return hit
    return await run_in_threadpool(cache.get_or_compute, key, ttl_s, compute)
