"""Stored embeddings: float32 bytes in `paper_embeddings`, tagged with the model id."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, delete, func, insert, select

from paperwire.store.db import aware_utc, utcnow
from paperwire.store.events import EmbeddingsChanged
from paperwire.store.events import record as record_event
from paperwire.store.pgvector_columns import write_pgvector_column
from paperwire.store.tables import paper_embeddings, papers


def content_hash(text: str, model_id: str) -> str:
    """What an embedding was computed from: the model and the exact text."""
    return hashlib.sha256(f"{model_id}\x00{text}".encode()).hexdigest()


def to_blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes, dim: int) -> np.ndarray:
    vector = np.frombuffer(blob, dtype="<f4")
    if vector.shape[0] != dim:
        raise ValueError(f"stored vector has {vector.shape[0]} values, expected {dim}")
    return vector


@dataclass(frozen=True, slots=True)
class EmbeddingRow:
    paper_id: str
    vector: np.ndarray
    content_hash: str


def save_embeddings(conn: Connection, model_id: str, rows: Sequence[EmbeddingRow]) -> None:
    """Insert or replace these papers' embeddings for one model."""
    if not rows:
        return
    ids = [r.paper_id for r in rows]
    conn.execute(
        delete(paper_embeddings).where(
            paper_embeddings.c.model_id == model_id, paper_embeddings.c.paper_id.in_(ids)
        )
    )
    now = utcnow()
    conn.execute(
        insert(paper_embeddings),
        [
            {
                "paper_id": r.paper_id,
                "model_id": model_id,
                "dim": int(r.vector.shape[0]),
                "vector": to_blob(r.vector),
                "content_hash": r.content_hash,
                "created_at": now,
            }
            for r in rows
        ],
    )
    write_pgvector_column(conn, model_id, [(r.paper_id, r.vector) for r in rows])
    record_event(conn, EmbeddingsChanged(model_id, frozenset(ids)))


def stored_hashes(conn: Connection, model_id: str) -> dict[str, str]:
    """paper_id -> content hash of every stored embedding for this model."""
    query = select(paper_embeddings.c.paper_id, paper_embeddings.c.content_hash).where(
        paper_embeddings.c.model_id == model_id
    )
    return dict(conn.execute(query).all())


def count_embeddings(conn: Connection, model_id: str) -> int:
    query = (
        select(func.count())
        .select_from(paper_embeddings)
        .where(paper_embeddings.c.model_id == model_id)
    )
    return int(conn.execute(query).scalar_one())


def newest_embedding(conn: Connection, model_id: str) -> datetime | None:
    """The latest `created_at` of one model's embeddings (an index lookup)."""
    newest = conn.execute(
        select(func.max(paper_embeddings.c.created_at)).where(
            paper_embeddings.c.model_id == model_id
        )
    ).scalar()
    return aware_utc(newest)


def count_papers(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(papers)).scalar_one())


def iter_vectors(
    conn: Connection, model_id: str, *, since: datetime | None = None, chunk: int = 5000
) -> Iterator[tuple[list[str], np.ndarray, datetime | None]]:
    """Stream (ids, float32 matrix, newest created_at) chunks of one model's embeddings."""
    query = select(
        paper_embeddings.c.paper_id,
        paper_embeddings.c.dim,
        paper_embeddings.c.vector,
        paper_embeddings.c.created_at,
    ).where(paper_embeddings.c.model_id == model_id)
    if since is not None:
        query = query.where(paper_embeddings.c.created_at >= since)
    result = conn.execution_options(stream_results=True, yield_per=chunk).execute(query)
    for part in result.partitions(chunk):
        ids = [row.paper_id for row in part]
        matrix = np.stack([from_blob(row.vector, row.dim) for row in part]).astype(np.float32)
        newest = max((aware_utc(row.created_at) for row in part), default=None)
        yield ids, matrix, newest


def load_vectors(
    conn: Connection, model_id: str, paper_ids: Sequence[str], chunk: int = 500
) -> dict[str, np.ndarray]:
    """The stored vectors of these papers (those that have one), in few queries."""
    ids = list(dict.fromkeys(paper_ids))
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(ids), chunk):
        rows = conn.execute(
            select(paper_embeddings.c.paper_id, paper_embeddings.c.dim, paper_embeddings.c.vector)
            .where(paper_embeddings.c.model_id == model_id,
                   paper_embeddings.c.paper_id.in_(ids[start:start + chunk]))
        )
        for row in rows:
            found[row.paper_id] = from_blob(row.vector, row.dim).copy()
    return found


def load_vector(conn: Connection, model_id: str, paper_id: str) -> np.ndarray | None:
    row = conn.execute(
        select(paper_embeddings.c.dim, paper_embeddings.c.vector).where(
            paper_embeddings.c.model_id == model_id, paper_embeddings.c.paper_id == paper_id
        )
    ).first()
    return None if row is None else from_blob(row.vector, row.dim).copy()
