"""The page cache: one computation per key under concurrent misses, no stale stores."""

import threading
import time

import pytest

from paperwire.web.cache import MISSING, TTLCache


def test_concurrent_misses_compute_once_and_share_the_answer():
    cache = TTLCache()
    calls = []
    release = threading.Event()

    def slow():
        calls.append(1)
        release.wait(5)
        return "answer"

    answers = []
    threads = [
        threading.Thread(target=lambda: answers.append(cache.get_or_compute("k", 60, slow)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.2)  # all eight are now inside get_or_compute
    release.set()
    for thread in threads:
        thread.join(5)
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
    started.wait(5)
    second = threading.Thread(target=ask)
    second.start()
    time.sleep(0.1)
    release.set()
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
    cache = TTLCache()
    assert cache.get_or_compute("k", 0.05, lambda: 1) == 1
    assert cache.get("k") == 1
    time.sleep(0.06)
    assert cache.get("k") is MISSING
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
