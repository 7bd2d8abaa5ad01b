"""Write what a source yields into the store, one transaction per batch (or batch part)."""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
from sqlalchemy import Engine

from paperwire.domain.records import Rejected, SourceItem, clean_paper_links
from paperwire.services.batch_writer import BatchWriter, Written, default_writers
from paperwire.store import ingest_runs
from paperwire.store.db import utcnow
from paperwire.store.leases import HEARTBEAT_S, Heartbeat, worker_identity

BATCH_SIZE = 2000
MAX_LOGGED_ERRORS = 1000
# Rejected records kept in memory for the report; the rest are only counted.
MAX_KEPT_REJECTED = 10_000


@dataclass(slots=True)
class IngestReport:
    papers: int = 0
    new: int = 0
    updated: int = 0
    daily_entries: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    duration_s: float = 0.0
    rejected_not_kept: int = 0  # counted beyond MAX_KEPT_REJECTED, so memory stays flat
    links_dropped: int = 0  # links refused by domain.urls.safe_url (javascript:, no host, ...)
    demo_removed: int = 0  # demo papers removed because real ones arrived (demo_data)

    @property
    def rejected_total(self) -> int:
        return len(self.rejected) + self.rejected_not_kept

    def add_rejected(self, rejected: Rejected) -> None:
        if len(self.rejected) < MAX_KEPT_REJECTED:
            self.rejected.append(rejected)
        else:
            self.rejected_not_kept += 1

    def summary_line(self) -> str:
        return (
            f"imported {self.papers} papers ({self.new} new, {self.updated} updated), "
            f"{self.daily_entries} daily entries, {self.rejected_total} rejected"
            + (f", {self.links_dropped} unsafe links dropped" if self.links_dropped else "")
            + (
                f"; removed the demo set ({self.demo_removed} papers) now that real papers "
                "are here"
                if self.demo_removed
                else ""
            )
        )


class _DistinctIds:
    """Counts distinct ids in 8 bytes each, so memory stays nearly flat."""

    def __init__(self) -> None:
        self._hashes = array("q")

    def add_all(self, ids: Iterable[str]) -> None:
        self._hashes.extend(hash(i) for i in ids)

    def as_set_array(self) -> np.ndarray:
        return np.unique(np.frombuffer(self._hashes, dtype=np.int64))


class _ContentChanges:
    """Which updated papers end the run different from how they started it.

    A paper can be written several times in one run (it comes from several
    sources, in different batches) and end exactly as it began; that is no
    update. Keeps 24 bytes per update, not the papers themselves.
    """

    def __init__(self) -> None:
        self._ids, self._before, self._after = array("q"), array("q"), array("q")

    def add_all(self, changes: Iterable[tuple[str, int, int]]) -> None:
        for paper_id, before, after in changes:
            self._ids.append(hash(paper_id))
            self._before.append(before)
            self._after.append(after)

    def changed_ids(self) -> np.ndarray:
        ids = np.frombuffer(self._ids, dtype=np.int64)
        if not len(ids):
            return ids
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        before = np.frombuffer(self._before, dtype=np.int64)[order]
        after = np.frombuffer(self._after, dtype=np.int64)[order]
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        ends = np.r_[starts[1:], len(ids)] - 1
        differs = before[starts] != after[ends]
        return ids[starts][differs]


def _checked_links(item: SourceItem, report: IngestReport) -> SourceItem:
    """The item with its unsafe links dropped (whatever the source did), counted in the report."""
    paper, dropped = clean_paper_links(item.paper)
    report.links_dropped += item.links_dropped + dropped
    return item if paper is item.paper else SourceItem(paper, item.daily_entry)


def ingest(
    engine: Engine,
    items: Iterable[SourceItem | Rejected],
    *,
    source: str,
    parameters: dict,
    on_progress: Callable[[int], None] | None = None,
    on_batch: Callable[[list[SourceItem]], None] | None = None,
    batch_size: int = BATCH_SIZE,
    writers: int | None = None,
    remove_demo: bool = False,
) -> IngestReport:
    """Store every good item and collect the rejected ones; log the run.

    With `remove_demo` (the CLI's import and ingest commands, the worker, the first-start
    fetch) a run that stored real papers removes the demo set and says so in the report.

    Each batch is one transaction, so a failure never leaves half a paper. On
    PostgreSQL a batch is split by paper id over `writers` connections (default:
    one per core, at most 4), each part its own transaction; see batch_writer.
    Counts are of distinct papers: a paper that is new in this run and seen
    again later in it counts once, as new; a stored paper counts as updated
    only if it ends the run different from how it began it.
    """
    report = IngestReport()
    seen, new, updated = _DistinctIds(), _DistinctIds(), _ContentChanges()
    started = time.perf_counter()
    with engine.begin() as conn:
        run_id = ingest_runs.start_run(
            conn, source=source, parameters=parameters, started_at=utcnow(),
            worker_id=worker_identity(f"ingest-{source}"),
        )
    heartbeat = Heartbeat(lambda now: ingest_runs.heartbeat_run(engine, run_id, now=now),
                          interval_s=HEARTBEAT_S, name="ingest-heartbeat")

    def on_written(written: Written, read: int) -> None:
        if written.items:
            report.daily_entries += written.daily_entries
            seen.add_all(item.paper.id for item in written.items)
            new.add_all(written.counts.new_ids)
            updated.add_all(written.counts.changes)
            if on_batch is not None:
                on_batch(written.items)
        if on_progress is not None:
            on_progress(read)

    writer = BatchWriter(
        engine, on_written, writers=default_writers(engine) if writers is None else writers
    )
    # The run's heartbeat is renewed while it runs: a killed import shows as interrupted.
    with heartbeat:
        status = "failed"
        try:
            iterator = iter(items)
            while batch := list(islice(iterator, batch_size)):
                good = [_checked_links(item, report)
                        for item in batch if isinstance(item, SourceItem)]
                for item in batch:
                    if isinstance(item, Rejected):
                        report.add_rejected(item)
                writer.submit(good, len(batch))
            writer.drain()
            status = "ok"
        finally:
            writer.close()
            new_hashes = new.as_set_array()
            report.papers = len(seen.as_set_array())
            report.new = len(new_hashes)
            report.updated = int((~np.isin(updated.changed_ids(), new_hashes)).sum())
            report.duration_s = time.perf_counter() - started
            with engine.begin() as conn:
                ingest_runs.finish_run(
                    conn,
                    run_id,
                    status=status,
                    finished_at=utcnow(),
                    duration_s=report.duration_s,
                    papers_seen=report.papers,
                    papers_new=report.new,
                    papers_updated=report.updated,
                    daily_entries=report.daily_entries,
                    rejected=report.rejected_total,
                    errors=[f"{r.where}: {r.reason}" for r in report.rejected[:MAX_LOGGED_ERRORS]]
                    + [f"{n} unsafe links dropped" for n in [report.links_dropped] if n],
                )
    if remove_demo and status == "ok" and report.papers and source != "demo":
        from paperwire.services.demo_data import remove_demo_set

        report.demo_removed = remove_demo_set(engine)  # demo data never takes over real data
    return report
