"""Only `paperwire db migrate` and `serve` migrate. Every other command refuses a
database at an older schema (or none) with one line that says what to run; commands
that put data in (`import`, ...) may create the schema in a new, empty database."""

from __future__ import annotations

import pytest
from alembic import command
from typer.testing import CliRunner

from paperwire.store.db import create_db_engine
from paperwire.store.migrate import alembic_config, current_revision, head_revision
from tests.conftest import BACKEND

OLDER = "0011_subscriber_token_version"


@pytest.fixture
def empty_url(request, tmp_path):
    if BACKEND == "postgres":
        server = request.getfixturevalue("_postgres_server")
        url = server.empty_database()
        yield url
        server.drop_database(url)
        return
    yield f"sqlite:///{tmp_path / 'data' / 'paperwire.db'}"


def _cli(monkeypatch, tmp_path, url):
    from paperwire.cli import app

    monkeypatch.setenv("PAPERWIRE_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", url)
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), catch_exceptions=False)


def _revision(url):
    engine = create_db_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def _migrate_to(url, revision, tmp_path):
    (tmp_path / "data").mkdir(exist_ok=True)
    engine = create_db_engine(url)
    try:
        command.upgrade(alembic_config(engine), revision)
    finally:
        engine.dispose()


def _records(tmp_path):
    records = tmp_path / "one.jsonl"
    records.write_text('{"id": "2401.00001", "title": "A paper", "abstract": "Text.", '
                       '"authors": ["A. Author"], "published": "2024-01-01"}\n')
    return str(records)


@pytest.mark.parametrize("args", [("search", "attention"), ("user", "list"),
                                  ("import", "RECORDS")])
def test_commands_refuse_an_older_schema_without_touching_it(monkeypatch, tmp_path, empty_url,
                                                             args):
    _migrate_to(empty_url, OLDER, tmp_path)
    cli = _cli(monkeypatch, tmp_path, empty_url)
    result = cli(*[_records(tmp_path) if arg == "RECORDS" else arg for arg in args])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "paperwire db migrate" in lines[0], result.output
    assert _revision(empty_url) == OLDER  # not upgraded behind the operator's back


def test_read_commands_refuse_a_database_that_does_not_exist(monkeypatch, tmp_path, empty_url):
    cli = _cli(monkeypatch, tmp_path, empty_url)
    result = cli("search", "attention")
    assert result.exit_code == 1 and "paperwire db migrate" in result.output, result.output
    if BACKEND == "sqlite":
        assert not (tmp_path / "data" / "paperwire.db").exists()
    else:
        assert _revision(empty_url) is None


def test_import_creates_the_schema_in_a_new_empty_database(monkeypatch, tmp_path, empty_url):
    cli = _cli(monkeypatch, tmp_path, empty_url)
    result = cli("import", _records(tmp_path))
    assert result.exit_code == 0, result.output
    assert _revision(empty_url) == head_revision()


def test_db_migrate_upgrades_an_older_schema(monkeypatch, tmp_path, empty_url):
    _migrate_to(empty_url, OLDER, tmp_path)
    cli = _cli(monkeypatch, tmp_path, empty_url)
    result = cli("db", "migrate")
    assert result.exit_code == 0, result.output
    assert _revision(empty_url) == head_revision()
    assert cli("user", "list").exit_code == 0
