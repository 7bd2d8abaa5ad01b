"""Daily entries keep the source item's fields; re-importing fills them in, never overwrites."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from paperwire.domain.records import DailyEntryRecord, PaperRecord, SourceItem
from paperwire.services.ingest import ingest
from paperwire.store.db import aware_utc
from paperwire.store.tables import daily_entries

DAY = date(2025, 6, 16)
PAPER = PaperRecord(id="2506.11924", title="T", sources=frozenset({"hf"}))


def _entry(**fields) -> DailyEntryRecord:
    return DailyEntryRecord("2506.11924", DAY, "hf", submitted_by="bracio9623", **fields)


def _row(engine):
    with engine.connect() as conn:
        return conn.execute(select(daily_entries)).one()


def test_reimport_fills_missing_item_fields_and_keeps_stored_ones(container):
    engine = container.engine
    ingest(engine, [SourceItem(PAPER, _entry())], source="hf", parameters={})
    assert _row(engine).thumbnail is None  # as stored before the fields were kept

    full = _entry(
        thumbnail="https://cdn.example/2506.11924.png",
        published_at=datetime(2025, 6, 13, 12, 19, tzinfo=UTC),
        submitter={"name": "bracio9623", "fullname": "Bracio", "isPro": False},
        source_position=1,
    )
    ingest(engine, [SourceItem(PAPER, full)], source="hf", parameters={})
    row = _row(engine)
    assert row.thumbnail == full.thumbnail and row.source_position == 1
    assert aware_utc(row.published_at) == full.published_at
    assert row.submitter == {"name": "bracio9623", "fullname": "Bracio", "isPro": False}

    other = _entry(thumbnail="https://cdn.example/other.png", source_position=7)
    ingest(engine, [SourceItem(PAPER, other)], source="hf", parameters={})
    row = _row(engine)
    assert row.thumbnail == full.thumbnail and row.source_position == 1
