"""The optional pgvector column of `paper_embeddings` (PostgreSQL with the `vector` extension).

Migration 0003 adds a nullable `embedding vector` column when the server offers the
extension. The raw float32 bytes in `vector` are always written too, so `db copy` and
the in-process index work everywhere; when the column exists, saved embeddings fill
it as well and `search.pgvector.PgVectorIndex` searches inside PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import Connection, text


def has_pgvector_column(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    row = conn.execute(
        text(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = 'paper_embeddings' AND column_name = 'embedding' "
            "AND table_schema = current_schema()"
        )
    ).first()
    return row is not None


def vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in np.asarray(vector, dtype=np.float32)) + "]"


def write_pgvector_column(
    conn: Connection, model_id: str, rows: Sequence[tuple[str, np.ndarray]]
) -> None:
    """Fill the pgvector column for freshly saved rows (no-op without pgvector)."""
    if not rows or not has_pgvector_column(conn):
        return
    conn.execute(
        text(
            "UPDATE paper_embeddings SET embedding = CAST(:v AS vector) "
            "WHERE model_id = :m AND paper_id = :p"
        ),
        [{"v": vector_literal(vec), "m": model_id, "p": pid} for pid, vec in rows],
    )
