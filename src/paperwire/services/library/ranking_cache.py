"""A per-user cache of the For-you ranking (the ranker's picks, not the page).

Ranking one reader's feed runs ~30 query-by-example searches; the answer only changes when
that reader's inputs change (library, marks, upvotes, follows, feed keywords) or when papers
arrive or change. Two mechanisms keep an entry honest, as for the derived indexes:

- **change events, in this process**: the library, mark, vote, follow and feed-settings
  writes record `LibraryChanged(user_id)`; after the commit (never for a rolled-back
  write) `on_changes` drops exactly that reader's entries, so the next request
  recomputes at once; papers written (`PapersChanged`) drop every entry.
  `listen(bus)` subscribes the cache (`wiring.Container` does).
- **a stamp, for other processes** (web workers, CLI, worker, import): each entry is
  stored with one cheap SQL read of the reader's row counts and latest write times in
  those tables plus the papers table's `max(modified_at)` watermark (the one the
  keyword index catches up from). A request whose stamp differs recomputes.

Entries also expire after `max_age_s`, since the ranker's recency factor moves with the
clock. Thread-safe (one lock), bounded (LRU, `max_entries`). Only real rankings are stored:
the caller never puts a fallback (no search service) here.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from sqlalchemy import Engine, func, select

from paperwire.store.accounts_tables import paper_votes
from paperwire.store.events import ChangeEvent, EventBus, LibraryChanged, PapersChanged
from paperwire.store.library_tables import feed_settings, follows, library_items, paper_marks
from paperwire.store.tables import papers

DEFAULT_ENTRIES = 512
DEFAULT_MAX_AGE_S = 600.0


def ranking_stamp(engine: Engine, user_id: int) -> tuple:
    """What the reader's ranking depends on, as one comparable value (one round trip).

    Counts catch removals, latest times/ids catch additions and edits."""

    def of(table, *cols):
        return [select(c).where(table.c.user_id == user_id).scalar_subquery() for c in cols]

    query = select(
        *of(library_items, func.count(), func.max(library_items.c.updated_at)),
        *of(paper_marks, func.count(), func.max(paper_marks.c.created_at)),
        *of(paper_votes, func.count(), func.max(paper_votes.c.created_at)),
        *of(follows, func.count(), func.max(follows.c.id)),
        *of(feed_settings, func.max(feed_settings.c.updated_at)),
        select(func.max(papers.c.modified_at)).scalar_subquery(),
        select(func.count()).select_from(papers).scalar_subquery(),
    )
    with engine.connect() as conn:
        return tuple(conn.execute(query).one())


class RankingCache:
    """LRU of computed rankings, keyed by (user id, ...), each valid for one stamp."""

    def __init__(self, max_entries: int = DEFAULT_ENTRIES,
                 max_age_s: float = DEFAULT_MAX_AGE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, tuple[Hashable, float, Any]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: tuple, stamp: Hashable) -> Any | None:
        """The stored value for `key` if it was computed under this same stamp and is fresh."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != stamp or self._clock() - entry[1] > self.max_age_s:
                if entry is not None:
                    del self._entries[key]
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[2]

    def put(self, key: tuple, stamp: Hashable, value: Any) -> None:
        with self._lock:
            self._entries[key] = (stamp, self._clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def invalidate_user(self, user_id: int) -> None:
        """Drop every entry of this reader (keys start with the user id)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == user_id]:
                del self._entries[key]

    def listen(self, bus: EventBus) -> Callable[[], None]:
        """Drop a reader's entries after each commit that changed their inputs; returns the
        function that stops listening."""
        return bus.subscribe(self.on_changes)

    def on_changes(self, events: Sequence[ChangeEvent]) -> None:
        for ev in events:
            if isinstance(ev, LibraryChanged):
                self.invalidate_user(ev.user_id)
            elif isinstance(ev, PapersChanged) and ev.rows_changed:
                self.invalidate_all()  # papers arrived or changed: every ranking may move

    def invalidate_all(self) -> None:
        """Drop everything (e.g. after papers arrive, when told by a change event)."""
        with self._lock:
            self._entries.clear()
