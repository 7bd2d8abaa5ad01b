"""Change events are published after commit, never on rollback; the page cache
consumes them, so a reader racing a write cannot keep pre-write data as fresh."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from paperwire.domain.records import PaperRecord
from paperwire.store.events import (
    LibraryChanged,
    PaperPart,
    PapersChanged,
    bus_for,
    record,
)
from paperwire.store.papers import upsert_papers
from paperwire.store.tables import papers
from paperwire.web.cache import MISSING, TTLCache


@pytest.fixture
def engine(container):
    engine = container.engine
    with engine.begin() as conn:
        upsert_papers(conn, [PaperRecord(id="2501.00001", title="Old title",
                                         sources=frozenset({"test"}))])
    return engine


@pytest.fixture
def delivered(engine):
    seen: list[list] = []
    unsubscribe = bus_for(engine).subscribe(lambda events: seen.append(list(events)))
    yield seen
    unsubscribe()


def _title(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(select(papers.c.title).where(papers.c.id == "2501.00001")).scalar_one()


def _retitle(conn, title: str) -> None:
    conn.execute(update(papers).where(papers.c.id == "2501.00001").values(title=title))
    record(conn, PapersChanged.of(["2501.00001"]))


def test_events_are_delivered_once_after_commit_and_merged_per_kind(engine, delivered):
    with engine.connect() as conn:
        with conn.begin():
            _retitle(conn, "New title")
            record(conn, PapersChanged.of(["2501.00002"]), PapersChanged.of(["x"], PaperPart.VOTES),
                   LibraryChanged(1), PapersChanged.of(["y"], PaperPart.VOTES), LibraryChanged(2),
                   LibraryChanged(1))
            assert delivered == []  # nothing before the commit
        assert delivered == [[PapersChanged(frozenset({"2501.00001", "2501.00002"})),
                              PapersChanged(frozenset({"x", "y"}), PaperPart.VOTES),
                              LibraryChanged(1), LibraryChanged(2)]]
        with conn.begin():  # the next transaction on the same connection starts empty
            conn.execute(select(1))
        assert len(delivered) == 1


def test_an_event_is_not_delivered_on_rollback(engine, delivered):
    with engine.connect() as conn, conn.begin() as tx:
        _retitle(conn, "Rolled back")
        tx.rollback()
    assert delivered == []
    with pytest.raises(RuntimeError), engine.begin() as conn:
        _retitle(conn, "Rolled back too")
        raise RuntimeError("the writer fails before its commit")
    assert delivered == []
    with engine.connect() as conn:  # returned to the pool without commit: rolled back
        _retitle(conn, "Never committed")
    assert delivered == []
    with engine.begin() as conn:  # and nothing of those leaks into a later commit
        conn.execute(select(1))
    assert delivered == [] and _title(engine) == "Old title"


def test_a_rolled_back_savepoint_drops_only_its_own_events(engine, delivered):
    with engine.begin() as conn:
        record(conn, PapersChanged.of(["kept"], PaperPart.COMMENTS))
        with conn.begin_nested() as savepoint:
            _retitle(conn, "In a savepoint")
            savepoint.rollback()
    assert delivered == [[PapersChanged.of(["kept"], PaperPart.COMMENTS)]]


def test_a_failing_handler_does_not_fail_the_writer_or_other_handlers(engine, delivered):
    def broken(events):
        raise ValueError("handler bug")

    unsubscribe = bus_for(engine).subscribe(broken)
    try:
        with engine.begin() as conn:
            _retitle(conn, "Committed anyway")
    finally:
        unsubscribe()
    assert _title(engine) == "Committed anyway" and len(delivered) == 1


def test_a_reader_between_write_and_commit_cannot_store_pre_write_data(engine):
    """The reader computes after the write statement ran but before its commit: it
    reads the committed, pre-write title. The cache must not keep that answer past
    the commit (with the old before-commit invalidation it was kept as fresh)."""
    cache = TTLCache()
    cache.watch(engine)
    with engine.connect() as writer:
        writer.begin()
        _retitle(writer, "New title")
        assert cache.get_or_compute("title", 60, lambda: _title(engine)) == "Old title"
        writer.commit()
    assert cache.get("title") is MISSING
    assert cache.get_or_compute("title", 60, lambda: _title(engine)) == "New title"


def test_a_commit_during_a_computation_keeps_its_answer_out_of_the_cache(engine):
    """Reader thread: reads the old title, then waits; the writer commits; the reader
    returns its (now stale) answer, which must not be stored."""
    cache = TTLCache()
    cache.watch(engine)
    read_done, committed = threading.Event(), threading.Event()

    def compute():
        value = _title(engine)
        read_done.set()
        assert committed.wait(10)
        return value

    answers = []
    reader = threading.Thread(target=lambda: answers.append(
        cache.get_or_compute("title", 60, compute)))
    reader.start()
    assert read_done.wait(10)
    with engine.begin() as conn:
        _retitle(conn, "New title")
    committed.set()
    reader.join(10)
    assert answers == ["Old title"]
    assert cache.get("title") is MISSING
    assert cache.get_or_compute("title", 60, lambda: _title(engine)) == "New title"


def test_the_write_path_publishes_paper_entry_vote_and_comment_events(engine, delivered):
    from datetime import date

    from paperwire.domain.records import DailyEntryRecord
    from paperwire.services import accounts, community
    from paperwire.store.papers import add_daily_entries

    user = accounts.create_user(engine, username="carol", email="c@example.org",
                                password="a-long-password-1", role="user", verified=True)
    delivered.clear()
    with engine.begin() as conn:
        upsert_papers(conn, [PaperRecord(id="2501.00009", title="New",
                                         sources=frozenset({"test"}))])
        add_daily_entries(conn, [DailyEntryRecord(paper_id="2501.00009", day=date(2025, 1, 2),
                                                  source="test")])
    community.set_vote(engine, user, "2501.00001", True)
    community.add_comment(engine, user, "2501.00001", "a comment")
    assert delivered == [
        [PapersChanged.of(["2501.00009"]), PapersChanged.of(["2501.00009"], PaperPart.DAILY)],
        [PapersChanged.of(["2501.00001"], PaperPart.VOTES), LibraryChanged(user.id)],
        [PapersChanged.of(["2501.00001"], PaperPart.COMMENTS)],
    ]


def test_the_page_cache_is_kept_through_embedding_batches(engine):
    """The worker stores embeddings batch after batch; the page cache stays warm."""
    import numpy as np

    from paperwire.store.embeddings import EmbeddingRow, save_embeddings

    cache = TTLCache()
    cache.watch(engine)
    cache.get_or_compute("daily", 60, lambda: "page")
    with engine.begin() as conn:
        save_embeddings(conn, "m", [EmbeddingRow("2501.00001", np.ones(4, np.float32), "h")])
    assert cache.get("daily") == "page"
    with engine.begin() as conn:
        _retitle(conn, "New title")
    assert cache.get("daily") is MISSING
