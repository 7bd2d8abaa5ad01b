from datetime import date

from sqlalchemy import func, select

from paperwire.demo import demo_items
from paperwire.domain.records import DailyEntryRecord, PaperRecord, Rejected, SourceItem
from paperwire.services.ingest import ingest
from paperwire.store.migrate import head_revision, is_up_to_date
from paperwire.store.papers import get_paper
from paperwire.store.tables import daily_entries, ingest_runs, paper_authors


def test_database_is_migrated_to_head(container):
    assert is_up_to_date(container.engine)
    assert head_revision()


def test_ingest_merges_counts_and_is_idempotent(container):
    items = [
        SourceItem(
            PaperRecord(
                id="2506.00001", title="One", authors=("A", "B"), sources=frozenset({"arxiv"})
            )
        ),
        SourceItem(
            PaperRecord(id="2506.00001", title="One", ai_summary="s", sources=frozenset({"hf"})),
            DailyEntryRecord("2506.00001", date(2025, 6, 2), "hf", submitted_by="u"),
        ),
        Rejected("file.json:3", "not an object"),
        SourceItem(PaperRecord(id="2506.00002", title="Two", sources=frozenset({"arxiv"}))),
    ]
    first = ingest(container.engine, items, source="test", parameters={}, batch_size=2)
    assert first.summary_line() == (
        "imported 2 papers (2 new, 0 updated), 1 daily entries, 1 rejected"
    )
    second = ingest(container.engine, items, source="test", parameters={}, batch_size=2)
    assert (second.new, second.updated, second.daily_entries) == (0, 0, 0)
    with container.engine.connect() as conn:
        paper = get_paper(conn, "2506.00001")
        assert (
            paper.sources == {"arxiv", "hf"} and paper.ai_summary == "s"
            and paper.authors == ("A", "B")
        )
        assert conn.execute(select(func.count()).select_from(paper_authors)).scalar_one() == 2
        assert conn.execute(select(func.count()).select_from(daily_entries)).scalar_one() == 1
        runs = conn.execute(select(ingest_runs).order_by(ingest_runs.c.id)).all()
        assert [r.status for r in runs] == ["ok", "ok"]
        assert runs[0].rejected == 1 and runs[0].errors == ["file.json:3: not an object"]


def test_demo_items_are_marked_and_load(container):
    report = ingest(container.engine, demo_items(date(2025, 6, 16)), source="demo", parameters={})
    assert report.new == 12 and report.daily_entries == 12
    with container.engine.connect() as conn:
        paper = get_paper(conn, "0001.0001")
        assert paper.title.startswith("[Demo]") and "demo data" in paper.abstract
        assert paper.sources == {"demo"}
