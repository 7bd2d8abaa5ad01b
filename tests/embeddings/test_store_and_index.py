import numpy as np
from sqlalchemy import delete, select

from paperwire.domain.records import PaperRecord
from paperwire.search.vectors import VectorIndex, build_vector_index
from paperwire.services.embeddings import embed_missing
from paperwire.store.embeddings import EmbeddingRow, content_hash, load_vector, save_embeddings
from paperwire.store.tables import paper_embeddings, papers
from tests.embeddings.conftest import add_papers


def test_stored_embeddings_round_trip(container):
    add_papers(container.engine, [PaperRecord(id="2501.00001", title="One")])
    vector = np.random.default_rng(0).standard_normal(384).astype(np.float32)
    with container.engine.begin() as conn:
        save_embeddings(conn, "m1", [EmbeddingRow("2501.00001", vector, "h1")])
        save_embeddings(conn, "m2", [EmbeddingRow("2501.00001", -vector, "h2")])
    with container.engine.connect() as conn:
        np.testing.assert_array_equal(load_vector(conn, "m1", "2501.00001"), vector)
        np.testing.assert_array_equal(load_vector(conn, "m2", "2501.00001"), -vector)
        assert load_vector(conn, "m3", "2501.00001") is None
    with container.engine.begin() as conn:  # replacing keeps one row per (paper, model)
        save_embeddings(conn, "m1", [EmbeddingRow("2501.00001", vector * 2, "h3")])
    with container.engine.connect() as conn:
        rows = (
            conn.execute(
                select(paper_embeddings.c.content_hash).where(paper_embeddings.c.model_id == "m1")
            )
            .scalars()
            .all()
        )
        assert rows == ["h3"]
    with container.engine.begin() as conn:  # deleting the paper deletes its embeddings
        conn.execute(delete(papers).where(papers.c.id == "2501.00001"))
    with container.engine.connect() as conn:
        assert conn.execute(select(paper_embeddings)).first() is None


def test_vector_backend_is_chosen_and_described(container, embedder):
    index = build_vector_index(
        container.engine, embedder.model_id, embedder.dim, container.settings.data_dir
    )
    # The test servers have no pgvector extension: both databases get the in-process
    # index (tests/embeddings/test_pgvector.py covers the pgvector one).
    assert isinstance(index, VectorIndex) and index.backend == "numpy"
    assert embedder.model_id in index.describe()
    assert index.snapshot_dir == container.settings.data_dir / "vectors"


def test_index_search_candidates_and_consistency(container, embedder, shared_papers):
    engine = container.engine
    first, later = shared_papers[:30], shared_papers[30:]
    add_papers(engine, first)
    embed_missing(engine, embedder)
    snapshots = container.settings.data_dir / "vectors"
    index = VectorIndex(
        engine, embedder.model_id, embedder.dim, snapshot_dir=snapshots, refresh_interval_s=0
    )
    assert index.coverage() == (30, 30)

    target = first[3]
    query = embedder.embed([f"{target.title}"])[0]
    hits = index.search(query, 5)
    assert hits[0][0] == target.id
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    np.testing.assert_allclose(index.vector_for(target.id) @ query, hits[0][1], rtol=1e-5)
    asked = [first[5].id, "no-such-paper", target.id, first[5].id]
    many = index.vectors_for(asked)  # one read for many: those with a vector, each once
    assert set(many) == {first[5].id, target.id}
    for pid, vector in many.items():
        np.testing.assert_array_equal(vector, index.vector_for(pid))
    assert index.vectors_for([]) == {} and index.vectors_for(["no-such-paper"]) == {}

    allowed = [p.id for p in first[10:20]] + ["no-such-paper"]
    restricted = index.search(query, 50, candidates=allowed)
    assert {pid for pid, _ in restricted} == set(allowed[:-1])
    assert index.search(query, 5, candidates=[]) == []

    # New papers: searchable without a restart, and coverage says what is missing.
    add_papers(engine, later)
    assert index.coverage() == (30, 40)
    embed_missing(engine, embedder)
    newcomer = later[4]
    query = embedder.embed([newcomer.title])[0]
    assert index.search(query, 3)[0][0] == newcomer.id
    assert index.coverage() == (40, 40)
    assert index.wait_snapshots(30)

    # A fresh process loads the snapshot and catches up from the database.
    fresh = VectorIndex(engine, embedder.model_id, embedder.dim, snapshot_dir=snapshots)
    assert len(fresh) == 40
    assert fresh.search(query, 1)[0][0] == newcomer.id
    assert list(snapshots.glob("*.meta.json"))

    # Deleted papers disappear (the count check forces a rebuild).
    with engine.begin() as conn:
        conn.execute(delete(papers).where(papers.c.id == newcomer.id))
    assert index.vector_for(newcomer.id) is None
    assert newcomer.id not in {pid for pid, _ in index.search(query, 40)}
    assert index.coverage() == (39, 39)


def test_stale_text_is_re_embedded(container, embedder):
    engine = container.engine
    add_papers(
        engine,
        [PaperRecord(id="2501.00009", title="Graph neural networks", abstract="GNNs.", version=1)],
    )
    assert embed_missing(engine, embedder) == 1
    assert embed_missing(engine, embedder) == 0
    add_papers(
        engine,
        [
            PaperRecord(
                id="2501.00009",
                title="Graph neural networks",
                abstract="Message passing on molecules.",
                version=2,  # a new arXiv version with a new abstract
            )
        ],
    )
    assert embed_missing(engine, embedder) == 1
    with engine.connect() as conn:
        stored = conn.execute(select(paper_embeddings.c.content_hash)).scalar_one()
    text = "Graph neural networks. Message passing on molecules."
    assert stored == content_hash(text, embedder.model_id)


def test_a_restart_after_a_bulk_embed_does_not_re_read_the_vectors(
    container, embedder, shared_papers, monkeypatch
):
    """Every vector of a bulk `paperwire embed` sits inside the re-check margin; a fresh
    process that loads the snapshot of an unchanged database must not read them again."""
    engine = container.engine
    add_papers(engine, shared_papers[:20])
    embed_missing(engine, embedder)
    snapshots = container.settings.data_dir / "vectors"
    first = VectorIndex(engine, embedder.model_id, embedder.dim, snapshot_dir=snapshots)
    assert len(first) == 20 and first.wait_snapshots(30)
    assert list(snapshots.glob("*.meta.json"))

    reads = []
    original = VectorIndex._apply_increment
    monkeypatch.setattr(VectorIndex, "_apply_increment",
                        lambda self, since: reads.append(since) or original(self, since))
    fresh = VectorIndex(engine, embedder.model_id, embedder.dim, snapshot_dir=snapshots)
    assert len(fresh) == 20 and reads == []

    add_papers(engine, shared_papers[20:22])  # then a change is still found
    embed_missing(engine, embedder)
    fresh.refresh()
    assert len(fresh) == 22 and len(reads) == 1
