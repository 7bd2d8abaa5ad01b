"""pgvector search: used when the PostgreSQL server has the `vector` extension.

The column itself (added by migration 0003, filled when embeddings are saved) is
store/pgvector_columns.py. When it exists, `PgVectorIndex` searches inside PostgreSQL
with a per-model partial HNSW index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from sqlalchemy import Engine, bindparam, text

from paperwire.store.embeddings import (
    count_embeddings,
    count_papers,
    from_blob,
    load_vector,
    load_vectors,
)
from paperwire.store.pgvector_columns import (  # noqa: F401  (has_pgvector_column re-exported)
    has_pgvector_column,
    vector_literal,
    write_pgvector_column,
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

    def build_ann(self, *, wait: bool = True) -> bool:
        return True  # PostgreSQL keeps the HNSW index (made in __init__) up to date

    def wait_snapshots(self, timeout: float | None = None) -> bool:
        return True  # nothing is written outside the database

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
        with self.engine.connect() as conn:
            return load_vector(conn, self.model_id, paper_id)

    def vectors_for(self, paper_ids: Sequence[str]) -> dict[str, np.ndarray]:
        with self.engine.connect() as conn:
            return load_vectors(conn, self.model_id, paper_ids)

    def coverage(self) -> tuple[int, int]:
        with self.engine.connect() as conn:
            return count_embeddings(conn, self.model_id), count_papers(conn)

    def __len__(self) -> int:
        return self.coverage()[0]
