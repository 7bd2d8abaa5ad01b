"""Fill in missing embeddings: resumable (one transaction per batch) and cached by content.

A paper needs an embedding for a model when it has none, or when its title/abstract
changed since (the stored content hash differs). An optional on-disk cache keyed by the
same content hash lets reruns over the same texts (e.g. the relevance harness) skip the
model entirely.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, select

from paperwire.search.embedder import Embedder, paper_text
from paperwire.store.embeddings import (
    EmbeddingRow,
    content_hash,
    save_embeddings,
    stored_hashes,
)
from paperwire.store.tables import papers

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 256
Progress = Callable[[int, int], None]  # (papers done, papers to do)


class EmbeddingCache:
    """content hash -> float32 vector, in one SQLite file under `cache_dir`."""

    def __init__(self, cache_dir: Path) -> None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.path = cache_dir / "embeddings.sqlite"
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (hash TEXT PRIMARY KEY, dim INTEGER, vector BLOB)"
        )
        self._db.commit()

    def get_many(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), 500):
            part = list(hashes[start : start + 500])
            marks = ",".join("?" * len(part))
            query = f"SELECT hash, dim, vector FROM vectors WHERE hash IN ({marks})"
            for h, dim, blob in self._db.execute(query, part):
                vector = np.frombuffer(blob, dtype="<f4")
                if vector.shape[0] == dim:
                    found[h] = vector
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO vectors (hash, dim, vector) VALUES (?, ?, ?)",
            [(h, int(v.shape[0]), np.asarray(v, dtype="<f4").tobytes()) for h, v in items.items()],
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()


@dataclass(slots=True)
class EmbedStats:
    embedded: int = 0  # computed by the model
    cached: int = 0  # taken from the cache

    @property
    def stored(self) -> int:
        return self.embedded + self.cached


def papers_needing_embeddings(engine: Engine, model_id: str) -> list[str]:
    """Ids of papers without a current embedding for this model, newest ids first."""
    with engine.connect() as conn:
        stored = stored_hashes(conn, model_id)
        query = select(papers.c.id, papers.c.title, papers.c.abstract)
        result = conn.execution_options(stream_results=True, yield_per=2000).execute(query)
        todo = [
            row.id
            for row in result
            if stored.get(row.id) != content_hash(paper_text(row.title, row.abstract), model_id)
        ]
    todo.sort(reverse=True)
    return todo


def _texts_for(engine: Engine, ids: Sequence[str]) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(papers.c.id, papers.c.title, papers.c.abstract).where(papers.c.id.in_(ids))
        )
        return {row.id: paper_text(row.title, row.abstract) for row in rows}


def _batches(ids: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def embed_papers(
    engine: Engine,
    embedder: Embedder,
    paper_ids: Sequence[str],
    *,
    cache: EmbeddingCache | None = None,
    stats: EmbedStats | None = None,
) -> EmbedStats:
    """Embed these papers and store the vectors in one transaction."""
    stats = stats or EmbedStats()
    texts = _texts_for(engine, paper_ids)
    ids = [pid for pid in paper_ids if pid in texts]
    hashes = {pid: content_hash(texts[pid], embedder.model_id) for pid in ids}
    vectors = cache.get_many(list(hashes.values())) if cache else {}
    misses = [pid for pid in ids if hashes[pid] not in vectors]
    if misses:
        computed = embedder.embed([texts[pid] for pid in misses])
        fresh = {hashes[pid]: vec for pid, vec in zip(misses, computed, strict=True)}
        if cache:
            cache.put_many(fresh)
        vectors.update(fresh)
    rows = [EmbeddingRow(pid, vectors[hashes[pid]], hashes[pid]) for pid in ids]
    with engine.begin() as conn:
        save_embeddings(conn, embedder.model_id, rows)
    stats.embedded += len(misses)
    stats.cached += len(ids) - len(misses)
    return stats


def rate_line(done: int, elapsed_s: float, model_id: str) -> str:
    """What an embedding run reports: how many papers, how long, papers per second."""
    rate = done / elapsed_s if elapsed_s > 0 else 0.0
    return f"embedded {done:,} papers in {elapsed_s:.1f} s ({rate:,.1f}/s, {model_id})"


def embed_missing(
    engine: Engine,
    embedder: Embedder,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    limit: int | None = None,
    stats: EmbedStats | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Embed every paper that lacks a current embedding for this model; returns how many.

    Each batch is committed on its own, so an interrupted run loses at most one batch and
    a rerun continues where it stopped. Pass `stats` to learn how many came from the cache,
    and `should_stop` to end the run cleanly between two batches.
    """
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    todo = papers_needing_embeddings(engine, embedder.model_id)
    if limit is not None:
        todo = todo[: max(0, limit)]
    stats = stats if stats is not None else EmbedStats()
    start = stats.stored
    cache = EmbeddingCache(cache_dir) if cache_dir is not None else None
    try:
        if progress:
            progress(0, len(todo))
        for batch in _batches(todo, batch_size):
            if should_stop is not None and should_stop():
                break
            embed_papers(engine, embedder, batch, cache=cache, stats=stats)
            if progress:
                progress(stats.stored - start, len(todo))
    finally:
        if cache:
            cache.close()
    return stats.stored - start
