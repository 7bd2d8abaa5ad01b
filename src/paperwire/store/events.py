"""Change events: what a write transaction changed, published after it commits.

The write path records typed events on the connection it writes with
(`record(conn, PapersChanged(ids))`); they wait in the connection's `info` until the
transaction ends. Only after the database has committed are they handed to the
engine's `EventBus`; a rollback (or a rollback to a savepoint taken before them)
discards them. Consumers in this process (the page cache, the keyword index's tail,
the vector index, the For-you ranking cache) subscribe to the bus. Other processes
see the same writes through the `modified_at` / `created_at` watermarks.

The hook sits where the transaction really ends: `install(engine)` wraps the engine's
dialect `do_commit` / `do_rollback` / savepoint methods, which SQLAlchemy calls for
every commit and rollback on a connection, including the pool's rollback when a
connection is returned. SQLAlchemy's own `commit` connection event fires *before* the
commit, which is exactly the window in which a reader could cache pre-write data.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, Engine, event

log = logging.getLogger(__name__)

_PENDING = "paperwire_pending_events"
_MARKS = "paperwire_event_marks"
_BUS_ATTR = "paperwire_event_bus"


class ChangeEvent:
    """Base of all change events."""


class SharedChange(ChangeEvent):
    """A change to what every visitor sees (papers, feeds, votes, comments, orgs)."""


def _ids(values: Iterable[str]) -> frozenset[str]:
    return frozenset(str(v) for v in values)


class PaperPart(StrEnum):
    """Which part of what is shown about a paper changed."""

    ROW = "row"  # the paper row: text, metadata, counts, flags (inserted, updated, deleted)
    DAILY = "daily"  # its daily-feed entries
    VOTES = "votes"  # its upvotes
    COMMENTS = "comments"  # its comments


@dataclass(frozen=True, slots=True)
class PapersChanged(SharedChange):
    """Something every visitor sees about these papers changed; `part` says what.

    The keyword index re-reads the papers of `PaperPart.ROW` events only; the page
    cache empties on any part."""

    paper_ids: frozenset[str]
    part: PaperPart = PaperPart.ROW

    @classmethod
    def of(cls, ids: Iterable[str], part: PaperPart = PaperPart.ROW) -> PapersChanged:
        return cls(_ids(ids), part)

    @property
    def rows_changed(self) -> bool:
        return self.part is PaperPart.ROW


@dataclass(frozen=True, slots=True)
class OrganizationsChanged(SharedChange):
    """Organisations created, claimed or removed."""


@dataclass(frozen=True, slots=True)
class EmbeddingsChanged(ChangeEvent):
    """Vectors stored for one model. Not a SharedChange: the worker stores a batch every
    few seconds for an hour, and pages do not show vectors (similar papers follow within
    their cache time)."""

    model_id: str
    paper_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class LibraryChanged(ChangeEvent):
    """One reader's own inputs to their For-you feed changed: saved papers (and their
    reading status), marks, upvotes, follows or feed settings. Not a SharedChange: no
    page every visitor sees shows them."""

    user_id: int


Handler = Callable[[Sequence[ChangeEvent]], None]


class EventBus:
    """Delivers each committed transaction's events, as one batch, to every subscriber.

    Handlers run in the committing thread, right after the commit and before the
    writer's `with engine.begin()` block returns; an error in one is logged, never
    raised into the writer (its data is committed). Bound methods are held weakly,
    so a cache that goes away unsubscribes itself.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: list[Callable[[], Handler | None]] = []

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Call `handler(events)` after every commit that recorded events; returns the
        function that unsubscribes it."""
        if hasattr(handler, "__self__") and hasattr(handler, "__func__"):
            ref: Callable[[], Handler | None] = weakref.WeakMethod(handler)
        else:
            def ref(handler=handler) -> Handler:
                return handler
        with self._lock:
            self._handlers.append(ref)

        def unsubscribe() -> None:
            with self._lock:
                if ref in self._handlers:
                    self._handlers.remove(ref)

        return unsubscribe

    def publish(self, events: Sequence[ChangeEvent]) -> None:
        if not events:
            return
        with self._lock:
            refs = list(self._handlers)
        dead = []
        for ref in refs:
            handler = ref()
            if handler is None:
                dead.append(ref)
                continue
            try:
                handler(events)
            except Exception:
                log.exception("a change-event handler failed")
        if dead:
            with self._lock:
                self._handlers = [r for r in self._handlers if r not in dead]


def install(engine: Engine) -> EventBus:
    """Give `engine` an event bus and publish recorded events after each commit.

    Idempotent; `store.db.create_db_engine` calls it for every engine it makes.
    """
    dialect = engine.dialect
    bus = dialect.__dict__.get(_BUS_ATTR)
    if bus is not None:
        return bus
    bus = EventBus()
    commit, rollback = dialect.do_commit, dialect.do_rollback
    savepoint, to_savepoint = dialect.do_savepoint, dialect.do_rollback_to_savepoint

    def do_commit(dbapi_connection) -> None:
        pending = _take(dbapi_connection)
        commit(dbapi_connection)  # raises: the events are dropped with the transaction
        if pending:
            bus.publish(_coalesce(pending))

    def do_rollback(dbapi_connection) -> None:
        _take(dbapi_connection)
        rollback(dbapi_connection)

    def do_savepoint(connection, name) -> None:
        info = connection.info
        info.setdefault(_MARKS, {})[name] = len(info.get(_PENDING, ()))
        savepoint(connection, name)

    def do_rollback_to_savepoint(connection, name) -> None:
        info = connection.info
        mark = info.get(_MARKS, {}).pop(name, None)
        if mark is not None and _PENDING in info:
            del info[_PENDING][mark:]
        to_savepoint(connection, name)

    dialect.do_commit = do_commit
    dialect.do_rollback = do_rollback
    dialect.do_savepoint = do_savepoint
    dialect.do_rollback_to_savepoint = do_rollback_to_savepoint
    setattr(dialect, _BUS_ATTR, bus)

    @event.listens_for(engine, "begin")
    def _fresh_transaction(conn: Connection) -> None:
        # Leftovers of a transaction that ended without passing through the dialect
        # (a connection invalidated mid-way) never leak into the next one.
        conn.info.pop(_PENDING, None)
        conn.info.pop(_MARKS, None)

    return bus


def bus_for(engine: Engine) -> EventBus:
    """The engine's bus (installed on first use)."""
    return install(engine)


def record(conn: Connection, *events: ChangeEvent) -> None:
    """Note that this transaction made these changes; published after it commits.

    Call it in the write transaction, after (or with) the writes it describes.
    """
    if _BUS_ATTR not in conn.dialect.__dict__ or not events:
        return  # an engine made without create_db_engine: nobody listens
    if not conn.in_transaction():
        conn.begin()
    conn.info.setdefault(_PENDING, []).extend(events)


def _take(dbapi_connection) -> list[ChangeEvent]:
    try:
        info = dbapi_connection.info
    except (AttributeError, NotImplementedError):  # the dialect's first-connect probe
        return []
    info.pop(_MARKS, None)
    return info.pop(_PENDING, None) or []


def _coalesce(events: list[ChangeEvent]) -> list[ChangeEvent]:
    """Merge events of one kind (ids united), keeping first-seen order."""
    merged: dict[object, ChangeEvent] = {}
    for ev in events:
        if isinstance(ev, PapersChanged):
            key: object = (PapersChanged, ev.part)
        elif isinstance(ev, EmbeddingsChanged):
            key = (EmbeddingsChanged, ev.model_id)
        elif isinstance(ev, LibraryChanged):
            key = (LibraryChanged, ev.user_id)
        else:
            key = type(ev)
        previous = merged.get(key)
        if previous is None:
            merged[key] = ev
        elif isinstance(ev, PapersChanged) and isinstance(previous, PapersChanged):
            merged[key] = PapersChanged(previous.paper_ids | ev.paper_ids, ev.part)
        elif isinstance(ev, EmbeddingsChanged) and isinstance(previous, EmbeddingsChanged):
            merged[key] = EmbeddingsChanged(ev.model_id, previous.paper_ids | ev.paper_ids)
    return list(merged.values())
