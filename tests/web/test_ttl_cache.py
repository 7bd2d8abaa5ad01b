"""The page cache: one computation per key under concurrent misses, no stale stores.
The clock is injected and threads meet on events: no sleeps."""

import threading

import pytest

from paperwire.web.cache import MISSING, TTLCache


def test_concurrent_misses_compute_once_and_share_the_answer():
    cache = TTLCache()
    calls = []
    arrived = threading.Semaphore(0)

    def slow():
        calls.append(1)
        for _ in range(8):  # the computation ends only once all eight have asked
            assert arrived.acquire(timeout=30)
        return "answer"

    def ask():
        arrived.release()
        answers.append(cache.get_or_compute("k", 60, slow))

    answers = []
    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == ["answer"] * 8
    assert len(calls) == 1
    assert cache.get("k") == "answer"


def test_an_error_reaches_every_waiter_and_is_not_cached():
    cache = TTLCache()
    started = threading.Event()
    release = threading.Event()

    def failing():
        started.set()
        release.wait(5)
        raise ValueError("bad query")

    errors = []

    def ask():
        try:
            cache.get_or_compute("k", 60, failing)
        except ValueError as exc:
            errors.append(str(exc))

    first = threading.Thread(target=ask)
    first.start()
    assert started.wait(30)
    second = threading.Thread(target=ask)
    second.start()
    release.set()  # whether the second waits on the first or computes itself: same error
    first.join(5)
    second.join(5)
    assert errors == ["bad query", "bad query"]
    assert cache.get("k") is MISSING
    assert cache.get_or_compute("k", 60, lambda: "fine") == "fine"


def test_a_write_during_a_computation_keeps_its_answer_out_of_the_cache():
    cache = TTLCache()

    def compute_then_write():
        cache.clear()  # a paper write lands while the answer is being computed
        return "stale"

    assert cache.get_or_compute("k", 60, compute_then_write) == "stale"
    assert cache.get("k") is MISSING
    assert cache.get_or_compute("k", 60, lambda: "fresh") == "fresh"
    assert cache.get("k") == "fresh"


def test_entries_expire_and_ttl_zero_never_stores():
    now = [100.0]
    cache = TTLCache(clock=lambda: now[0])
    assert cache.get_or_compute("k", 5, lambda: 1) == 1
    now[0] += 4.999
    assert cache.get("k") == 1
    assert cache.get_or_compute("k", 5, lambda: "recomputed") == 1
    now[0] += 0.001
    assert cache.get("k") is MISSING
    assert cache.get_or_compute("k", 5, lambda: "recomputed") == "recomputed"
    assert cache.get_or_compute("z", 0, lambda: 2) == 2
    assert cache.get("z") is MISSING


@pytest.mark.parametrize("size", [3])
def test_least_recently_used_entries_are_dropped_past_the_limit(size):
    cache = TTLCache(max_entries=size)
    for key in range(size):
        cache.get_or_compute(key, 60, lambda key=key: key)
    cache.get(0)  # touch 0: 1 is now the oldest
    cache.get_or_compute("new", 60, lambda: "new")
    assert cache.get(1) is MISSING
    assert cache.get(0) == 0 and cache.get("new") == "new"
