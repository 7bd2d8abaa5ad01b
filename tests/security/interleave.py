"""Run two database operations in a chosen interleaving, without sleeps.

`pause_after(engine, pattern, second)` makes the calling thread, right after its first
statement matching `pattern`, start `second` in another thread and wait until `second`
has either finished or is about to wait for a write lock (`BEGIN IMMEDIATE` on SQLite,
`pg_advisory_xact_lock` on PostgreSQL; see store.db.lock_for_write). Code that reads
and then writes without that lock lets `second` run entirely inside its read-write gap,
which is the lost update the tests look for; code that takes the lock first makes
`second` wait for it, and the outcome is the serial one.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator

from sqlalchemy import Engine, event

LOCK_STATEMENT = re.compile(r"BEGIN IMMEDIATE|pg_advisory_xact_lock", re.I)


@contextlib.contextmanager
def pause_after(engine: Engine, pattern: str, second: Callable[[], object]
                ) -> Iterator[dict]:
    """Yields a dict that gets `result` (or `error`) of `second`, and `ran` (whether
    the pause happened at all)."""
    first = threading.get_ident()
    statement_re = re.compile(pattern, re.I | re.S)
    progressed = threading.Event()
    outcome: dict = {"ran": False}
    worker: list[threading.Thread] = []

    def run_second() -> None:
        try:
            outcome["result"] = second()
        except Exception as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc
        finally:
            progressed.set()

    def before(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() != first and LOCK_STATEMENT.search(statement):
            progressed.set()  # `second` is about to wait for the lock `first` may hold

    def after(conn, cursor, statement, parameters, context, executemany):
        if (threading.get_ident() == first and not outcome["ran"]
                and statement_re.search(statement)):
            outcome["ran"] = True
            thread = threading.Thread(target=run_second)
            worker.append(thread)
            thread.start()
            if not progressed.wait(120):  # a guard against hanging, not a synchronisation
                raise AssertionError("the second operation is stuck, not on a write lock")

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield outcome
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        for thread in worker:
            thread.join()
