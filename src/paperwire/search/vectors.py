"""The in-process vector index: exact cosine search over stored embeddings.

Vectors live in the database (`paper_embeddings`); this index mirrors one model's vectors
in a float32 matrix. At start-up it memory-maps a snapshot under `data_dir/vectors/`
(written atomically: temp file + rename) and then catches up from the database, so it
loads in milliseconds and is never stale: new or re-embedded papers are picked up
incrementally (by `created_at`), and a count check triggers a full reload when rows were
deleted. Searches refresh at most every `refresh_interval_s` seconds.

`search(..., candidates=...)` takes PAPER IDS (strings), not row positions.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from paperwire.search.ann import HnswGraph, usearch_available
from paperwire.store.embeddings import (
    count_embeddings,
    count_papers,
    iter_vectors,
    newest_embedding,
)

log = logging.getLogger(__name__)

# Rows committed slightly out of created_at order are still caught by re-reading this window.
WATERMARK_MARGIN = timedelta(seconds=120)
SNAPSHOT_VERSION = 1
# From this many vectors on, an HNSW graph (usearch) proposes candidates; exact below.
# Exact float32 search over 80k vectors takes ~10-35 ms on 2 busy cores, HNSW ~1 ms.
# PAPERWIRE_ANN_MIN_VECTORS overrides it (0 switches the graph off).
ANN_MIN_VECTORS = 50_000


@dataclass(frozen=True, slots=True)
class _State:
    ids: list[str]
    rows: dict[str, int]
    matrix: np.ndarray  # (n, dim) float32, L2-normalised rows


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first."""
    if k >= scores.shape[0]:
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


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
        self._lock = threading.Lock()
        self._state = _State([], {}, np.zeros((0, self.dim), dtype=np.float32))
        self._buffer: np.ndarray | None = None  # writable storage once rows are added
        self._watermark: datetime | None = None
        self._checked_at = 0.0
        self._coverage: tuple[int, int] = (0, 0)
        self._seen_newest: datetime | None = None
        self._loaded = False
        # Approximate search for big indexes: an HNSW graph over rows [0, _ann_rows).
        self.ann_min_vectors = ann_min_vectors if usearch_available() else None
        self._ann: HnswGraph | None = None
        self._ann_rows = 0
        self._ann_thread: threading.Thread | None = None

    # ---- public API -------------------------------------------------------------------

    def describe(self) -> str:
        kind = "HNSW (usearch) + exact re-scoring" if self._ann else "exact (numpy float32)"
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
        ann, ann_rows = self._ann, self._ann_rows
        if candidates is None:
            if ann is not None and ann_rows <= len(state.ids):
                # Graph proposals + rows added since the graph was built, re-scored exactly.
                proposed = ann.search(q, max(4 * k, 200))
                rows = np.concatenate(
                    [proposed[proposed < ann_rows], np.arange(ann_rows, len(state.ids))]
                )
                return self._score_rows(state, rows, q, k)
            scores = state.matrix @ q
            best = top_k(scores, k)
            return [(state.ids[i], float(scores[i])) for i in best]
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
        rows = np.unique(rows)
        scores = state.matrix[rows] @ q
        best = top_k(scores, k)
        return [(state.ids[rows[i]], float(scores[i])) for i in best]

    def build_ann(self, *, wait: bool = True) -> bool:
        """Build the HNSW graph if the index is big enough; True when one is in use."""
        self._ensure_loaded()
        if self.ann_min_vectors is None or len(self._state.ids) < self.ann_min_vectors:
            return False
        with self._lock:
            if self._ann is None and self._ann_thread is None:
                self._ann_thread = threading.Thread(
                    target=self._build_ann_graph, name="ann-build", daemon=True
                )
                self._ann_thread.start()
            thread = self._ann_thread
        if wait and thread is not None:
            thread.join()
        return self._ann is not None

    def _build_ann_graph(self) -> None:
        try:
            state = self._state
            graph = HnswGraph(self.dim)
            started = time.perf_counter()
            graph.add(0, state.matrix[: len(state.ids)])
            with self._lock:
                if self._state.ids[: len(state.ids)] == state.ids:  # rows kept their numbers
                    self._ann, self._ann_rows = graph, len(state.ids)
                    self._sync_ann()
                    if self.snapshot_dir is not None:
                        self._write_snapshot()
            log.info(
                "built the HNSW graph over %d vectors in %.0f s",
                len(state.ids),
                time.perf_counter() - started,
            )
        finally:
            self._ann_thread = None

    def _sync_ann(self) -> None:
        """Add rows appended since the graph was built (caller holds the lock)."""
        graph, n = self._ann, len(self._state.ids)
        if graph is not None and n > self._ann_rows:
            graph.add(self._ann_rows, self._state.matrix[self._ann_rows : n])
            self._ann_rows = n

    def vector_for(self, paper_id: str) -> np.ndarray | None:
        self.maybe_refresh()
        state = self._state
        row = state.rows.get(paper_id)
        return None if row is None else np.array(state.matrix[row], dtype=np.float32)

    def coverage(self) -> tuple[int, int]:
        """(papers with an embedding for this model, all papers)."""
        self.maybe_refresh()
        return self._coverage

    def maybe_refresh(self) -> None:
        if not self._loaded or time.monotonic() - self._checked_at >= self.refresh_interval_s:
            self.refresh()

    def refresh(self, *, force: bool = False) -> int:
        """Catch up with the database; returns how many vectors were added or replaced."""
        with self._lock:
            if not self._loaded:
                self._load_snapshot()
                self._loaded = True
            changed = self._catch_up(full=force)
            self._sync_ann()
            self._checked_at = time.monotonic()
        if self._ann is None:
            self.build_ann(wait=False)
        return changed

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.refresh()

    # ---- loading and catching up ------------------------------------------------------

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
        if self.snapshot_dir is not None and (
            (changed and self._snapshot_due(changed)) or self._meta_outdated
        ):
            self._write_snapshot()
        return changed

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
        self._state = _State(ids, {pid: i for i, pid in enumerate(ids)}, matrix)
        self._ann, self._ann_rows = None, 0
        self._watermark = newest
        self._snapshot_rows = -1  # force a snapshot
        return len(ids)

    def _apply_increment(self, since: datetime) -> int:
        state = self._state
        new_ids = list(state.ids)
        rows = dict(state.rows)
        replaced: list[tuple[int, np.ndarray]] = []
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
                    elif not np.array_equal(state.matrix[row], vec):
                        replaced.append((row, vec))
                if chunk_newest and (newest is None or chunk_newest > newest):
                    newest = chunk_newest
        self._watermark = newest
        if not appended and not replaced:
            return 0
        matrix = self._writable(len(new_ids))
        for row, vec in replaced:
            matrix[row] = vec
        if appended:
            matrix[len(state.ids) : len(new_ids)] = np.stack(appended)
        self._state = _State(new_ids, rows, matrix[: len(new_ids)])
        return len(appended) + len(replaced)

    def _writable(self, n: int) -> np.ndarray:
        """A writable buffer with room for n rows whose first rows are the current ones."""
        current = self._state.matrix
        buf = self._buffer
        if buf is None or buf.shape[0] < n:
            capacity = max(n, int(len(current) * 1.25) + 1024)
            buf = np.empty((capacity, self.dim), dtype=np.float32)
            buf[: len(current)] = current
            self._buffer = buf
        return buf

    # ---- snapshot ---------------------------------------------------------------------

    def _meta_path(self) -> Path:
        assert self.snapshot_dir is not None
        return self.snapshot_dir / f"{snapshot_stem(self.model_id)}.meta.json"

    _snapshot_rows = 0
    _meta_outdated = False  # a snapshot from before `seen_newest` was kept

    def _snapshot_due(self, changed: int) -> bool:
        return self._snapshot_rows < 0 or changed >= max(256, len(self._state.ids) // 100)

    def _load_snapshot(self) -> None:
        if self.snapshot_dir is None:
            return
        try:
            meta = json.loads(self._meta_path().read_text())
            if meta.get("version") != SNAPSHOT_VERSION or meta.get("model_id") != self.model_id:
                return
            matrix = np.load(self.snapshot_dir / meta["vectors"], mmap_mode="r")
            ids = np.load(self.snapshot_dir / meta["ids"]).tolist()
        except (OSError, ValueError, KeyError, TypeError):
            return
        if matrix.shape != (len(ids), self.dim) or meta.get("count") != len(ids):
            return
        self._state = _State(ids, {pid: i for i, pid in enumerate(ids)}, matrix)
        self._buffer = None
        if meta.get("ann") and self.ann_min_vectors is not None:
            try:
                self._ann = HnswGraph.load(self.snapshot_dir / meta["ann"], self.dim)
                self._ann_rows = int(meta["ann_rows"])
            except (OSError, ValueError, KeyError, RuntimeError) as exc:
                log.warning("ignoring the saved HNSW graph: %s", exc)
                self._ann, self._ann_rows = None, 0
        watermark = meta.get("watermark")
        self._watermark = datetime.fromisoformat(watermark) if watermark else None
        # What the database looked like when the snapshot was written: if its newest
        # embedding and count are the same now, the first look needs no margin re-read
        # (after a bulk `paperwire embed`, the margin can hold every vector).
        seen = meta.get("seen_newest")
        self._seen_newest = datetime.fromisoformat(seen) if seen else None
        self._meta_outdated = "seen_newest" not in meta
        if self._watermark is None and ids:
            self._watermark = datetime(1970, 1, 1, tzinfo=UTC)

    def _write_snapshot(self) -> None:
        """Write vectors and ids under fresh names, then switch the meta file atomically."""
        assert self.snapshot_dir is not None
        state = self._state
        stem = snapshot_stem(self.model_id)
        token = f"{int(time.time() * 1000)}-{os.getpid()}"
        meta_path = self._meta_path()
        try:
            self.snapshot_dir.mkdir(parents=True, exist_ok=True)
            old = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
            vec_name, ids_name = f"{stem}.{token}.vectors.npy", f"{stem}.{token}.ids.npy"
            _atomic_save(
                self.snapshot_dir / vec_name, np.ascontiguousarray(state.matrix, np.float32)
            )
            _atomic_save(self.snapshot_dir / ids_name, np.array(state.ids, dtype=str))
            meta = {
                "version": SNAPSHOT_VERSION,
                "model_id": self.model_id,
                "dim": self.dim,
                "count": len(state.ids),
                "watermark": self._watermark.isoformat() if self._watermark else None,
                "seen_newest": self._seen_newest.isoformat() if self._seen_newest else None,
                "vectors": vec_name,
                "ids": ids_name,
            }
            if self._ann is not None:
                meta["ann"], meta["ann_rows"] = f"{stem}.{token}.usearch", self._ann_rows
                self._ann.save(self.snapshot_dir / meta["ann"])
            tmp = meta_path.with_name(f"{meta_path.name}.{token}.tmp")
            tmp.write_text(json.dumps(meta))
            os.replace(tmp, meta_path)
            self._snapshot_rows = len(state.ids)
            self._meta_outdated = False
            for key in ("vectors", "ids", "ann"):  # open memory maps of old files stay valid
                if isinstance(old.get(key), str) and old[key] != meta[key]:
                    (self.snapshot_dir / old[key]).unlink(missing_ok=True)
        except (OSError, ValueError) as exc:  # a read-only data dir only costs start-up time
            log.warning("could not write the vector snapshot: %s", exc)


def _atomic_save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp.npy")
    np.save(tmp, array)
    os.replace(tmp, path)


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
