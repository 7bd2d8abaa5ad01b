"""`db copy`: every table moves SQLite <-> PostgreSQL, resumably, verified by row counts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select, text
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.demo import demo_items
from paperwire.services.ingest import ingest
from paperwire.store.db import create_db_engine, is_sqlite
from paperwire.store.tables import organizations
from paperwire.store.transfer import CopyError, copy_database, copyable_tables
from tests.postgres.fill import dump_tables, fill_every_table

MUST_FILL = {"papers", "paper_authors", "daily_entries", "organizations", "ingest_runs",
             "jobs", "job_runs"}


@pytest.fixture
def origin(database_url):
    engine = create_db_engine(database_url)
    ingest(engine, demo_items(date(2025, 6, 16)), source="demo", parameters={})
    skipped = fill_every_table(engine)
    assert not MUST_FILL & skipped.keys(), skipped
    yield engine
    engine.dispose()


def _keyword_hits(engine, word: str) -> int:
    if is_sqlite(engine):
        sql = "SELECT count(*) FROM papers_fts WHERE papers_fts MATCH :q"
    else:
        sql = (
            "SELECT count(*) FROM papers "
            "WHERE search_vector @@ websearch_to_tsquery('english', :q)"
        )
    with engine.connect() as conn:
        return conn.execute(text(sql), {"q": word}).scalar_one()


def test_round_trip_to_the_other_database_and_back_keeps_every_row(origin, other_url,
                                                                   same_kind_url):
    other = create_db_engine(other_url)
    back = create_db_engine(same_kind_url)
    there = copy_database(origin, other, batch_size=5)
    assert there.ok, there.summary_line()
    names = {t.name for t in there.tables}
    assert names >= MUST_FILL and "alembic_version" not in names
    assert not any(n.startswith("papers_fts") for n in names)  # derived, rebuilt by the target
    assert set(copyable_tables(origin).tables) == names
    assert sum(t.source_rows for t in there.tables) > 50
    # the keyword index was rebuilt by the target itself
    assert _keyword_hits(other, "mixture") == _keyword_hits(origin, "mixture") > 0
    assert dump_tables(other) == dump_tables(origin)

    home = copy_database(other, back, batch_size=7)
    assert home.ok and [t.source_rows for t in home.tables] == [t.source_rows for t in there.tables]
    assert dump_tables(back) == dump_tables(origin)

    # sequences/autoincrement moved past the copied ids: new rows get fresh ids
    for engine in (other, back):
        with engine.begin() as conn:
            conn.execute(insert(organizations).values(name="new-org", created_at=datetime.now(UTC)))
            ids = conn.execute(select(organizations.c.id)).scalars().all()
        assert len(ids) == len(set(ids))
    other.dispose()
    back.dispose()


def test_copy_resumes_after_an_interruption(origin, other_url):
    other = create_db_engine(other_url)

    class Interrupted(Exception):
        pass

    def stop_in_papers(table: str, done: int, total: int) -> None:
        if table == "papers" and done >= 4:
            raise Interrupted

    with pytest.raises(Interrupted):
        copy_database(origin, other, batch_size=4, on_progress=stop_in_papers)
    with other.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM papers")).scalar_one() == 4
    report = copy_database(origin, other, batch_size=4)
    assert report.ok
    papers = next(t for t in report.tables if t.name == "papers")
    assert papers.already_present == 4 and papers.copied == papers.source_rows - 4
    assert dump_tables(other) == dump_tables(origin)
    # a third run copies nothing and still verifies
    again = copy_database(origin, other)
    assert again.ok and again.copied == 0
    other.dispose()


def test_copy_refuses_to_copy_onto_itself(database_url):
    engine = create_db_engine(database_url)
    with pytest.raises(CopyError, match="same database"):
        copy_database(engine, create_db_engine(database_url))
    engine.dispose()


def test_cli_copy_prints_counts_and_verifies(origin, database_url, other_url, monkeypatch):
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["db", "copy", "--to", other_url, "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    assert "all row counts match" in result.output
    assert "papers" in result.output and "daily_entries" in result.output


def test_cli_copy_to_a_bad_url_is_one_clear_line(database_url, monkeypatch):
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["db", "copy", "--to", "nosuchdb://x"])
    assert result.exit_code == 1
    assert "error: not a usable database URL" in result.output
    assert "Traceback" not in result.output
