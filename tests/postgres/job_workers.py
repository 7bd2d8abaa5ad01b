"""Worker bodies run in separate processes (spawn) by test_jobs.py."""

from __future__ import annotations

import time

from paperwire.store.db import create_db_engine
from paperwire.store.jobs import claim_jobs, claim_scheduled_run, complete_job


def run_in_process(func, args: tuple, ready, start, results, slot: int) -> None:
    """Process entry: import and connect, wait for the other process, then race."""
    prepared = func(*args)
    ready.put(slot)
    start.wait()
    results.put((slot, prepared()))


def drain_queue(url: str, queue: str, worker_id: str):
    """Claim and finish jobs until the queue is empty; the ids we did."""
    engine = create_db_engine(url)
    engine.connect().close()

    def race() -> list[int]:
        done: list[int] = []
        try:
            while claimed := claim_jobs(engine, queue, worker_id, limit=3):
                for job in claimed:
                    time.sleep(0.002)  # the "work"
                    assert complete_job(engine, job.id, worker_id)
                    done.append(job.payload["n"])
        finally:
            engine.dispose()
        return done

    return race


def race_scheduled_runs(url: str, job_name: str, keys: list[str], worker_id: str):
    """Try to claim every run key; the keys this worker won."""
    engine = create_db_engine(url)
    engine.connect().close()

    def race() -> list[str]:
        try:
            return [key for key in keys if claim_scheduled_run(engine, job_name, key, worker_id)]
        finally:
            engine.dispose()

    return race
