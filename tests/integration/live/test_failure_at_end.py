"""A source that fails mid-stream: everything before the failure is saved, the run is failed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from paperwire.domain.records import PaperRecord, SourceItem
from paperwire.services.ingest import ingest
from paperwire.sources.failures import FailureAtEnd
from paperwire.sources.http_client import SourceUnavailable
from paperwire.store.tables import ingest_runs, papers


def flaky_source():
    for number in range(1, 4):
        yield SourceItem(PaperRecord(id=f"2506.0000{number}", title=f"Paper {number}"))
    raise SourceUnavailable("GET http://x/ failed after 5 attempts; last error: HTTP 503.")


@pytest.mark.parametrize("batch_size", [2, 3, 4, 200])
def test_items_before_the_failure_are_committed_and_the_run_is_failed(container, batch_size):
    # With 2, the failure fills a batch exactly; with 3, it opens one; 4 and 200 are partial.
    stream = FailureAtEnd(flaky_source(), batch_size)
    with pytest.raises(SourceUnavailable):
        ingest(container.engine, stream, source="test", parameters={}, batch_size=batch_size)
    assert isinstance(stream.error, SourceUnavailable)
    with container.engine.connect() as conn:
        ids = sorted(conn.execute(select(papers.c.id)).scalars())
        run = conn.execute(select(ingest_runs)).one()
    assert ids == ["2506.00001", "2506.00002", "2506.00003"]
    assert run.status == "failed" and run.papers_new == 3
    assert run.errors == ["source: GET http://x/ failed after 5 attempts; last error: HTTP 503."]


def test_a_clean_stream_passes_through(container):
    stream = FailureAtEnd(iter([SourceItem(PaperRecord(id="2506.00001", title="One"))]), 2)
    report = ingest(container.engine, stream, source="test", parameters={})
    stream.raise_if_failed()
    assert report.new == 1 and stream.error is None
