"""Papers' library-view features (`domain.library_match.featurize`), kept per term view.

A paper's features depend only on its words and on the corpus statistics of the keyword
index's current state (`search.term_view.TermView`), not on the reader. Ranking a feed
compares a reader's library with every new paper of the window, so the window's features
are computed once and reused by every reader, feed and digest until the index changes
(a new view drops them all), and so is the last candidate pool. Bounded (LRU,
`max_papers`), thread-safe; papers are featurised outside the lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from paperwire.domain.library_match import (
    CandidatePool,
    Features,
    TermStats,
    candidate_pool,
    features_from_rows,
    featurize,
)
from paperwire.search.term_view import TermView

DEFAULT_MAX_PAPERS = 60_000  # ~150 MB at worst (about 200 features of 12 bytes a paper)


def term_stats(view: TermView) -> TermStats:
    return TermStats(view.n_terms, view.df, view.n_docs, view.pair_keys, view.pair_df)


def features_of(view: TermView, paper_ids: Sequence[str]) -> tuple[list[str], Features]:
    """(the papers the view holds, in order; their features), computed now."""
    found, sequences = view.sequences(paper_ids)
    return found, featurize(sequences, term_stats(view))


class FeatureCache:
    def __init__(self, max_papers: int = DEFAULT_MAX_PAPERS) -> None:
        self.max_papers = max_papers
        self._lock = threading.Lock()
        self._view: TermView | None = None
        self._rows: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._pool: tuple[TermView, tuple[str, ...], list[str], CandidatePool] | None = None

    def features(self, view: TermView, paper_ids: Sequence[str]) -> tuple[list[str], Features]:
        """As `features_of`, from the rows kept for this view where there are some."""
        with self._lock:
            if view is not self._view:
                self._view, self._rows = view, OrderedDict()
            known = {pid: row for pid in paper_ids if (row := self._rows.get(pid)) is not None}
        missing = [pid for pid in paper_ids if pid not in known]
        found, fresh = features_of(view, missing)
        computed: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for r, pid in enumerate(found):  # copies: an evicted row frees its memory
            keys, weights = fresh.row(r)
            computed[pid] = (keys.copy(), weights.copy())
        with self._lock:
            if view is self._view:
                for pid in known:
                    if pid in self._rows:
                        self._rows.move_to_end(pid)
                self._rows.update(computed)
                while len(self._rows) > self.max_papers:
                    self._rows.popitem(last=False)
        rows = {**known, **computed}
        ids = [pid for pid in paper_ids if pid in rows]
        return ids, features_from_rows([rows[pid] for pid in ids])

    def pool(self, view: TermView, paper_ids: Sequence[str]) -> tuple[list[str], CandidatePool]:
        """The candidate pool of these papers (`domain.library_match.candidate_pool`); the
        last one asked for is kept: every reader of one window asks for the same."""
        key = tuple(paper_ids)
        with self._lock:
            last = self._pool
        if last is not None and last[0] is view and last[1] == key:
            return last[2], last[3]
        ids, features = self.features(view, paper_ids)
        pool = candidate_pool(features)
        with self._lock:
            self._pool = (view, key, ids, pool)
        return ids, pool


LIBRARY_FEATURES = FeatureCache()  # one per process, shared by its feeds and digests
