"""How ingest writes its batches: inline, or through several connections at once.

PostgreSQL computes each new paper's tsvector and GIN entries in the backend that
inserts it, so one connection keeps one server core busy while the importing
process waits. Several connections keep several busy, and the importing process
parses the next batch meanwhile. Each paper id always goes through the same
connection, so writes of one paper keep their order and two transactions never
insert the same paper. SQLite has a single writer, so it writes inline.
"""

from __future__ import annotations

import os
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Engine

from paperwire.domain.records import SourceItem
from paperwire.store.papers import UpsertCounts, add_daily_entries, upsert_papers

MAX_WRITERS = 4


@dataclass(slots=True)
class Written:
    items: list[SourceItem]
    counts: UpsertCounts
    daily_entries: int


def default_writers(engine: Engine) -> int:
    if engine.dialect.name != "postgresql":
        return 1
    return max(1, min(MAX_WRITERS, os.cpu_count() or 1))


def write_batch(engine: Engine, items: list[SourceItem]) -> Written:
    """One transaction: the papers, their authors and their daily entries."""
    with engine.begin() as conn:
        counts = upsert_papers(conn, (item.paper for item in items))
        daily = add_daily_entries(
            conn, (item.daily_entry for item in items if item.daily_entry is not None)
        )
    return Written(items, counts, daily)


class BatchWriter:
    """Writes batches and hands back what was written, in submission order.

    `submit` returns at once with `writers > 1`; `on_written` is called from the
    caller's thread (in `submit` or `drain`) as batches complete, in order. At most
    `max_pending` batches are in flight, so memory stays bounded.
    """

    def __init__(
        self,
        engine: Engine,
        on_written: Callable[[Written, int], None],
        *,
        writers: int = 1,
        max_pending: int = 2,
    ) -> None:
        self.engine = engine
        self.on_written = on_written
        self.writers = max(1, writers)
        self.max_pending = max_pending
        self._pools = [
            ThreadPoolExecutor(1, thread_name_prefix=f"ingest-writer-{i}")
            for i in range(self.writers if self.writers > 1 else 0)
        ]
        self._pending: deque[tuple[list[Future], int]] = deque()

    def submit(self, items: list[SourceItem], read: int) -> None:
        """Write `items` (the good part of `read` records)."""
        if not self._pools:
            written = write_batch(self.engine, items) if items else Written([], UpsertCounts(), 0)
            self.on_written(written, read)
            return
        parts: list[list[SourceItem]] = [[] for _ in self._pools]
        for item in items:
            parts[zlib.crc32(item.paper.id.encode()) % len(parts)].append(item)
        futures = [
            pool.submit(write_batch, self.engine, part)
            for pool, part in zip(self._pools, parts, strict=True)
            if part
        ]
        self._pending.append((futures, read))
        while len(self._pending) > self.max_pending:
            self._finish_oldest()

    def drain(self) -> None:
        while self._pending:
            self._finish_oldest()

    def close(self) -> None:
        """Wait for every write in flight and stop. After a failure, the parts that
        committed (each is its own transaction) are still reported."""
        for pool in self._pools:
            pool.shutdown(wait=True)
        while self._pending:
            futures, read = self._pending.popleft()
            done = [f.result() for f in futures if f.exception() is None]
            self.on_written(self._combined(done), read)

    def _finish_oldest(self) -> None:
        futures, read = self._pending[0]
        results = [future.result() for future in futures]  # raises a writer's error
        self._pending.popleft()
        self.on_written(self._combined(results), read)

    @staticmethod
    def _combined(results: list[Written]) -> Written:
        items = [item for written in results for item in written.items]
        counts = UpsertCounts()
        for written in results:
            for name in ("new_ids", "updated_ids", "unchanged_ids", "changes"):
                getattr(counts, name).extend(getattr(written.counts, name))
        return Written(items, counts, sum(w.daily_entries for w in results))
