"""Read and parse input in a background thread while the caller writes.

Decompression (zlib) and SQLite's own work (B-trees, the FTS5 index) release
the GIL, so parsing the next records overlaps with writing the previous ones
on a second core. The queue is bounded, so memory stays flat.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterable[T], *, chunk: int = 500, depth: int = 8) -> Iterator[T]:
    """Yield `items` in order, produced ahead by a worker thread.

    At most `depth` chunks of `chunk` items wait in memory. An exception in
    the producer is re-raised here; closing this generator early stops it.
    """
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        batch: list[T] = []
        try:
            for item in items:
                batch.append(item)
                if len(batch) >= chunk:
                    if not put(batch):
                        return
                    batch = []
            if batch and not put(batch):
                return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            if not batch or put(batch):
                put(_Failure(exc))

    worker = threading.Thread(target=produce, name="paperwire-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            value = slots.get()
            if value is _DONE:
                return
            if isinstance(value, _Failure):
                raise value.error
            yield from value  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)
