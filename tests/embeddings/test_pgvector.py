"""The pgvector path, on a PostgreSQL that has the extension (pgserver's bundled build).

Debian's PostgreSQL on the test machines has no pgvector, so the main suite covers the
fallback (embeddings in the database + in-process index); this test covers the other side.
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from sqlalchemy import text

from paperwire.search.pgvector import PgVectorIndex
from paperwire.search.vectors import build_vector_index
from paperwire.services.embeddings import embed_missing
from paperwire.store.db import create_db_engine
from paperwire.store.pgvector_columns import has_pgvector_column
from tests.embeddings.conftest import add_papers

pytestmark = pytest.mark.postgres_only


@pytest.fixture(scope="module")
def pgvector_url():
    pgserver = pytest.importorskip("pgserver")
    from tests import pg_server

    bin_dir = Path(pgserver.__file__).parent / "pginstall" / "bin"
    with mock.patch.object(pg_server, "find_pg_bin", return_value=bin_dir):
        server = pg_server.PostgresServer.start()
    try:
        yield server.fresh_database()
    finally:
        server.stop()


def test_pgvector_is_detected_and_used(pgvector_url, embedder, shared_papers, tmp_path):
    engine = create_db_engine(pgvector_url)
    try:
        with engine.connect() as conn:
            assert has_pgvector_column(conn)
        add_papers(engine, shared_papers[:20])
        assert embed_missing(engine, embedder, batch_size=8) == 20
        with engine.connect() as conn:
            filled = conn.execute(
                text("SELECT count(*) FROM paper_embeddings WHERE embedding IS NOT NULL")
            ).scalar_one()
        assert filled == 20
        with engine.begin() as conn:  # rows that arrive without the column (e.g. `db copy`)
            conn.execute(text("UPDATE paper_embeddings SET embedding = NULL WHERE paper_id = :p"),
                         {"p": shared_papers[7].id})

        index = build_vector_index(engine, embedder.model_id, embedder.dim, tmp_path)
        assert isinstance(index, PgVectorIndex)
        assert "pgvector" in index.describe()
        target = shared_papers[7]
        query = embedder.embed([target.title])[0]
        hits = index.search(query, 5)
        assert hits[0][0] == target.id
        expected = float(index.vector_for(target.id) @ query)
        many = index.vectors_for([target.id, "no-such-paper", shared_papers[3].id])
        assert set(many) == {target.id, shared_papers[3].id}
        for pid, vector in many.items():
            np.testing.assert_array_equal(vector, index.vector_for(pid))
        np.testing.assert_allclose(hits[0][1], expected, atol=1e-4)
        allowed = [p.id for p in shared_papers[10:14]]
        assert {pid for pid, _ in index.search(query, 10, candidates=allowed)} == set(allowed)
        assert index.search(query, 10, candidates=[]) == []
        assert index.coverage() == (20, 20)
    finally:
        engine.dispose()
