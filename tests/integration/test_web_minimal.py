from datetime import date

from paperwire.demo import demo_items
from paperwire.services.ingest import ingest


def test_home_lists_papers(container, client):
    ingest(container.engine, demo_items(date(2025, 6, 16)), source="demo", parameters={})
    response = client.get("/")
    assert response.status_code == 200
    assert "[Demo] Sparse Mixture-of-Experts" in response.text
    assert client.get("/healthz").json() == {"status": "ok"}
