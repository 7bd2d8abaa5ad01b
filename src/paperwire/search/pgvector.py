"""pgvector support: used when the PostgreSQL server has the `vector` extension.

Migration 0003 adds a nullable `embedding vector` column to `paper_embeddings` when the
server offers the extension. The raw float32 `vector` bytes are always written too, so
`db copy` and the in-process index keep working everywhere. When the column exists,
`PgVectorIndex` searches inside PostgreSQL with a per-model partial HNSW index.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import numpy as np
from sqlalchemy import Connection, Engine, bindparam, text

log = logging.getLogger(__name__)


def extension_available(conn: Connection) -> bool:
    row = conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).first()
    return row is not None


def add_pgvector_column(conn: Connection) -> bool:
    """Enable pgvector and add the column, if the server can; never fails the migration."""
    if conn.dialect.name != "postgresql" or not extension_available(conn):
        return False
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            conn.execute(
                text("ALTER TABLE paper_embeddings ADD COLUMN IF NOT EXISTS embedding vector")
            )
    except Exception as exc:  # e.g. no privilege to create extensions
        log.warning("pgvector is available but could not be enabled: %s", exc)
        return False
    return True


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


def index_name(model_id: str) -> str:
    return "ix_paper_embeddings_hnsw_" + hashlib.sha256(model_id.encode()).hexdigest()[:12]


class PgVectorIndex:
    """Cosine search inside PostgreSQL with pgvector; same interface as VectorIndex."""

    backend = "pgvector"

    def __init__(self, engine: Engine, model_id: str, dim: int) -> None:
        self.engine = engine
        self.model_id = model_id
        self.dim = int(dim)
        self.backfill()
        self._ensure_index()

    def backfill(self, chunk: int = 2000) -> int:
        """Fill the pgvector column where only the raw bytes exist (e.g. after `db copy`)."""
        from paperwire.store.embeddings import from_blob

        filled = 0
        while True:
            with self.engine.begin() as conn:
                rows = conn.execute(
                    text(
                        "SELECT paper_id, dim, vector FROM paper_embeddings "
                        "WHERE model_id = :m AND embedding IS NULL LIMIT :n"
                    ),
                    {"m": self.model_id, "n": chunk},
                ).all()
                if not rows:
                    return filled
                write_pgvector_column(
                    conn, self.model_id, [(r.paper_id, from_blob(r.vector, r.dim)) for r in rows]
                )
                filled += len(rows)

    def describe(self) -> str:
        return f"pgvector in PostgreSQL (HNSW, cosine) for {self.model_id}"

    def _cast(self, expr: str) -> str:
        return f"CAST({expr} AS vector({self.dim}))"

    def _ensure_index(self) -> None:
        model = self.model_id.replace("'", "''")
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    f"CREATE INDEX IF NOT EXISTS {index_name(self.model_id)} ON paper_embeddings "
                    f"USING hnsw (({self._cast('embedding')}) vector_cosine_ops) "
                    f"WHERE model_id = '{model}'"
                )
            )

    def refresh(self, *, force: bool = False) -> int:
        return 0  # PostgreSQL is always current

    def search(
        self, query: np.ndarray, k: int, *, candidates: Sequence[str] | np.ndarray | None = None
    ) -> list[tuple[str, float]]:
        if k <= 0:
            return []
        distance = f"{self._cast('embedding')} <=> {self._cast(':q')}"
        where = "model_id = :m AND embedding IS NOT NULL"
        params: dict = {"q": vector_literal(query), "m": self.model_id, "k": int(k)}
        statement = (
            f"SELECT paper_id, 1 - ({distance}) AS score FROM paper_embeddings WHERE {where}"
        )
        if candidates is not None:
            ids = [str(c) for c in candidates]
            if not ids:
                return []
            statement += " AND paper_id IN :ids"
            params["ids"] = ids
        query_text = text(f"{statement} ORDER BY {distance} LIMIT :k")
        if candidates is not None:
            query_text = query_text.bindparams(bindparam("ids", expanding=True))
        with self.engine.connect() as conn:
            return [(row.paper_id, float(row.score)) for row in conn.execute(query_text, params)]

    def vector_for(self, paper_id: str) -> np.ndarray | None:
        from paperwire.store.embeddings import load_vector

        with self.engine.connect() as conn:
            return load_vector(conn, self.model_id, paper_id)

    def coverage(self) -> tuple[int, int]:
        from paperwire.store.embeddings import count_embeddings, count_papers

        with self.engine.connect() as conn:
            return count_embeddings(conn, self.model_id), count_papers(conn)

    def __len__(self) -> int:
        return self.coverage()[0]
