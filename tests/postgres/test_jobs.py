"""Job claims: two real processes never do the same job or scheduled run twice."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

from sqlalchemy import select, update

from paperwire.clock import utcnow
from paperwire.store.db import create_db_engine
from paperwire.store.jobs import (
    claim_jobs,
    claim_scheduled_run,
    complete_job,
    enqueue_jobs,
    fail_job,
    finish_scheduled_run,
    heartbeat_scheduled_run,
    job_runs,
    jobs,
    queue_counts,
)
from tests.postgres import job_workers


def _run_two(func, args_a: tuple, args_b: tuple) -> tuple[list, list]:
    """Run func in two spawned processes that start racing at the same moment."""
    context = multiprocessing.get_context("spawn")
    ready, results, start = context.Queue(), context.Queue(), context.Event()
    processes = [
        context.Process(target=job_workers.run_in_process,
                        args=(func, args, ready, start, results, slot))
        for slot, args in enumerate((args_a, args_b))
    ]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            ready.get(timeout=120)
        start.set()
        got = dict(results.get(timeout=120) for _ in processes)
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert all(p.exitcode == 0 for p in processes)
    return got[0], got[1]


def test_two_processes_never_do_a_queued_job_twice(database_url):
    engine = create_db_engine(database_url)
    total = 300
    assert enqueue_jobs(engine, "mail", [(f"k{n}", {"n": n}) for n in range(total)]) == total
    assert enqueue_jobs(engine, "mail", [("k0", {"n": 0})]) == 0  # dedupe key
    first, second = _run_two(
        job_workers.drain_queue, (database_url, "mail", "w1"), (database_url, "mail", "w2")
    )
    assert not set(first) & set(second), "a job was done by both workers"
    assert len(first) + len(second) == total
    assert sorted(first + second) == list(range(total))
    assert first and second, "both workers should have taken part"
    assert queue_counts(engine, "mail") == {"done": total}
    engine.dispose()


def test_two_processes_never_run_a_scheduled_run_twice(database_url):
    keys = [f"2025-06-{day:02d}/{slot}" for day in range(1, 29) for slot in range(4)]
    first, second = _run_two(
        job_workers.race_scheduled_runs,
        (database_url, "daily-digest", keys, "w1"),
        (database_url, "daily-digest", keys, "w2"),
    )
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(keys)


def test_scheduled_run_takeover_rules(database_url):
    engine = create_db_engine(database_url)
    assert claim_scheduled_run(engine, "ingest", "2025-06-16", "a")
    assert not claim_scheduled_run(engine, "ingest", "2025-06-16", "b")  # running elsewhere
    assert heartbeat_scheduled_run(engine, "ingest", "2025-06-16", "a")
    assert not heartbeat_scheduled_run(engine, "ingest", "2025-06-16", "b")
    # a worker that stopped heart-beating is taken over after the timeout
    with engine.begin() as conn:
        conn.execute(update(job_runs).values(heartbeat_at=utcnow() - timedelta(hours=1)))
    assert claim_scheduled_run(engine, "ingest", "2025-06-16", "b", stale_after_s=60)
    assert not finish_scheduled_run(engine, "ingest", "2025-06-16", "a")  # lost its claim
    # failed runs may be retried (after their back-off); done runs never run again
    assert finish_scheduled_run(engine, "ingest", "2025-06-16", "b", ok=False, detail="boom")
    assert not claim_scheduled_run(engine, "ingest", "2025-06-16", "c")  # backing off
    assert claim_scheduled_run(engine, "ingest", "2025-06-16", "c",
                               now=utcnow() + timedelta(hours=1))
    assert finish_scheduled_run(engine, "ingest", "2025-06-16", "c")
    with engine.begin() as conn:
        conn.execute(update(job_runs).values(heartbeat_at=utcnow() - timedelta(days=3)))
    assert not claim_scheduled_run(engine, "ingest", "2025-06-16", "d", stale_after_s=1)
    with engine.connect() as conn:
        row = conn.execute(select(job_runs)).one()
    assert (row.worker_id, row.status, row.attempts) == ("c", "done", 3)
    engine.dispose()


def test_queue_retry_and_lease_expiry(database_url):
    engine = create_db_engine(database_url)
    enqueue_jobs(engine, "q", [(None, {"n": 1}), (None, {"n": 2})])
    [one] = claim_jobs(engine, "q", "a")
    assert one.payload == {"n": 1} and one.attempts == 1
    # failing gives the job back for later, not right now
    assert fail_job(engine, one.id, "a", "smtp down", retry_in_s=3600)
    [two] = claim_jobs(engine, "q", "b", limit=5)
    assert two.payload == {"n": 2}
    assert claim_jobs(engine, "q", "c") == []
    # b dies: once its lease runs out the job is claimed again, and b cannot complete it
    with engine.begin() as conn:
        conn.execute(
            update(jobs).where(jobs.c.id == two.id).values(claimed_at=utcnow() - timedelta(hours=1))
        )
    [again] = claim_jobs(engine, "q", "c", lease_s=60)
    assert again.id == two.id and again.attempts == 2
    assert not complete_job(engine, two.id, "b")
    assert complete_job(engine, two.id, "c")
    # a job that keeps failing ends as failed
    with engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == one.id).values(available_at=utcnow()))
    [retry] = claim_jobs(engine, "q", "d")
    assert retry.id == one.id and retry.attempts == 2
    assert fail_job(engine, one.id, "d", "still down", retry_in_s=0, max_attempts=2)
    assert claim_jobs(engine, "q", "d") == []
    assert queue_counts(engine, "q") == {"done": 1, "failed": 1}
    engine.dispose()
