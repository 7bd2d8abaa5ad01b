"""Runs that stopped mid-way show as interrupted: an ingest run or a worker step whose
process on this host is gone, or whose heartbeat went stale (another host, a stopped
server). Clocks are injected; a dead process is a real child that has exited."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from paperwire.services.runs import recent_runs
from paperwire.store import ingest_runs
from paperwire.store.jobs import claim_scheduled_run, finish_scheduled_run, job_runs
from paperwire.store.leases import (
    HOST,
    STALE_AFTER_S,
    Heartbeat,
    claim_is_abandoned,
    worker_identity,
)
from paperwire.store.tables import ingest_runs as ingest_runs_table

T0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
STALE = timedelta(seconds=STALE_AFTER_S)


def _dead_identity(tag: str) -> str:
    """host:pid:tag of a process on this host that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=60)
    return f"{HOST}:{child.pid}:{tag}"


def _start_ingest(engine, worker_id: str, at: datetime) -> int:
    with engine.begin() as conn:
        return ingest_runs.start_run(conn, source="import", parameters={"paths": ["x"]},
                                     started_at=at, worker_id=worker_id)


def _states(engine, now):
    report = recent_runs(engine, now=now)
    return ({r.id: r.state for r in report.ingest}, {r.name: r.state for r in report.worker})


def test_ingest_run_of_a_gone_process_is_interrupted_at_once(container):
    engine = container.engine
    alive = _start_ingest(engine, worker_identity("ingest-import"), T0)
    dead = _start_ingest(engine, _dead_identity("ingest-import"), T0)
    ingest, _ = _states(engine, T0 + timedelta(seconds=1))
    assert ingest == {alive: "running", dead: "interrupted"}


def test_ingest_run_on_another_host_is_interrupted_when_its_heartbeat_is_stale(container):
    engine = container.engine
    run = _start_ingest(engine, "elsewhere:123:ingest-import", T0)
    beat = Heartbeat(lambda now: ingest_runs.heartbeat_run(engine, run, now=now),
                     interval_s=60, clock=lambda: T0 + STALE)
    assert beat.beat_once()  # renewed at T0 + 15 min
    assert _states(engine, T0 + STALE + STALE / 2)[0] == {run: "running"}
    assert _states(engine, T0 + 2 * STALE + timedelta(seconds=1))[0] == {run: "interrupted"}
    # Once finished, a run is what it ended as, and a late beat changes nothing.
    with engine.begin() as conn:
        ingest_runs.finish_run(conn, run, status="ok", finished_at=T0 + STALE)
    assert not beat.beat_once() and beat.lost.is_set()
    assert _states(engine, T0 + 3 * STALE)[0] == {run: "ok"}


def test_ingest_runs_from_before_heartbeats_count_from_their_start(container):
    engine = container.engine
    run = _start_ingest(engine, "elsewhere:1:ingest-import", T0)
    with engine.begin() as conn:  # as migration 0015 leaves older rows
        conn.execute(update(ingest_runs_table).values(worker_id=None, heartbeat_at=None))
    assert _states(engine, T0 + STALE / 2)[0] == {run: "running"}
    assert _states(engine, T0 + 2 * STALE)[0] == {run: "interrupted"}


def test_ingest_renews_its_heartbeat_while_it_runs(container, monkeypatch):
    """The real ingest: its heartbeat thread renews the run's row while items flow."""
    from paperwire.services import ingest as ingest_service

    engine = container.engine
    beats, renewed_twice = [], threading.Event()
    original = ingest_runs.heartbeat_run

    def counting(engine_, run_id, *, now):
        beats.append(run_id)
        if len(beats) >= 2:
            renewed_twice.set()
        return original(engine_, run_id, now=now)

    def items():
        # The source is slow: it yields only once the run has been renewed twice.
        assert renewed_twice.wait(timeout=60)
        yield from ()

    monkeypatch.setattr(ingest_runs, "heartbeat_run", counting)
    monkeypatch.setattr(ingest_service, "HEARTBEAT_S", 0.001)
    ingest_service.ingest(engine, items(), source="test", parameters={})
    with engine.connect() as conn:
        row = conn.execute(select(ingest_runs_table)).one()
    assert row.status == "ok" and beats[:2] == [row.id, row.id]
    assert row.worker_id == worker_identity("ingest-test")


def test_worker_step_of_a_stopped_server_is_interrupted_and_taken_over(container):
    engine = container.engine
    gone = _dead_identity("worker-abc")
    assert claim_scheduled_run(engine, "daily-embed", "2026-01-05", gone, now=T0)
    assert claim_scheduled_run(engine, "daily-hf-daily", "2026-01-05", "elsewhere:9:w", now=T0)
    finish_scheduled_run(engine, "daily-hf-daily", "2026-01-05", "elsewhere:9:w",
                         detail="12 papers", now=T0)
    _, steps = _states(engine, T0 + timedelta(minutes=1))
    assert steps == {"embed": "interrupted", "hf-daily": "done"}
    # A worker on this host takes the step over at once, not 15 minutes later.
    me = worker_identity("worker-new")
    assert claim_scheduled_run(engine, "daily-embed", "2026-01-05", me,
                               now=T0 + timedelta(minutes=1))
    _, steps = _states(engine, T0 + timedelta(minutes=2))
    assert steps["embed"] == "running"
    with engine.connect() as conn:
        row = conn.execute(select(job_runs).where(job_runs.c.job_name == "daily-embed")).one()
    assert (row.worker_id, row.attempts) == (me, 2)


def test_claim_on_another_host_is_abandoned_only_when_stale():
    other = "elsewhere:1:w"
    assert not claim_is_abandoned(other, T0, now=T0 + STALE, lease=STALE)
    assert claim_is_abandoned(other, T0, now=T0 + STALE + timedelta(seconds=1), lease=STALE)
    assert not claim_is_abandoned(worker_identity("me"), T0, now=T0, lease=STALE)
