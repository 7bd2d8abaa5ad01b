"""Ingest through several writer connections (PostgreSQL's default) stores exactly
what one writer stores, and a bulk batch goes through COPY there."""

from datetime import date

import pytest
from sqlalchemy import func, select

from paperwire.domain.records import DailyEntryRecord, OrganizationRecord, PaperRecord, SourceItem
from paperwire.services.ingest import ingest
from paperwire.store.papers import get_paper
from paperwire.store.tables import daily_entries, organizations, paper_authors, papers


def _items(round_no: int) -> list[SourceItem]:
    """300 papers in 3 organizations; round 2 updates every third paper's summary."""
    out = []
    for n in range(300):
        paper_id = f"2507.{n:05d}"
        summary = f"summary {round_no}" if round_no == 2 and n % 3 == 0 else None
        out.append(SourceItem(
            PaperRecord(
                id=paper_id, title=f"Paper {n}", abstract=f"About topic {n % 7}.",
                authors=(f"Author {n}", "Shared Author"), ai_summary=summary,
                organization=OrganizationRecord(name=f"org-{n % 3}", fullname=f"Org {n % 3}"),
                sources=frozenset({"test"}),
            ),
            DailyEntryRecord(paper_id, date(2025, 7, 1 + n % 5), "test"),
        ))
    return out


@pytest.mark.parametrize("writers", [1, 3])
def test_several_writers_store_the_same_as_one(container, writers):
    engine = container.engine
    if engine.dialect.name == "sqlite" and writers > 1:
        writers = 1  # SQLite has one writer: several would only queue on its lock
    first = ingest(engine, _items(1), source="test", parameters={}, batch_size=64,
                   writers=writers)
    assert (first.papers, first.new, first.updated, first.daily_entries) == (300, 300, 0, 300)
    second = ingest(engine, _items(2), source="test", parameters={}, batch_size=64,
                    writers=writers)
    assert (second.papers, second.new, second.updated, second.daily_entries) == (300, 0, 100, 0)
    with engine.connect() as conn:
        count = lambda table: conn.execute(select(func.count()).select_from(table)).scalar_one()  # noqa: E731
        assert count(papers) == 300
        assert count(paper_authors) == 600
        assert count(daily_entries) == 300
        assert count(organizations) == 3
        paper = get_paper(conn, "2507.00003")
        assert paper.ai_summary == "summary 2" and paper.authors == ("Author 3", "Shared Author")
        assert paper.organization.name == "org-0"
        assert get_paper(conn, "2507.00004").ai_summary is None


def test_a_bulk_import_clears_the_page_cache(container):
    from paperwire.web.cache import TTLCache

    engine = container.engine
    cache = TTLCache()
    cache.watch(engine)
    cache.get_or_compute("daily", 60, lambda: "before the import")
    items = [SourceItem(PaperRecord(id=f"2508.{n:05d}", title=f"P {n}", sources=frozenset({"t"})))
             for n in range(300)]
    ingest(engine, items, source="test", parameters={})  # 300 new rows: COPY on PostgreSQL
    assert cache.get_or_compute("daily", 60, lambda: "after") == "after"


def test_a_duplicate_key_in_a_bulk_insert_is_an_integrity_error_and_writes_nothing(container):
    from sqlalchemy.exc import IntegrityError

    from paperwire.store.bulk_insert import insert_rows

    rows = [{"paper_id": "2507.00001", "position": n, "name": f"A{n}", "name_key": f"a{n}"}
            for n in range(100)]
    ingest(container.engine, [SourceItem(PaperRecord(id="2507.00001", title="T",
                                                     authors=("A0",), sources=frozenset({"t"})))],
           source="test", parameters={})
    with pytest.raises(IntegrityError), container.engine.begin() as conn:
        insert_rows(conn, paper_authors, rows)  # position 0 is taken: COPY on PostgreSQL
    with container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(paper_authors)).scalar_one() == 1
