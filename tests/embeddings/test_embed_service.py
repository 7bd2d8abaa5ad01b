import re
from datetime import date

import pytest
from sqlalchemy import func, select

from paperwire import worker as worker_module
from paperwire.services.embeddings import EmbedStats, embed_missing, papers_needing_embeddings
from paperwire.store.tables import paper_embeddings
from tests.embeddings.conftest import CountingEmbedder, add_papers
from tests.search.conftest import HashingEmbedder


def stored_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(paper_embeddings)).scalar_one()


def test_limit_then_rerun_fills_the_rest(container, embedder, shared_papers):
    add_papers(container.engine, shared_papers[:12])
    seen = []
    assert (
        embed_missing(
            container.engine,
            embedder,
            batch_size=4,
            limit=5,
            progress=lambda done, total: seen.append((done, total)),
        )
        == 5
    )
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)
    assert stored_count(container.engine) == 5
    assert embed_missing(container.engine, embedder, batch_size=4) == 7
    assert stored_count(container.engine) == 12


def test_interrupted_run_keeps_finished_batches(container, embedder, shared_papers):
    add_papers(container.engine, shared_papers[:12])
    stopping = CountingEmbedder(embedder, fail_on_call=3)
    with pytest.raises(KeyboardInterrupt):
        embed_missing(container.engine, stopping, batch_size=4)
    assert stored_count(container.engine) == 8  # two whole batches, nothing half-written
    resumed = CountingEmbedder(embedder)
    assert embed_missing(container.engine, resumed, batch_size=4) == 4
    assert resumed.texts == 4
    assert stored_count(container.engine) == 12


def test_cache_hit_avoids_re_embedding(container, embedder, shared_papers, tmp_path, database_url):
    cache_dir = tmp_path / "cache"
    add_papers(container.engine, shared_papers[:10])
    first = CountingEmbedder(embedder)
    stats = EmbedStats()
    assert embed_missing(container.engine, first, cache_dir=cache_dir, stats=stats) == 10
    assert (first.texts, stats.cached) == (10, 0)

    # Same texts in another database (as the relevance harness does on a rerun): no model calls.
    with container.engine.begin() as conn:
        conn.execute(paper_embeddings.delete())
    second = CountingEmbedder(embedder)
    stats = EmbedStats()
    assert embed_missing(container.engine, second, cache_dir=cache_dir, stats=stats) == 10
    assert (second.calls, second.texts, stats.cached) == (0, 0, 10)


def test_bad_batch_size_is_refused(container, embedder):
    with pytest.raises(ValueError, match="batch size"):
        embed_missing(container.engine, embedder, batch_size=0)


def test_the_daily_worker_embeds_new_papers_before_the_digests(
    container, shared_papers
):
    day = date(2025, 6, 16)
    assert worker_module.STEPS.index("embed") < worker_module.STEPS.index("digests")
    container.__dict__["embedder"] = None
    assert worker_module.Worker(container)._embed(day) == "semantic search is off"

    add_papers(container.engine, shared_papers[:5])
    embedder = HashingEmbedder()
    stopped = embed_missing(container.engine, embedder, batch_size=2, should_stop=lambda: True)
    assert stopped == 0 and len(papers_needing_embeddings(container.engine, embedder.model_id)) == 5
    container.__dict__["embedder"] = embedder
    worker = worker_module.Worker(container)
    line = re.compile(r"embedded (\d+) papers in [\d.]+ s \([\d,.]+/s, (.+)\)")
    assert line.fullmatch(worker._embed(day)).groups() == ("5", embedder.model_id)
    assert papers_needing_embeddings(container.engine, embedder.model_id) == []
    assert line.fullmatch(worker._embed(day)).groups() == ("0", embedder.model_id)


def test_a_new_default_model_id_re_embeds_every_paper_and_ignores_the_old_vectors(
    container, shared_papers
):
    """Upgrading from the two-window default (`minilm-l6-v2-t254w128`) to the one-pass one:
    the old vectors are neither reused nor searched; every paper is embedded again."""
    from paperwire.search.embedder import default_model_id
    from paperwire.search.vectors import VectorIndex

    class Old(HashingEmbedder):
        model_id = default_model_id(254, 128)

    class New(HashingEmbedder):
        model_id = default_model_id(256, 256)

    add_papers(container.engine, shared_papers[:6])
    assert embed_missing(container.engine, Old()) == 6
    assert len(papers_needing_embeddings(container.engine, New.model_id)) == 6

    def index(model):
        return VectorIndex(container.engine, model.model_id, model.dim,
                           snapshot_dir=container.settings.data_dir / "vectors",
                           refresh_interval_s=0)

    assert index(New()).coverage() == (0, 6)
    assert index(New()).search(New().embed(["graph"])[0], 5) == []
    assert embed_missing(container.engine, New()) == 6
    assert index(New()).coverage() == (6, 6) and index(Old()).coverage() == (6, 6)
    assert papers_needing_embeddings(container.engine, New.model_id) == []
    assert stored_count(container.engine) == 12  # the old rows stay, unused
