"""The background reader keeps order, hands errors over and stops when abandoned."""

import threading

import pytest

from paperwire.sources.prefetch import prefetched


def test_items_arrive_in_order():
    assert list(prefetched(range(2_345), chunk=100, depth=2)) == list(range(2_345))
    assert list(prefetched([])) == []


def test_a_producer_error_is_raised_in_the_consumer_after_earlier_items():
    def items():
        yield from range(5)
        raise ValueError("broken input")

    received = []
    with pytest.raises(ValueError, match="broken input"):
        for item in prefetched(items(), chunk=2):
            received.append(item)
    assert received == [0, 1, 2, 3, 4]


def test_closing_early_stops_the_worker():
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    stream = prefetched(endless(), chunk=10, depth=2)
    assert next(stream) == 0
    stream.close()  # joins the worker
    assert not any(t.name == "paperwire-prefetch" for t in threading.enumerate())
    # The worker is gone, so nothing more is read; it read at most what the bounded
    # queue holds: two chunks waiting, the one taken, the one being filled.
    assert len(produced) <= 4 * 10 + 1
