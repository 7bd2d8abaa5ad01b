"""The in-process vector index: exact cosine search over stored embeddings.

Vectors live in the database (`paper_embeddings`); this index mirrors one model's vectors
in a float32 matrix. It is a derived index (search.derived): at start-up it memory-maps
its snapshot under `data_dir/vectors/` and then catches up from the database, so it
loads in milliseconds and is never stale: new or re-embedded papers are picked up
incrementally (by `created_at`), and a count check triggers a full reload when rows were
deleted. Embeddings this process commits arrive as change events (the next search
catches up at once); those of other processes within `refresh_interval_s`.

States are never changed in place: a catch-up that replaces vectors copies the matrix
first (appended rows go past the end of what any state shows), and the candidate
proposer of a state (search.ann: an HNSW graph, with an int8 scan for deep searches up to
150k vectors; "graph" below) is never added to; rows appended or replaced since it was
built are scored exactly on every search, and it is refreshed (a copy, updated, swapped
in) in the background once there are many of them.

`search(..., candidates=...)` takes PAPER IDS (strings), not row positions.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from paperwire.search.ann import Proposer, usearch_available
from paperwire.search.arrays import small_product, sorted_distinct, top_k
from paperwire.search.derived import DerivedState, SnapshotFolder, SnapshotWriter
from paperwire.store.embeddings import (
    count_embeddings,
    count_papers,
    iter_vectors,
    newest_embedding,
)
from paperwire.store.events import EmbeddingsChanged, bus_for

log = logging.getLogger(__name__)

# Rows committed slightly out of created_at order are still caught by re-reading this window.
WATERMARK_MARGIN = timedelta(seconds=120)
SNAPSHOT_VERSION = 2
# From this many vectors on, a proposer (search.ann: an HNSW graph, and up to 150k vectors
# an int8 scan for deep searches) names candidates that are re-scored exactly; exact
# float32 below. Exact float32 search over 80k vectors takes ~21 ms on one core, the int8
# scan ~3.5 (on 256 axes), the graph ~3 for 400 proposals and ~9-11 for 1,200.
# PAPERWIRE_ANN_MIN_VECTORS overrides it (0 switches the graph off).
ANN_MIN_VECTORS = 50_000
# Rows outside the graph (appended or replaced since it was built) past which it is updated.
GRAPH_UPDATE_ROWS = 1_024


@dataclass(frozen=True, slots=True)
class _State:
    """What a search reads; replaced as a whole, never changed in place."""

    ids: tuple[str, ...]
    rows: dict[str, int]
    matrix: np.ndarray  # (n, dim) float32, L2-normalised rows
    # The candidate proposer (ann.py: an HNSW graph, and an int8 scan for deep searches
    # up to 150k rows) over rows [0, graph_rows) as they were when built.
    graph: Proposer | None = None
    graph_rows: int = 0
    # Rows replaced since the graph was built -> the catch-up generation that replaced them.
    stale: dict[int, int] = field(default_factory=dict)
    generation: int = 0
    lineage: int = 0  # changes with every full reload (row numbers start over)

    def outside_graph(self) -> int:
        return len(self.ids) - self.graph_rows + len(self.stale)


def snapshot_stem(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", model_id)[:120]


class VectorIndex:
    """Exact cosine search over one model's stored embeddings, kept in step with the DB."""

    backend = "numpy"

    def __init__(
        self,
        engine: Engine,
        model_id: str,
        dim: int,
        *,
        snapshot_dir: Path | None = None,
        refresh_interval_s: float = 2.0,
        ann_min_vectors: int | None = ANN_MIN_VECTORS,
    ) -> None:
        self.engine = engine
        self.model_id = model_id
        self.dim = int(dim)
        self.snapshot_dir = snapshot_dir
        self.refresh_interval_s = refresh_interval_s
        self._derived: DerivedState[_State] = DerivedState(
            _State((), {}, np.zeros((0, self.dim), dtype=np.float32)))
        stem = snapshot_stem(model_id)  # legacy: the flat files of snapshot version 1
        self._snapshots = (SnapshotFolder(snapshot_dir, stem,
                                          legacy=re.escape(stem) + r"\.\d+-\d+\.")
                           if snapshot_dir is not None else None)
        self._writer: SnapshotWriter[_State] = SnapshotWriter(self._save_snapshot,
                                                              "vector-snapshot")
        # Catch-up bookkeeping: touched only by the thread holding the catch-up lock.
        self._buffer: np.ndarray | None = None  # owned storage; rows past len(ids) are free
        self._watermark: datetime | None = None
        self._seen_newest: datetime | None = None
        self._snapshot_rows = 0
        self._meta_outdated = False
        self._checked_at = 0.0
        self._coverage: tuple[int, int] = (0, 0)
        self._loaded = False
        self._dirty = False  # a change event of this process arrived
        self.ann_min_vectors = ann_min_vectors if usearch_available() else None
        self._graph_thread: threading.Thread | None = None
        self._graph_lock = threading.Lock()
        bus_for(engine).subscribe(self._on_changes)

    @property
    def _state(self) -> _State:
        return self._derived.current

    # ---- public API -------------------------------------------------------------------

    def describe(self) -> str:
        graph = self._state.graph
        kind = ("exact (numpy float32)" if graph is None
                else "HNSW (usearch) + exact re-scoring" if graph.scan is None
                else "HNSW (usearch) and int8 scan (deep searches) + exact re-scoring")
        return f"in-process {kind} index for {self.model_id}: {len(self)} vectors"

    def __len__(self) -> int:
        self._ensure_loaded()
        return len(self._state.ids)

    def search(
        self, query: np.ndarray, k: int, *, candidates: Sequence[str] | np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        """The k papers most similar to `query` (cosine), best first.

        `candidates`, when given, is a collection of paper ids to restrict the search to;
        ids without an embedding are ignored.
        """
        self.maybe_refresh()
        state = self._state
        if k <= 0 or not state.ids:
            return []
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.dim:
            raise ValueError(f"query has {q.shape[0]} dimensions, the index has {self.dim}")
        if candidates is None:
            if state.graph is not None:
                # Graph proposals + rows the graph does not know (appended, replaced since
                # it was built), all re-scored exactly.
                proposed = state.graph.propose(q, k)
                rows = np.concatenate([
                    proposed[(proposed >= 0) & (proposed < state.graph_rows)],
                    np.arange(state.graph_rows, len(state.ids)),
                    np.fromiter(state.stale, dtype=np.int64, count=len(state.stale)),
                ])
                return self._score_rows(state, rows, q, k)
            scores = state.matrix @ q
            best = top_k(scores, k)
            ids = state.ids
            return [(ids[i], v) for i, v in zip(best.tolist(), scores[best].tolist(),
                                                strict=True)]
        rows = np.fromiter(
            (r for r in (state.rows.get(str(c)) for c in candidates) if r is not None),
            dtype=np.int64,
        )
        if rows.size == 0:
            return []
        return self._score_rows(state, rows, q, k)

    @staticmethod
    def _score_rows(
        state: _State, rows: np.ndarray, q: np.ndarray, k: int
    ) -> list[tuple[str, float]]:
        rows = sorted_distinct(rows.astype(np.int64, copy=False))
        scores = small_product(state.matrix[rows], q)
        best = top_k(scores, k)
        ids = state.ids
        return [(ids[r], v) for r, v in zip(rows[best].tolist(), scores[best].tolist(),
                                            strict=True)]

    def build_ann(self, *, wait: bool = True) -> bool:
        """Build (or bring up to date) the candidate proposer (HNSW graph, int8 scan) if
        the index is big enough; True when one is in use."""
        self._ensure_loaded()
        if self.ann_min_vectors is None or len(self._state.ids) < self.ann_min_vectors:
            return False
        with self._graph_lock:
            state = self._state
            if self._graph_thread is None and (state.graph is None or state.outside_graph() > 0
                                               or not state.graph.fits(len(state.ids))):
                self._graph_thread = threading.Thread(
                    target=self._update_graph, name="ann-build", daemon=True)
                self._graph_thread.start()
            thread = self._graph_thread
        if wait and thread is not None:
            thread.join()
        return self._state.graph is not None

    def wait_snapshots(self, timeout: float | None = None) -> bool:
        """Until the snapshots handed to the writer are on disk (tests, CLI)."""
        return self._writer.wait(timeout)

    def vector_for(self, paper_id: str) -> np.ndarray | None:
        self.maybe_refresh()
        state = self._state
        row = state.rows.get(paper_id)
        return None if row is None else np.array(state.matrix[row], dtype=np.float32)

    def vectors_for(self, paper_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of these papers that have one, all from one state (one freshness
        check for the lot, not one per paper)."""
        self.maybe_refresh()
        state = self._state
        found = [(pid, state.rows[pid]) for pid in dict.fromkeys(paper_ids) if pid in state.rows]
        if not found:
            return {}
        matrix = np.array(state.matrix[[row for _, row in found]], dtype=np.float32)
        return {pid: matrix[i] for i, (pid, _) in enumerate(found)}

    def coverage(self) -> tuple[int, int]:
        """(papers with an embedding for this model, all papers)."""
        self.maybe_refresh()
        return self._coverage

    def maybe_refresh(self) -> None:
        if (not self._loaded or self._dirty
                or time.monotonic() - self._checked_at >= self.refresh_interval_s):
            # Wait for another thread's catch-up only before the first load, or when this
            # process committed embeddings a search must see (read your own writes).
            self.refresh(wait=not self._loaded or self._dirty)

    def refresh(self, *, force: bool = False, wait: bool = True) -> int:
        """Catch up with the database; returns how many vectors were added or replaced.

        With `wait=False` a refresh that another thread is running already is skipped
        (searches go on with the current state).
        """
        with self._derived.catching_up(wait=wait or force) as mine:
            if not mine:
                return 0
            if not self._loaded:
                self._load_snapshot()
                self._loaded = True
            self._dirty = False
            changed = self._catch_up(full=force)
            self._checked_at = time.monotonic()
        state = self._state
        if self.ann_min_vectors is not None and len(state.ids) >= self.ann_min_vectors and (
                state.graph is None or state.outside_graph() >= GRAPH_UPDATE_ROWS):
            self.build_ann(wait=False)
        return changed

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.refresh()

    def _on_changes(self, events) -> None:
        if any(isinstance(e, EmbeddingsChanged) and e.model_id == self.model_id
               for e in events):
            self._dirty = True

    # ---- loading and catching up (caller holds the catch-up lock) ----------------------

    def _catch_up(self, *, full: bool) -> int:
        since = None if full or self._watermark is None else self._watermark - WATERMARK_MARGIN
        if since is not None:
            # Nothing new and nothing deleted: skip re-reading the margin window (after a
            # bulk `paperwire embed` that window can hold every vector).
            with self.engine.connect() as conn:
                newest = newest_embedding(conn, self.model_id)
                stored = count_embeddings(conn, self.model_id)
                if newest == self._seen_newest and stored == len(self._state.ids):
                    self._coverage = (stored, count_papers(conn))
                    self._save_if_due(0)
                    return 0
            self._seen_newest = newest
        else:
            with self.engine.connect() as conn:  # before the read: a newer row shows as news
                self._seen_newest = newest_embedding(conn, self.model_id)
        changed = self._rebuild() if since is None else self._apply_increment(since)
        with self.engine.connect() as conn:
            stored, total = count_embeddings(conn, self.model_id), count_papers(conn)
        if stored != len(self._state.ids) and since is not None:
            log.info(
                "vector index out of step (%d vs %d stored): rebuilding",
                len(self._state.ids),
                stored,
            )
            changed = self._rebuild()
            with self.engine.connect() as conn:
                stored, total = count_embeddings(conn, self.model_id), count_papers(conn)
        self._coverage = (min(stored, len(self._state.ids)), total)
        self._save_if_due(changed)
        return changed

    def _save_if_due(self, changed: int) -> None:
        """Hand a snapshot to the writer after `changed` vectors moved, or when the loaded
        one is outdated (its meta, or a scan made from its rows)."""
        if self._snapshots is not None and (
            (changed and self._snapshot_due(changed)) or self._meta_outdated
        ):
            self._snapshot_rows = len(self._state.ids)
            self._meta_outdated = False
            self._writer.submit(self._snapshot_of(self._state))

    def _rebuild(self) -> int:
        ids: list[str] = []
        parts: list[np.ndarray] = []
        newest: datetime | None = None
        with self.engine.connect() as conn:
            for chunk_ids, matrix, chunk_newest in iter_vectors(conn, self.model_id):
                ids.extend(chunk_ids)
                parts.append(matrix)
                if chunk_newest and (newest is None or chunk_newest > newest):
                    newest = chunk_newest
        matrix = np.concatenate(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)
        self._buffer = matrix
        old = self._state
        self._derived.swap(_State(tuple(ids), {pid: i for i, pid in enumerate(ids)}, matrix,
                                  generation=old.generation + 1, lineage=old.lineage + 1))
        self._watermark = newest
        self._snapshot_rows = -1  # force a snapshot
        return len(ids)

    def _apply_increment(self, since: datetime) -> int:
        state = self._state
        new_ids = list(state.ids)
        rows = dict(state.rows)
        replaced: dict[int, np.ndarray] = {}
        appended: list[np.ndarray] = []
        newest = self._watermark
        with self.engine.connect() as conn:
            for chunk_ids, matrix, chunk_newest in iter_vectors(conn, self.model_id, since=since):
                for pid, vec in zip(chunk_ids, matrix, strict=True):
                    row = rows.get(pid)
                    if row is None:
                        rows[pid] = len(new_ids)
                        new_ids.append(pid)
                        appended.append(vec)
                    elif row < len(state.ids) and not np.array_equal(state.matrix[row], vec):
                        replaced[row] = vec
                    elif row >= len(state.ids):
                        appended[row - len(state.ids)] = vec
                if chunk_newest and (newest is None or chunk_newest > newest):
                    newest = chunk_newest
        self._watermark = newest
        if not appended and not replaced:
            return 0
        matrix = self._storage(len(new_ids), copy=bool(replaced))
        for row, vec in replaced.items():
            matrix[row] = vec
        if appended:
            matrix[len(state.ids) : len(new_ids)] = np.stack(appended)
        generation = state.generation + 1
        stale = dict(state.stale)
        if self.ann_min_vectors is not None:  # the next graph update takes these in
            stale.update((row, generation) for row in replaced)
        self._derived.swap(replace(state, ids=tuple(new_ids), rows=rows,
                                   matrix=matrix[: len(new_ids)], stale=stale,
                                   generation=generation))
        return len(appended) + len(replaced)

    def _storage(self, n: int, *, copy: bool) -> np.ndarray:
        """Storage for n rows whose first rows are the current ones.

        Rows past the current count are written freely: no state shows them. With
        `copy` (rows are about to be replaced) the storage is always new, so searches
        reading the current state never see a row change under them.
        """
        current = self._state.matrix
        buf = self._buffer
        if copy or buf is None or buf.shape[0] < n or not _shares_start(buf, current):
            capacity = max(n, int(len(current) * 1.25) + 1024)
            buf = np.empty((capacity, self.dim), dtype=np.float32)
            buf[: len(current)] = current
            self._buffer = buf
        return buf

    # ---- the candidate proposer ("graph") ---------------------------------------------

    def _update_graph(self) -> None:
        """Build the graph, or update a copy of the current one, outside every lock
        searches take; swap it in if the rows it covers kept their numbers."""
        try:
            base = self._state
            started = time.perf_counter()
            n = len(base.ids)
            if base.graph is None or not base.graph.fits(n):
                graph = Proposer.over(base.matrix[:n])
            else:
                graph = base.graph.copy()
                stale = sorted(r for r in base.stale if r < base.graph_rows)
                if stale:
                    graph.replace(np.asarray(stale, dtype=np.int64), base.matrix[stale])
                graph.add(base.graph_rows, base.matrix[base.graph_rows : n])
            graph.prepare()  # here, not in the first search that uses it
            with self._derived.catching_up():
                current = self._state
                if current.lineage != base.lineage or len(current.ids) < n:
                    return  # reloaded meanwhile: row numbers changed
                stale = {r: g for r, g in current.stale.items() if g > base.generation}
                self._derived.swap(replace(current, graph=graph, graph_rows=n, stale=stale))
                if self._snapshots is not None:
                    self._writer.submit(self._snapshot_of(self._state))
            log.info("vector proposer (%s) over %d vectors ready in %.1f s", graph.kind, n,
                     time.perf_counter() - started)
        except Exception:
            log.exception("could not build the vector proposer")
        finally:
            with self._graph_lock:
                self._graph_thread = None

    # ---- snapshot ---------------------------------------------------------------------

    def _snapshot_due(self, changed: int) -> bool:
        return self._snapshot_rows < 0 or changed >= max(256, len(self._state.ids) // 100)

    def _snapshot_of(self, state: _State) -> tuple[_State, datetime | None, datetime | None]:
        return state, self._watermark, self._seen_newest

    def _load_snapshot(self) -> None:
        if self._snapshots is None:
            return
        loaded = self._snapshots.load(self._read_snapshot)
        if loaded is None:
            return
        state, watermark, seen, outdated = loaded
        self._derived.swap(state)
        self._buffer = None
        self._watermark, self._seen_newest, self._meta_outdated = watermark, seen, outdated
        self._snapshot_rows = len(state.ids)
        if self._watermark is None and state.ids:
            self._watermark = datetime(1970, 1, 1, tzinfo=UTC)

    def _read_snapshot(self, meta: dict, folder: Path):
        if meta.get("version") != SNAPSHOT_VERSION or meta.get("model_id") != self.model_id:
            return None
        # A plain array over the mapped file: a `np.memmap` slice costs its subclass
        # bookkeeping on every search's gather of rows.
        matrix = np.asarray(np.load(folder / "vectors.npy", mmap_mode="r"))
        ids = tuple(np.load(folder / "ids.npy").tolist())
        if matrix.shape != (len(ids), self.dim) or meta.get("count") != len(ids):
            return None
        graph, graph_rows, stale = None, 0, {}
        scan_made = False
        if meta.get("graph_rows") and self.ann_min_vectors is not None:
            try:
                graph_rows = int(meta["graph_rows"])
                # A saved graph without a usable scan gets one from these rows (about a
                # second), saved with the next snapshot rather than made again at every start.
                graph, scan_made = Proposer.load(folder, self.dim, matrix[:graph_rows])
                stale = {int(r): 0 for r in meta.get("stale", [])}
            except (OSError, ValueError, KeyError, RuntimeError) as exc:
                log.warning("ignoring the saved vector proposer: %s", exc)
                graph, graph_rows, stale = None, 0, {}
        state = _State(ids, {pid: i for i, pid in enumerate(ids)}, matrix, graph,
                       graph_rows, stale)
        watermark, seen = meta.get("watermark"), meta.get("seen_newest")
        # What the database looked like when the snapshot was written: if its newest
        # embedding and count are the same now, the first look needs no margin re-read
        # (after a bulk `paperwire embed`, the margin can hold every vector).
        return (state, datetime.fromisoformat(watermark) if watermark else None,
                datetime.fromisoformat(seen) if seen else None,
                "seen_newest" not in meta or scan_made)

    def _save_snapshot(self, snapshot: tuple[_State, datetime | None, datetime | None]) -> None:
        """Called by the snapshot writer's thread, with no index lock held."""
        assert self._snapshots is not None
        state, watermark, seen = snapshot
        meta = {
            "version": SNAPSHOT_VERSION,
            "model_id": self.model_id,
            "dim": self.dim,
            "count": len(state.ids),
            "watermark": watermark.isoformat() if watermark else None,
            "seen_newest": seen.isoformat() if seen else None,
            "graph_rows": state.graph_rows if state.graph is not None else 0,
            "graph_kind": state.graph.kind if state.graph is not None else None,
            "stale": sorted(state.stale),
        }

        def write(folder: Path) -> None:
            np.save(folder / "vectors.npy", np.ascontiguousarray(state.matrix, np.float32))
            np.save(folder / "ids.npy", np.array(state.ids, dtype=str))
            if state.graph is not None:
                state.graph.save(folder)

        self._snapshots.save(meta, write)


def _shares_start(buffer: np.ndarray, matrix: np.ndarray) -> bool:
    """Whether `matrix` is a view of the first rows of `buffer` (storage this index owns)."""
    return len(matrix) == 0 or (matrix.base is buffer or matrix is buffer) and (
        matrix.__array_interface__["data"][0] == buffer.__array_interface__["data"][0])


def build_vector_index(engine: Engine, model_id: str, dim: int, data_dir: Path):
    """pgvector when the PostgreSQL server has it, else the in-process index; logs which."""
    from paperwire.search.pgvector import PgVectorIndex, has_pgvector_column

    with engine.connect() as conn:
        use_pgvector = has_pgvector_column(conn)
    index: VectorIndex | PgVectorIndex
    if use_pgvector:
        index = PgVectorIndex(engine, model_id, dim)
    else:
        ann_min = int(os.environ.get("PAPERWIRE_ANN_MIN_VECTORS", ANN_MIN_VECTORS))
        snapshots = data_dir / "vectors"
        index = VectorIndex(
            engine, model_id, dim, snapshot_dir=snapshots, ann_min_vectors=ann_min or None
        )
    log.info(
        "vector search: %s",
        index.describe() if use_pgvector else f"in-process numpy index for {model_id}",
    )
    return index
