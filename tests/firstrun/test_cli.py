"""The first-run CLI: the demo set apart from real papers, which database a command uses,
the base URL from --host/--port."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from paperwire.store.db import create_db_engine
from paperwire.store.tables import daily_entries, organizations, papers

FIXTURE_DAY = Path(__file__).parents[1] / "integration/live/fixtures/hf-2025-06-10.json"


@pytest.fixture
def cli(monkeypatch, tmp_path, database_url):
    from paperwire.cli import app

    monkeypatch.setenv("PAPERWIRE_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", database_url)
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def _counts(database_url) -> tuple[int, int, int]:
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            demo = conn.execute(
                select(func.count()).select_from(papers).where(papers.c.id.like("0001.%"))
            ).scalar_one()
            real = conn.execute(select(func.count()).select_from(papers)).scalar_one() - demo
            orgs = conn.execute(
                select(func.count()).select_from(organizations)
                .where(organizations.c.name.in_(["demo-lab", "example-ai"]))
            ).scalar_one()
        return demo, real, orgs
    finally:
        engine.dispose()


def test_demo_load_and_remove_with_everything_attached(cli, database_url):
    loaded = cli("demo", "load")
    assert loaded.exit_code == 0 and "imported 12 papers" in loaded.output
    assert _counts(database_url) == (12, 0, 2)
    engine = create_db_engine(database_url)
    from paperwire.services import accounts, community

    user = accounts.create_user(engine, username="carol", email="c@example.org",
                                password="a-long-password-1", role="user", verified=True)
    community.add_comment(engine, user, "0001.0001", "a comment on a demo paper")
    community.set_vote(engine, user, "0001.0002", True)
    engine.dispose()
    removed = cli("demo", "remove")
    assert removed.exit_code == 0
    assert "removed the demo set: 12 papers" in removed.output
    assert _counts(database_url) == (0, 0, 0)
    engine = create_db_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(daily_entries)).scalar_one() == 0
    engine.dispose()
    assert "no demo papers" in cli("demo", "remove").output


def test_importing_real_papers_removes_the_demo_set_and_says_so(cli, database_url):
    cli("demo", "load")
    done = cli("import", str(FIXTURE_DAY))
    assert done.exit_code == 0, done.output
    assert "removed the demo set (12 papers) now that real papers are here" in done.output
    assert _counts(database_url) == (0, 3, 0)
    refused = cli("demo", "load")
    assert refused.exit_code == 1 and "already holds real papers" in refused.output
    assert _counts(database_url) == (0, 3, 0)


def test_serve_demo_never_loads_over_real_papers(cli, database_url):
    from paperwire.cli.context import open_container
    from paperwire.cli.serve import _load_demo

    cli("import", str(FIXTURE_DAY))
    with open_container() as container:
        _load_demo(container)
    assert _counts(database_url) == (0, 3, 0)


def _unset_base_url_until_teardown(monkeypatch) -> None:
    """derive_base_url writes os.environ itself; setenv first makes teardown remove it."""
    monkeypatch.setenv("PAPERWIRE_BASE_URL", "")
    monkeypatch.delenv("PAPERWIRE_BASE_URL")


def test_base_url_from_host_and_port_when_unset(monkeypatch, tmp_path):
    from paperwire.cli.serve import derive_base_url
    from paperwire.config import load_settings

    monkeypatch.setenv("PAPERWIRE_CONFIG", str(tmp_path / "absent.toml"))
    _unset_base_url_until_teardown(monkeypatch)
    note = derive_base_url("127.0.0.1", 8765)
    assert note and "http://127.0.0.1:8765" in note and "PAPERWIRE_BASE_URL" in note
    assert load_settings().base_url == "http://127.0.0.1:8765"
    # Set, it wins and nothing is printed.
    monkeypatch.setenv("PAPERWIRE_BASE_URL", "https://papers.example.org")
    assert derive_base_url("0.0.0.0", 9000) is None
    assert load_settings().base_url == "https://papers.example.org"
    monkeypatch.delenv("PAPERWIRE_BASE_URL")
    assert "http://127.0.0.1:9000" in derive_base_url("0.0.0.0", 9000)


def test_mail_links_use_the_derived_base_url(monkeypatch, tmp_path, database_url):
    from paperwire.cli.serve import derive_base_url
    from paperwire.config import load_settings

    monkeypatch.setenv("PAPERWIRE_CONFIG", str(tmp_path / "absent.toml"))
    _unset_base_url_until_teardown(monkeypatch)
    derive_base_url("127.0.0.1", 8765)
    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app
    from paperwire.wiring import build_container

    container = build_container(load_settings(data_dir=tmp_path / "d", database_url=database_url,
                                              embedder="none"))
    container.prepare_database()
    try:
        with TestClient(create_app(container)) as client:
            feed = client.get("/feeds/daily.xml").text
        assert "http://127.0.0.1:8765" in feed and "127.0.0.1:8000" not in feed
    finally:
        container.close()


def test_the_cli_finds_the_checkouts_data_folder_from_any_subfolder(monkeypatch, tmp_path):
    from paperwire.config import find_data_dir, load_settings

    checkout = tmp_path / "checkout"
    (checkout / "paperwire-data").mkdir(parents=True)
    (checkout / "paperwire-data" / "paperwire.db").write_bytes(b"")
    deep = checkout / "docs" / "sub"
    deep.mkdir(parents=True)
    assert find_data_dir(deep) == checkout / "paperwire-data"
    assert find_data_dir(checkout) == Path("paperwire-data")
    assert find_data_dir(tmp_path) == Path("paperwire-data")  # outside: ./paperwire-data
    monkeypatch.chdir(deep)
    monkeypatch.setenv("PAPERWIRE_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("PAPERWIRE_DATA_DIR", raising=False)
    monkeypatch.delenv("PAPERWIRE_DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.data_dir == checkout / "paperwire-data"
    assert settings.database_url.endswith("checkout/paperwire-data/paperwire.db")


def test_a_command_that_creates_a_new_database_says_where(monkeypatch, tmp_path):
    from paperwire.cli import app

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("PAPERWIRE_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("PAPERWIRE_DATA_DIR", raising=False)
    monkeypatch.delenv("PAPERWIRE_DATABASE_URL", raising=False)
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    created = elsewhere / "paperwire-data" / "paperwire.db"
    # A command that only reads creates nothing; it says where it looked and what to run.
    refused = CliRunner().invoke(app, ["user", "list"], catch_exceptions=False)
    assert refused.exit_code == 1 and not created.exists()
    assert str(created) in refused.output and "paperwire db migrate" in refused.output
    assert "PAPERWIRE_DATA_DIR" in refused.output
    # A command that puts data in may create a new database, and says where.
    records = tmp_path / "one.jsonl"
    records.write_text('{"id": "2401.00001", "title": "A paper", "abstract": "Text.", '
                       '"authors": ["A. Author"], "published": "2024-01-01"}\n')
    result = CliRunner().invoke(app, ["import", str(records)], catch_exceptions=False)
    assert created.is_file()
    assert f"created a new, empty database at {created}" in result.output
    assert "PAPERWIRE_DATA_DIR" in result.output
    again = CliRunner().invoke(app, ["user", "list"], catch_exceptions=False)
    assert again.exit_code == 0 and "created a new" not in again.output
    assert os.path.samefile(created, elsewhere / "paperwire-data" / "paperwire.db")
