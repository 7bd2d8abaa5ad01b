"""Fixtures shared by every test: a migrated database on the chosen backend, settings, app.

PAPERWIRE_TEST_BACKEND=sqlite (default) or postgres picks the backend; `make test`
runs the whole suite once with each.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperwire.config import Settings, load_settings
from paperwire.store.db import create_db_engine
from paperwire.store.migrate import upgrade
from paperwire.wiring import Container, build_container

BACKEND = os.environ.get("PAPERWIRE_TEST_BACKEND", "sqlite")
ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAPERWIRE_SHARED_DIR", ROOT.parent / "shared"))


def pytest_collection_modifyitems(config, items):
    skip_marker = "sqlite_only" if BACKEND == "postgres" else "postgres_only"
    for item in items:
        if skip_marker in item.keywords:
            item.add_marker(pytest.mark.skip(reason=f"not for the {BACKEND} backend"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    assert SHARED.is_dir(), f"the shared data folder is missing at {SHARED}"
    return SHARED


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_server():
    from tests.pg_server import PostgresServer

    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """A fresh, fully migrated database for this test."""
    if BACKEND == "postgres":
        server = request.getfixturevalue("_postgres_server")
        url = server.fresh_database()
        yield url
        with contextlib.suppress(Exception):  # keeps the temp server's disk use flat
            server.drop_database(url)
        return
    template = request.getfixturevalue("_sqlite_template")
    path = tmp_path / "paperwire.db"
    shutil.copyfile(template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        embedder="none",
        arxiv_delay_s=0.0,
        fulltext_fetch=False,  # tests that fetch full text point it at a local server
    )


@pytest.fixture
def container(settings) -> Iterator[Container]:
    container = build_container(settings)
    container.prepare_database()
    try:
        yield container
    finally:
        container.close()


@pytest.fixture
def client(container):
    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app

    with TestClient(create_app(container)) as test_client:
        yield test_client
