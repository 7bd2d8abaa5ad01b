"""Two processes migrating a brand-new database at once: one migrates, the other waits
for its lock and finds nothing left to do; neither fails."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from paperwire.store.db import create_db_engine
from paperwire.store.migrate import current_revision, head_revision
from tests.conftest import BACKEND


@pytest.fixture
def empty_database_urls(request, tmp_path):
    """Three new databases without any schema."""
    if BACKEND == "postgres":
        server = request.getfixturevalue("_postgres_server")
        urls = [server.empty_database() for _ in range(3)]
        yield urls
        for url in urls:
            server.drop_database(url)
        return
    yield [f"sqlite:///{tmp_path / f'fresh-{n}' / 'paperwire.db'}" for n in range(3)]


def _migrate(url: str, data_dir) -> subprocess.Popen:
    env = os.environ | {"PAPERWIRE_DATABASE_URL": url, "PAPERWIRE_DATA_DIR": str(data_dir),
                        "PAPERWIRE_EMBEDDER": "none"}
    return subprocess.Popen(
        [sys.executable, "-c", "from paperwire.cli import main; main()", "db", "migrate"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_two_first_migrations_at_once_both_succeed(empty_database_urls, tmp_path):
    for n, url in enumerate(empty_database_urls):  # a race lost once in three is caught
        runs = [_migrate(url, tmp_path / f"data-{n}") for _ in range(2)]
        results = [(run.wait(timeout=300), run.communicate()[1]) for run in runs]
        assert [code for code, _ in results] == [0, 0], results
        assert not any("Traceback" in err for _, err in results)
        engine = create_db_engine(url)
        try:
            assert current_revision(engine) == head_revision()
        finally:
            engine.dispose()
