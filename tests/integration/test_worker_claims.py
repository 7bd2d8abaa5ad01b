"""Worker step claims: renewed while a step runs, a step whose claim is lost stops, a
failed step backs off (exponential, capped) and keeps its traceback. Clocks are
injected; no sleeps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from paperwire.store.jobs import (
    RETRY_FIRST_S,
    RETRY_MAX_S,
    ClaimRenewal,
    claim_scheduled_run,
    finish_scheduled_run,
    job_runs,
    retry_delay_s,
)
from paperwire.worker import Worker

T0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


def _row(engine, job="daily-embed", key="2026-01-05"):
    with engine.connect() as conn:
        return conn.execute(select(job_runs).where(job_runs.c.job_name == job,
                                                   job_runs.c.run_key == key)).one()


def test_failed_run_backs_off_exponentially_and_is_capped(container):
    engine = container.engine
    assert claim_scheduled_run(engine, "daily-embed", "2026-01-05", "a", now=T0)
    finish_scheduled_run(engine, "daily-embed", "2026-01-05", "a", ok=False, detail="x", now=T0)
    # The old worker retried a failed step on the next tick (every minute, all day).
    assert not claim_scheduled_run(engine, "daily-embed", "2026-01-05", "b",
                                   now=T0 + timedelta(seconds=RETRY_FIRST_S - 1))
    t1 = T0 + timedelta(seconds=RETRY_FIRST_S)
    assert claim_scheduled_run(engine, "daily-embed", "2026-01-05", "b", now=t1)
    finish_scheduled_run(engine, "daily-embed", "2026-01-05", "b", ok=False, detail="x", now=t1)
    assert not claim_scheduled_run(engine, "daily-embed", "2026-01-05", "c",
                                   now=t1 + timedelta(seconds=2 * RETRY_FIRST_S - 1))
    assert claim_scheduled_run(engine, "daily-embed", "2026-01-05", "c",
                               now=t1 + timedelta(seconds=2 * RETRY_FIRST_S))
    assert retry_delay_s(3) == 4 * RETRY_FIRST_S
    assert retry_delay_s(50) == RETRY_MAX_S


def test_renewed_claim_is_not_taken_over_and_a_lost_one_is_noticed(container):
    engine = container.engine
    assert claim_scheduled_run(engine, "daily-embed", "2026-01-05", "a", now=T0)
    renewal = ClaimRenewal(engine, "daily-embed", "2026-01-05", "a",
                           clock=lambda: T0 + timedelta(minutes=14))
    assert renewal.renew_once()
    # 20 minutes after the claim, but 6 after the renewal: still a's.
    assert not claim_scheduled_run(engine, "daily-embed", "2026-01-05", "b",
                                   now=T0 + timedelta(minutes=20))
    # a goes silent; b takes over once the heartbeat is stale; a's next renewal sees it.
    assert claim_scheduled_run(engine, "daily-embed", "2026-01-05", "b",
                               now=T0 + timedelta(minutes=30))
    late = ClaimRenewal(engine, "daily-embed", "2026-01-05", "a",
                        clock=lambda: T0 + timedelta(minutes=31))
    assert not late.renew_once() and late.lost.is_set()
    assert _row(engine).worker_id == "b"


def test_a_step_whose_claim_is_taken_over_stops_and_does_not_finish_it(container):
    worker = Worker(container, echo=lambda line: None)
    worker.claim_renew_s = 0.001  # the renewal thread runs at once
    seen = {}

    def embed(day):
        # Another worker takes the claim over (it saw this one as dead).
        with container.engine.begin() as conn:
            conn.execute(update(job_runs).where(job_runs.c.job_name == "daily-embed")
                         .values(worker_id="other"))
        seen["lost"] = worker._claim_lost.wait(timeout=30)  # an event, not a sleep
        seen["should_stop"] = worker._should_stop()
        return "stopped early"

    worker._embed = embed
    worker._run_step("embed", date(2026, 1, 5))
    assert seen == {"lost": True, "should_stop": True}
    row = _row(container.engine)
    assert row.worker_id == "other" and row.status == "running"


def test_a_failed_step_keeps_its_traceback(container):
    worker = Worker(container, echo=lambda line: None)

    def embed(day):
        raise RuntimeError("the model file is missing")

    worker._embed = embed
    worker._run_step("embed", date(2026, 1, 5))
    row = _row(container.engine)
    assert row.status == "failed"
    assert "Traceback" in row.detail and "the model file is missing" in row.detail
