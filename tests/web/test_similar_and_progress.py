"""Similar papers are not cached empty after a failure; embedding progress is said once."""

from fastapi.testclient import TestClient

from paperwire.search.vectors import VectorIndex
from paperwire.services.embeddings import embed_missing
from paperwire.services.search import SearchService
from paperwire.web.app import create_app
from tests.search.conftest import HashingEmbedder


def test_similar_papers_after_a_failure_are_asked_again(seeded):
    service = seeded.search
    original = service.similar
    calls = []

    def flaky(paper_id, **kwargs):
        calls.append(paper_id)
        if len(calls) == 1:
            raise RuntimeError("index still loading")
        return original(paper_id, **kwargs)

    service.similar = flaky
    with TestClient(create_app(seeded)) as client:
        first = client.get("/papers/2506.11924", params={"format": "json"})
        assert first.status_code == 200 and first.json()["similar"] == []
        second = client.get("/papers/2506.11924", params={"format": "json"}).json()
        assert len(calls) == 2
        assert second["similar"] and all(c["id"] != "2506.11924" for c in second["similar"])


def test_search_page_shows_embedding_progress_once(seeded):
    embedder = HashingEmbedder()
    embed_missing(seeded.engine, embedder, limit=2)
    index = VectorIndex(seeded.engine, embedder.model_id, embedder.dim, refresh_interval_s=0)
    have, total = index.coverage()
    assert 0 < have < total
    seeded.__dict__["search"] = SearchService(seeded.engine, lambda: (embedder, index, None),
                                              keyword_index=seeded.keyword_index)
    with TestClient(create_app(seeded)) as client:
        page = client.get("/search", params={"q": "diffusion", "mode": "hybrid"})
        assert page.status_code == 200
        assert page.text.count("papers embedded") == 1
        assert f"{have:,} of {total:,} papers embedded" in page.text
        assert "have no embedding yet" not in page.text
        data = client.get("/search", params={"q": "diffusion", "format": "json"}).json()
        assert data["embeddingProgress"] == {"embedded": have, "papers": total}
