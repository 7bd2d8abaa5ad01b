from datetime import date

import pytest
from fastapi.testclient import TestClient

from paperwire.config import load_settings
from paperwire.demo import demo_items
from paperwire.services.ingest import ingest
from paperwire.store.migrate import SchemaNotCurrent, upgrade
from paperwire.web.asgi import create_app_from_env
from paperwire.wiring import build_container


def test_home_lists_papers(container, client):
    ingest(container.engine, demo_items(date(2025, 6, 16)), source="demo", parameters={})
    response = client.get("/")
    assert response.status_code == 200
    assert "[Demo] Sparse Mixture-of-Experts" in response.text
    assert client.get("/healthz").json() == {"status": "ok"}


def test_app_factory_refuses_an_unmigrated_database_with_a_clear_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    with pytest.raises(SchemaNotCurrent, match="run `paperwire db migrate` first"):
        create_app_from_env()

    container = build_container(load_settings())
    upgrade(container.engine)
    container.close()
    with TestClient(create_app_from_env()) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
