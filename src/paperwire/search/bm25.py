"""An in-memory BM25 ranker over the papers' title, abstract and authors.

FTS5 and PostgreSQL's tsvector stay the transactional keyword index (written in the same
transaction as the paper; used for phrases, snippets and while this index loads). They
cannot stop early: an OR query scores every paper that holds any query word ("model" is in
82% of the shared papers). This index keeps the postings in numpy arrays in the style of
bm25s, so a query is a few vectorised adds and one partial sort: milliseconds at 80k papers,
the same on both databases.

It scores exactly as FTS5's `bm25()` with equal column weights (k1 = 1.2, b = 0.75, idf
log((N - df + 0.5) / (df + 0.5)) floored at 1e-6, document length over all three fields),
with the same unicode61 + Porter analysis, so both paths rank alike.

A derived index (search.derived), like the vector index: a snapshot under
`data_dir/keyword/` is memory-mapped at start-up, papers whose `modified_at` moved are
re-analysed into a small tail segment (their old postings are masked), a paper count that
no longer matches triggers a rebuild, and a large tail is merged by a rebuild in the
background. Until the first build is ready, `ready` is False and callers use FTS.
Catch-ups read the database under the catch-up lock only; searches read the current
state without a lock, and snapshots are written by a background writer after the swap.
Papers this process commits arrive as change events (PapersChanged): the next search
re-reads exactly those, deleted ones included.

What changed is found from (id, modified_at) pairs alone: every read remembers the pairs
of the papers modified within RECHECK_MARGIN of the read's start (a transaction still open
then may commit such rows later), and the next look re-lists the papers modified since
that read started minus the margin, and re-reads only the pairs it does not know.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, func, select

from paperwire.search.arrays import sorted_distinct, top_k
from paperwire.search.bm25_segment import (
    Segment,
    build_segment,
    idf,
    proximity_bonus,
    saturation,
)
from paperwire.search.bm25_snapshot import load_snapshot, snapshot_folder, write_snapshot
from paperwire.search.derived import DerivedState, SnapshotWriter
from paperwire.search.term_view import TermView
from paperwire.search.text_analysis import Analyzer, document_text
from paperwire.store.db import DataVersion, aware_utc
from paperwire.store.events import PapersChanged, bus_for
from paperwire.store.tables import papers

log = logging.getLogger(__name__)

# The best BM25 candidates re-ranked with term proximity (adjacent query-word pairs).
PROXIMITY_DEPTH = 100
RECHECK_MARGIN = timedelta(seconds=120)  # longest a write transaction may stay open
FULL_CHECK_INTERVAL_S = 30.0  # count check (deleted papers) and margin re-read
PAIR_CHUNK = 10_000  # papers per chunk while counting adjacent term pairs
SYNC_BUILD_MAX = 20_000  # up to this many papers the first build runs inline (< 2 s)
RECENT_SCORES = 4  # score vectors of the last queries kept for a repeated ask
GATHER_MAX = 5_000  # up to this many candidates are scored by look-ups, not a full pass

@dataclass(frozen=True)
class _State:
    """What a search reads; replaced as a whole, never changed in place."""

    segment: Segment
    rows: dict[str, int]  # paper id -> live document number (segment or tail)
    tail_ids: tuple[str, ...] = ()
    tail_postings: dict[str, tuple[tuple[int, float], ...]] = field(default_factory=dict)
    tail_hashes: dict[str, int] = field(default_factory=dict)
    tail_tokens: dict[int, tuple[str, ...]] = field(default_factory=dict)  # doc -> stems
    dead: np.ndarray | None = None  # bool per document: replaced or deleted
    live: int = 0

    @property
    def size(self) -> int:
        return len(self.segment.ids) + len(self.tail_ids)

    def paper_id(self, doc: int) -> str:
        n = len(self.segment.ids)
        return self.segment.ids[doc] if doc < n else self.tail_ids[doc - n]


@dataclass(frozen=True, eq=False)
class _Term:
    """A query stem as scored: its idf, its weight (idf times the query's count of it),
    its postings."""

    stem: str
    idf: float
    weight: np.float32
    main: tuple[np.ndarray, np.ndarray] | None
    tail: tuple[tuple[int, float], ...]


class Bm25Index:
    """Top-k BM25 over all papers, kept in step with the database."""

    def __init__(
        self,
        engine: Engine,
        *,
        snapshot_dir: Path | None = None,
        tail_merge_docs: int = 2_000,
    ) -> None:
        self.engine = engine
        self.snapshot_dir = snapshot_dir
        self.tail_merge_docs = tail_merge_docs
        self.analyzer = Analyzer()
        self._derived: DerivedState[_State | None] = DerivedState(None)
        self._snapshots = snapshot_folder(snapshot_dir) if snapshot_dir is not None else None
        self._writer: SnapshotWriter[tuple] = SnapshotWriter(self._save_snapshot,
                                                             "keyword-snapshot")
        self._lock = threading.Lock()  # guards _build_thread and _changed_ids only
        self._build_thread: threading.Thread | None = None
        self._changed_ids: set[str] = set()  # from change events, not yet re-read
        self._read_at: datetime | None = None  # when the read behind the state began
        self._recent: dict[str, datetime] = {}  # id -> modified_at within the margin of it
        self._seen_max: datetime | None = None
        self._data_version = DataVersion(engine)
        self._seen_version: int | None = None  # the data version the last look began at
        self._full_check_at = 0.0
        self.last_error: str | None = None
        self._terms_by_id: tuple[Segment, list[str]] | None = None
        self._pairs: tuple[Segment, bytes, np.ndarray, np.ndarray] | None = None
        self._pairs_lock = threading.Lock()
        self._term_view: tuple[_State, tuple[str, ...], TermView] | None = None
        # (state, query stems, scores) of the last few queries, newest first.
        self._recent_scores: list[tuple[_State, tuple[str, ...], np.ndarray]] = []
        bus_for(engine).subscribe(self._on_changes)

    @property
    def _state(self) -> _State | None:
        return self._derived.current

    # ---- public API -------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._state is not None

    def describe(self) -> str:
        state = self._state
        if state is None:
            return "in-memory BM25 index: building"
        return (
            f"in-memory BM25 index: {state.live} papers, {len(state.segment.vocab)} terms, "
            f"{len(state.segment.docs)} postings"
        )

    def start(self) -> None:
        """Load the snapshot, or build: inline for small databases, else in the background."""
        if self._state is not None or self._build_thread is not None:
            return
        with self._derived.catching_up():
            if self._state is not None or self._build_thread is not None:
                return
            if self._load_snapshot():
                return
            with self.engine.connect() as conn:
                n_papers = conn.execute(select(func.count()).select_from(papers)).scalar_one()
            if n_papers <= SYNC_BUILD_MAX:
                self._install(*self._build())
                self._submit_snapshot()
                return
            with self._lock:
                self._build_thread = threading.Thread(
                    target=self._build_in_background, name="bm25-build", daemon=True
                )
                self._build_thread.start()

    def wait_snapshots(self, timeout: float | None = None) -> bool:
        """Until the snapshots handed to the writer are on disk (tests, CLI)."""
        return self._writer.wait(timeout)

    def _on_changes(self, events) -> None:
        ids = set()
        for ev in events:
            if isinstance(ev, PapersChanged) and ev.rows_changed:
                ids |= ev.paper_ids
        if ids:
            with self._lock:
                self._changed_ids |= ids

    def wait_ready(self, timeout: float | None = None) -> bool:
        self.start()
        thread = self._build_thread
        if thread is not None:
            thread.join(timeout)
        if self._state is not None:
            self.refresh()
        return self._state is not None

    def search(
        self,
        words: Sequence[str],
        k: int,
        *,
        candidates: Iterable[str] | None = None,
        proximity: bool = True,
        refresh: bool = True,
    ) -> tuple[list[tuple[str, float]], int]:
        """The k best (paper id, score) for these query words, and how many papers match.

        Words are query words as the query parser gives them (lower-cased, not stemmed,
        in query order); `candidates` restricts the result to these paper ids. Scores are
        BM25, plus (with `proximity`) a bonus for query words that stand next to each other
        in the paper, computed for the best PROXIMITY_DEPTH papers by BM25. Call only when
        `ready`. `refresh=False` for a follow-up within one request: the index caught up
        with the database at the request's first search already (one look, not one a call).
        """
        if refresh:
            self.refresh()
        state = self._state
        if state is None:
            raise RuntimeError("the BM25 index is not built yet")
        stems = self.analyzer.stems(list(words))
        terms = self._query_terms(state, stems)
        idfs = {t.stem: t.idf for t in terms}
        rows = None
        if candidates is not None:
            rows = sorted_distinct(np.fromiter(
                (r for r in map(state.rows.get, candidates) if r is not None), dtype=np.int64))
        docs, scores = None, None
        cached = self._cached_scores(state, stems)
        if cached is None and rows is not None and len(rows) <= GATHER_MAX:
            docs, scores = rows, self._scores_of(state, terms, rows)  # a few papers: look-ups
        if scores is None:
            every = cached if cached is not None else self._scores(state, stems, terms)
            docs, scores = (None, every) if rows is None else (rows, every[rows])
        total = int(np.count_nonzero(scores))
        if total == 0 or k <= 0:
            return [], total
        pairs = {
            (a, b): min(idfs[a], idfs[b])
            for a, b in zip(stems, stems[1:], strict=False)
            if a != b and a in idfs and b in idfs
        }
        pool = min(total, max(k, PROXIMITY_DEPTH) if proximity and pairs else k)
        picked = top_k(scores, pool)
        best = (picked if docs is None else docs[picked]).tolist()
        final = dict(zip(best, scores[picked].tolist(), strict=True))
        if proximity and pairs:
            for d, extra in zip(best, self._proximity(state, best, pairs), strict=True):
                final[d] += float(extra)
        # Ties break by paper id, descending (newer arXiv ids first), for stable pages.
        best.sort(key=state.paper_id, reverse=True)
        best.sort(key=lambda d: -final[d])  # stable: equal scores stay newest id first
        return [(state.paper_id(d), final[d]) for d in best[:k]], total

    @staticmethod
    def _query_terms(state: _State, stems: list[str]) -> list[_Term]:
        """The query's distinct stems that some paper holds, in query order; a stem the
        query repeats weighs that many times."""
        n_docs = max(1, state.live)
        terms = []
        for stem, times in Counter(stems).items():
            main = state.segment.postings(stem)
            tail = state.tail_postings.get(stem, ())
            df = (0 if main is None else len(main[0])) + len(tail)
            if df:
                weight = idf(n_docs, df)
                terms.append(_Term(stem, weight, np.float32(weight * times), main, tail))
        return terms

    def _cached_scores(self, state: _State, stems: list[str]) -> np.ndarray | None:
        key = tuple(stems)
        for entry in self._recent_scores:
            if entry[0] is state and entry[1] == key:
                return entry[2]
        return None

    def _scores(self, state: _State, stems: list[str], terms: list[_Term]) -> np.ndarray:
        """Every paper's BM25 score for these query terms (dead papers 0): one pass over
        each term's postings. The last few are kept: a search asks again for the same
        words (the count and the page, the keyword scores of the semantic hits)."""
        scores = np.zeros(state.size, dtype=np.float32)
        for t in terms:
            if t.main is not None:
                # Index with intp: numpy would convert the int32 postings twice (read, write).
                docs = t.main[0].astype(np.intp)
                scores[docs] += t.weight * t.main[1]
            for doc, w in t.tail:
                scores[doc] += t.weight * w
        if state.dead is not None:
            scores[state.dead] = 0.0
        scores.flags.writeable = False  # shared by the searches that ask again
        self._recent_scores = [(state, tuple(stems), scores),
                               *self._recent_scores[:RECENT_SCORES - 1]]
        return scores

    @staticmethod
    def _scores_of(state: _State, terms: list[_Term], docs: np.ndarray) -> np.ndarray:
        """The BM25 scores of these papers (sorted, distinct document numbers), by looking
        each term up in their postings: the same float32 sums, in the same order, as
        `_scores` makes for them."""
        out = np.zeros(len(docs), dtype=np.float32)
        if not len(docs):
            return out
        where = {int(d): i for i, d in enumerate(docs)} if any(t.tail for t in terms) else {}
        for t in terms:
            if t.main is not None and len(t.main[0]):
                at = np.minimum(np.searchsorted(t.main[0], docs), len(t.main[0]) - 1)
                hit = t.main[0][at] == docs
                out[hit] += t.weight * t.main[1][at[hit]]
            for doc, w in t.tail:
                if (i := where.get(doc)) is not None:
                    out[i] += t.weight * w
        if state.dead is not None:
            out[state.dead[docs]] = 0.0
        return out

    def document_frequencies(self, stems: Iterable[str]) -> tuple[dict[str, int], int]:
        """(stem -> how many live papers hold it, live papers); for query term selection.

        Call only when `ready`. Counts include papers replaced since the last merge, as
        `search`'s idf does.
        """
        state = self._state
        if state is None:
            raise RuntimeError("the BM25 index is not built yet")
        counts = {}
        for stem in stems:
            main = state.segment.postings(stem)
            counts[stem] = (0 if main is None else len(main[0])) + len(
                state.tail_postings.get(stem, ()))
        return counts, max(1, state.live)

    def term_view(self, *, skip: frozenset[str] = frozenset()) -> TermView | None:
        """The papers' analysed words as term ids of the current state (the stems in
        `skip`, e.g. stopwords, left out), with each term's and each adjacent pair's
        document frequency: one object per state, so what callers derive from it can be
        kept until the index changes. Catches up first, as a search does; None until
        `ready`. Counts include papers replaced since the last merge (as `search`'s idf
        does); pairs count segment papers only (at most `tail_merge_docs` are not)."""
        if self._state is None:
            return None
        self.refresh()
        state = self._state
        key = tuple(sorted(skip))
        cached = self._term_view
        if cached is not None and cached[0] is state and cached[1] == key:
            return cached[2]
        view = self._build_term_view(state, skip)
        self._term_view = (state, key, view)
        return view

    def _build_term_view(self, state: _State, skip: frozenset[str]) -> TermView:
        segment = state.segment
        vocab = segment.vocab
        v = len(vocab)
        extra: dict[str, int] = {}  # stems only tail papers have
        for stems in state.tail_tokens.values():
            for stem in stems:
                if stem not in vocab and stem not in extra:
                    extra[stem] = v + len(extra)
        n = v + len(extra)
        skip_ids = np.array(sorted(i for s in skip if (i := vocab.get(s, extra.get(s)))
                                   is not None), dtype=np.int64)
        skipped = np.zeros(n, dtype=bool)
        skipped[skip_ids] = True
        df = np.zeros(n, dtype=np.int64)
        df[:v] = np.diff(segment.indptr)
        for stem, postings in state.tail_postings.items():
            df[vocab[stem] if stem in vocab else extra[stem]] += len(postings)
        pair_keys, pair_df = self._pair_table(segment, skip_ids[skip_ids < v])
        if extra:  # the table is keyed a * v + b: re-key it for the larger vocabulary
            pair_keys = (pair_keys // v) * n + pair_keys % v
        n_segment = len(segment.ids)
        tokens, offsets, rows, tail = segment.tokens, segment.offsets, state.rows, state.tail_tokens

        def sequence_of(paper_id: str) -> np.ndarray | None:
            doc = rows.get(paper_id)
            if doc is None:
                return None
            if doc < n_segment:
                seq = np.asarray(tokens[offsets[doc]:offsets[doc + 1]], dtype=np.int64)
            else:
                seq = np.array([vocab[s] if s in vocab else extra[s] for s in tail.get(doc, ())],
                               dtype=np.int64)
            return seq[~skipped[seq]] if len(skip_ids) else seq

        return TermView([*self._terms(segment), *extra], np.maximum(df, 1),
                        max(1, state.live), pair_keys, pair_df, sequence_of)

    def _pair_table(self, segment: Segment, skip_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sorted a * vocab + b, papers holding the pair) for the adjacent term pairs (once
        the `skip_ids` terms are left out) found in two segment papers or more; built once
        per segment, in chunks of papers."""
        skip_key = skip_ids.tobytes()
        cached = self._pairs
        if cached is not None and cached[0] is segment and cached[1] == skip_key:
            return cached[2], cached[3]
        with self._pairs_lock:
            cached = self._pairs
            if cached is not None and cached[0] is segment and cached[1] == skip_key:
                return cached[2], cached[3]
            v = len(segment.vocab)
            n_docs = len(segment.ids)
            parts_keys, parts_df = [], []
            for start in range(0, n_docs, PAIR_CHUNK):
                end = min(n_docs, start + PAIR_CHUNK)
                lo, hi = int(segment.offsets[start]), int(segment.offsets[end])
                tokens = np.asarray(segment.tokens[lo:hi], dtype=np.int64)
                owner = np.repeat(np.arange(end - start, dtype=np.int64),
                                  np.diff(segment.offsets[start:end + 1]))
                if len(skip_ids):
                    kept = ~np.isin(tokens, skip_ids)
                    tokens, owner = tokens[kept], owner[kept]
                if len(tokens) < 2:
                    continue
                same = owner[:-1] == owner[1:]
                keys = tokens[:-1][same] * v + tokens[1:][same]
                per_doc = np.unique(owner[:-1][same] * (v * v) + keys) % (v * v)
                k, c = np.unique(per_doc, return_counts=True)
                parts_keys.append(k)
                parts_df.append(c)
            if parts_keys:
                keys, inverse = np.unique(np.concatenate(parts_keys), return_inverse=True)
                df = np.bincount(inverse, weights=np.concatenate(parts_df)).astype(np.int64)
                keep = df >= 2
                keys, df = keys[keep], df[keep]
            else:
                keys = df = np.zeros(0, np.int64)
            self._pairs = (segment, skip_key, keys, df)
            return keys, df

    def _terms(self, segment: Segment) -> list[str]:
        """The segment's terms by id (built once per segment)."""
        cached = self._terms_by_id
        if cached is None or cached[0] is not segment:
            terms = [""] * len(segment.vocab)
            for term, i in segment.vocab.items():
                terms[i] = term
            cached = self._terms_by_id = (segment, terms)
        return cached[1]

    @staticmethod
    def _proximity(
        state: _State, docs: list[int], pairs: dict[tuple[str, str], float]
    ) -> np.ndarray:
        segment = state.segment
        n = len(segment.ids)
        bonus = np.zeros(len(docs), dtype=np.float32)
        in_segment = [i for i, d in enumerate(docs) if d < n]
        if in_segment:
            bonus[in_segment] = proximity_bonus(segment, [docs[i] for i in in_segment], pairs)
        for i, d in enumerate(docs):
            if d >= n:  # a tail paper: its stems are kept as text
                stems = state.tail_tokens.get(d, ())
                found = Counter(zip(stems, stems[1:], strict=False))
                for pair, weight in pairs.items():
                    if tf := found.get(pair, 0):
                        length = np.array([len(stems)])
                        bonus[i] += weight * float(saturation(np.array([tf]), length,
                                                              segment.avgdl)[0])
        return bonus

    def refresh(self) -> int:
        """Catch up with papers added or changed since the last look; returns how many."""
        if self._state is None:
            return 0
        # A search waits for a catch-up running in another thread only when this
        # process committed papers the state does not show yet (read your own writes).
        with self._derived.catching_up(wait=bool(self._changed_ids)) as mine:
            return self._catch_up() if mine else 0

    def _catch_up(self) -> int:
        """Caller holds the catch-up lock: read, build the next state, swap it in.

        Skipped while the database's data version (SQLite) is the one the last look
        began at, no full check is due and no change event came.
        """
        version = self._data_version()  # read before the data, so no later commit is missed
        with self._lock:
            events, self._changed_ids = self._changed_ids, set()
        if (version is not None and version == self._seen_version and not events
                and self._seen_max is not None
                and time.monotonic() - self._full_check_at < FULL_CHECK_INTERVAL_S):
            return 0
        changed = self._look(events)
        self._seen_version = version
        return changed

    def _look(self, events: set[str]) -> int:
        with self.engine.connect() as conn:
            newest = conn.execute(select(func.max(papers.c.modified_at))).scalar()
        now = time.monotonic()
        full_check = now - self._full_check_at >= FULL_CHECK_INTERVAL_S
        if newest == self._seen_max and not full_check and not events:
            return 0
        changed = 0
        if events and newest == self._seen_max:  # e.g. deletions: no row moved
            changed = self._apply_changes(self._state, sorted(events))
        elif newest != self._seen_max or events:  # look for changes only when rows moved
            read_at = aware_utc(datetime.now(UTC))
            since = self._read_at - RECHECK_MARGIN if self._read_at else None
            # A count first: during a big import, listing every row on each search
            # would cost more than the rebuild it leads to.
            unknown_at_least = self._count_since(since) - len(self._recent)
            listed = [] if unknown_at_least > self.tail_merge_docs else (
                self._modified_since(since))
            stale = sorted({pid for pid, modified in listed
                            if self._recent.get(pid) != modified} | events)
            if unknown_at_least > self.tail_merge_docs or len(stale) > self.tail_merge_docs:
                # A bulk import: rebuild in the background rather than analyse it all
                # inside this search; the current state serves until then.
                self._seen_max = newest
                self._schedule_rebuild()
            else:
                changed = self._apply_changes(self._state, stale)
                self._read_at, self._seen_max = read_at, newest
                self._recent = _recent_pairs(listed, read_at)
        if full_check:
            self._full_check_at = now
            with self.engine.connect() as conn:
                stored = conn.execute(select(func.count()).select_from(papers)).scalar_one()
            if stored != self._state.live:
                log.info("keyword index out of step (%d vs %d papers): rebuilding",
                         self._state.live, stored)
                self._schedule_rebuild()
        if len(self._state.tail_ids) > self.tail_merge_docs:
            self._schedule_rebuild()
        return changed

    def _modified_since(self, since: datetime | None) -> list[tuple[str, datetime]]:
        """(id, modified_at) of the papers modified since `since` (the last read's start
        less the margin: those it may have missed); an index range scan, no text."""
        query = select(papers.c.id, papers.c.modified_at)
        if since is not None:
            query = query.where(papers.c.modified_at >= since)
        with self.engine.connect() as conn:
            return [(pid, aware_utc(modified)) for pid, modified in conn.execute(query)]

    def _count_since(self, since: datetime | None) -> int:
        query = select(func.count()).select_from(papers)
        if since is not None:
            query = query.where(papers.c.modified_at >= since)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # ---- building ---------------------------------------------------------------------

    def _read_papers(
        self, ids: Sequence[str] | None = None
    ) -> Iterator[tuple[str, str, int, datetime]]:
        """(id, text, crc32 of text, modified_at) of these papers, or of all of them."""
        query = select(
            papers.c.id, papers.c.title, papers.c.abstract, papers.c.authors_text,
            papers.c.modified_at,
        )
        if ids is not None:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                with self.engine.connect() as conn:
                    rows = conn.execute(query.where(papers.c.id.in_(chunk))).all()
                for pid, title, abstract, authors, modified in rows:
                    text = document_text(title, abstract, authors)
                    yield pid, text, zlib.crc32(text.encode()), aware_utc(modified)
            return
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=5_000).execute(query)
            for pid, title, abstract, authors, modified in result:
                text = document_text(title, abstract, authors)
                yield pid, text, zlib.crc32(text.encode()), aware_utc(modified)

    def _build(self) -> tuple[_State, datetime, dict[str, datetime]]:
        """A fresh state from every paper, when its read began, and the recent pairs."""
        started = time.perf_counter()
        read_at = aware_utc(datetime.now(UTC))
        listed: list[tuple[str, datetime]] = []

        def docs() -> Iterator[tuple[str, str, int]]:
            for pid, text, digest, modified in self._read_papers():
                listed.append((pid, modified))
                yield pid, text, digest

        segment = build_segment(docs(), self.analyzer)
        state = _State(segment, {pid: i for i, pid in enumerate(segment.ids)},
                       live=len(segment.ids))
        log.info("built the keyword index over %d papers in %.1f s",
                 len(segment.ids), time.perf_counter() - started)
        return state, read_at, _recent_pairs(listed, read_at)

    def _build_in_background(self) -> None:
        try:
            built = self._build()  # no lock held: searches and catch-ups go on meanwhile
            with self._derived.catching_up():
                self._install(*built)
                self._submit_snapshot()  # what the segment saw, before any later catch-up
        except Exception as exc:  # searches keep using FTS; say why once
            self.last_error = str(exc) or type(exc).__name__
            log.exception("could not build the keyword index")
        finally:
            with self._lock:
                self._build_thread = None

    def _schedule_rebuild(self) -> None:
        """Rebuild in the background; the current state keeps serving."""
        with self._lock:
            if self._build_thread is None:
                self._build_thread = threading.Thread(
                    target=self._build_in_background, name="bm25-rebuild", daemon=True
                )
                self._build_thread.start()

    def _install(
        self, state: _State, read_at: datetime | None, recent: dict[str, datetime]
    ) -> None:
        self._derived.swap(state)
        self._read_at, self._recent = read_at, recent
        self._seen_max = None  # the next refresh looks for what the read missed
        self._full_check_at = time.monotonic()

    def _apply_changes(self, state: _State, ids: Sequence[str]) -> int:
        """Re-analyse these papers into the tail; those no longer stored die (caller
        holds the catch-up lock)."""
        rows = dict(state.rows)
        tail_ids = list(state.tail_ids)
        postings = {k: list(v) for k, v in state.tail_postings.items()}
        hashes = dict(state.tail_hashes)
        tail_tokens = dict(state.tail_tokens)
        dead_docs: list[int] = []
        added = 0
        avgdl = state.segment.avgdl
        found: set[str] = set()
        for pid, text, digest, _modified in self._read_papers(ids) if ids else ():
            found.add(pid)
            old = rows.get(pid)
            if hashes.get(pid) == digest or (
                pid not in hashes and old is not None and old < len(state.segment.ids)
                and int(state.segment.digests[old]) == digest
            ):
                continue  # modified, but not its text (votes, links)
            if old is not None:
                dead_docs.append(old)
            stems = self.analyzer.analyze(text)
            doc = len(state.segment.ids) + len(tail_ids)
            tail_ids.append(pid)
            rows[pid] = doc
            hashes[pid] = digest
            tail_tokens[doc] = tuple(stems)
            if stems:
                unique, counts = np.unique(np.array(stems), return_counts=True)
                weights = saturation(counts, np.full(len(counts), len(stems)), avgdl)
                for stem, w in zip(unique.tolist(), weights.tolist(), strict=True):
                    postings.setdefault(stem, []).append((doc, w))
            added += 1
        for pid in set(ids) - found:  # deleted
            if (old := rows.pop(pid, None)) is not None:
                dead_docs.append(old)
                hashes.pop(pid, None)
                added += 1
        if not added:
            return 0
        size = len(state.segment.ids) + len(tail_ids)
        dead = np.zeros(size, dtype=bool)
        if state.dead is not None:
            dead[: len(state.dead)] = state.dead
        if dead_docs:
            dead[np.asarray(dead_docs, dtype=np.int64)] = True
        self._derived.swap(_State(
            state.segment, rows, tuple(tail_ids),
            {k: tuple(v) for k, v in postings.items()}, hashes, tail_tokens,
            dead if dead.any() else None, len(rows),
        ))
        return added

    # ---- snapshot ---------------------------------------------------------------------

    def _database_name(self) -> str:
        """Which database a snapshot mirrors (the URL without its password)."""
        return self.engine.url.render_as_string(hide_password=True)

    def _load_snapshot(self) -> bool:
        if self._snapshots is None:
            return False
        loaded = load_snapshot(self._snapshots, self._database_name())
        if loaded is None:
            return False
        segment, read_at, recent = loaded
        ids = segment.ids
        self._install(_State(segment, {pid: i for i, pid in enumerate(ids)}, live=len(ids)),
                      read_at, recent)
        self._full_check_at = 0.0  # verify the count on the first search
        log.info("loaded the keyword index snapshot: %d papers", len(ids))
        return True

    def _submit_snapshot(self) -> None:
        """Hand the state just installed to the snapshot writer (it writes after the
        swap, with no index lock held). Call it under the catch-up lock, right after
        `_install`: the segment is saved with the read time and pairs of its own read."""
        if self._snapshots is not None and self._state is not None:
            self._writer.submit((self._state.segment, self._read_at, dict(self._recent)))

    def _save_snapshot(self, snapshot: tuple) -> None:
        segment, read_at, recent = snapshot
        assert self._snapshots is not None
        write_snapshot(self._snapshots, self._database_name(), segment, read_at, recent)


def _recent_pairs(
    listed: Iterable[tuple[str, datetime | None]], read_at: datetime
) -> dict[str, datetime]:
    """The pairs a later look must not mistake for changes: those within the margin."""
    since = read_at - RECHECK_MARGIN
    return {pid: m for pid, m in listed if m is not None and m >= since}
