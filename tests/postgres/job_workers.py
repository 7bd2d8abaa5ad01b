"""Worker bodies run in separate processes (spawn) by test_jobs.py."""

from __future__ import annotations

import time

from paperwire.store.db import create_db_engine
from paperwire.store.jobs import claim_jobs, claim_scheduled_run, complete_job


def _wait_until(start_at: float) -> None:
    time.sleep(max(0.0, start_at - time.time()))


def drain_queue(url: str, queue: str, worker_id: str, start_at: float) -> list[int]:
    """Claim and finish jobs until the queue is empty; return the ids we did."""
    engine = create_db_engine(url)
    done: list[int] = []
    _wait_until(start_at)
    try:
        while claimed := claim_jobs(engine, queue, worker_id, limit=3):
            for job in claimed:
                time.sleep(0.002)  # the "work"
                assert complete_job(engine, job.id, worker_id)
                done.append(job.payload["n"])
    finally:
        engine.dispose()
    return done


def race_scheduled_runs(url: str, job_name: str, keys: list[str], worker_id: str,
                        start_at: float) -> list[str]:
    """Try to claim every run key; return the keys this worker won."""
    engine = create_db_engine(url)
    _wait_until(start_at)
    try:
        return [key for key in keys if claim_scheduled_run(engine, job_name, key, worker_id)]
    finally:
        engine.dispose()
