"""Search answers are cached briefly, and a paper write clears them at once."""

from fastapi.testclient import TestClient

from paperwire.domain.records import PaperRecord, SourceItem
from paperwire.services.ingest import ingest
from paperwire.web.app import create_app


def test_repeated_search_is_served_from_cache_until_papers_change(seeded):
    calls = []
    service = seeded.search
    original = service.search

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    service.search = counting
    with TestClient(create_app(seeded)) as client:
        first = client.get("/api/papers/search", params={"q": "okapiwords"}).json()
        again = client.get("/api/papers/search", params={"q": "okapiwords"}).json()
        assert first == again == [] and len(calls) == 1
        ingest(seeded.engine, [SourceItem(PaperRecord(
            id="2509.00042", title="Okapiwords at scale", abstract="About okapiwords.",
            sources=frozenset({"test"}),
        ))], source="test", parameters={})
        after = client.get("/api/papers/search", params={"q": "okapiwords"}).json()
        assert [item["paper"]["id"] for item in after] == ["2509.00042"]
        assert len(calls) == 2
        page = client.get("/search", params={"q": "okapiwords", "format": "json"}).json()
        assert len(calls) == 3 and page["papers"][0]["id"] == "2509.00042"
