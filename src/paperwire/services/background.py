"""Work a request hands off instead of doing inline: queued in the `jobs` table
(store/jobs.py), run by a `JobRunner` in a background thread of the web process
(and by the worker), so a slow SMTP server or arXiv never holds a request.

A job that fails with `RetryLater` (or an unexpected error, whose traceback is kept)
is tried again after a growing delay; one that fails with `GiveUp` is failed for
good. Several processes may run runners on one database: a job is claimed once
(`claim_jobs`), and one whose runner died is claimed again when its lease ends.
"""

from __future__ import annotations

import logging
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy import Engine

from paperwire.store.jobs import claim_jobs, complete_job, enqueue_job, fail_job
from paperwire.store.leases import worker_identity

log = logging.getLogger(__name__)

POLL_S = 5.0  # jobs queued by other processes are seen within this
LEASE_S = 5 * 60.0
RETRY_BASE_S = 30.0
MAX_ATTEMPTS = 6  # 30 s, 1, 2, 4, 8 min, then failed


class RetryLater(RuntimeError):
    """The job could not run now (e.g. the mail server is down); try again later."""


class GiveUp(RuntimeError):
    """The job can never succeed (e.g. the mail server refused the address)."""


Handler = Callable[[Any], None]


class JobQueue(Protocol):
    """What services need to hand work off."""

    def enqueue(self, queue: str, payload: Any, *, dedupe_key: str | None = None) -> int:
        """Queue a job (committed on return); its id (an equal queued job's, if deduped)."""
        ...


def retry_delay_s(attempts: int) -> float:
    """The wait before the next try of a job that failed `attempts` times."""
    return RETRY_BASE_S * 2 ** max(0, attempts - 1)


class JobRunner:
    """Runs queued jobs of the queues it has handlers for; see the module docstring."""

    def __init__(self, engine: Engine, handlers: Mapping[str, Handler], *,
                 poll_s: float = POLL_S, lease_s: float = LEASE_S,
                 max_attempts: int = MAX_ATTEMPTS) -> None:
        self.engine = engine
        self.handlers = dict(handlers)
        self.poll_s = poll_s
        self.lease_s = lease_s
        self.max_attempts = max_attempts
        self.worker_id = worker_identity(f"jobs-{uuid.uuid4().hex[:10]}")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._in_flight = 0
        self._thread: threading.Thread | None = None

    # -- handing work off -------------------------------------------------------------

    def enqueue(self, queue: str, payload: Any, *, dedupe_key: str | None = None) -> int:
        """Queue a job (committed when this returns), wake this process's runner and
        return the job's id (with a `dedupe_key` already queued: that job's id)."""
        if queue not in self.handlers:
            raise ValueError(f"no handler for the job queue {queue!r}")
        job_id = enqueue_job(self.engine, queue, payload, dedupe_key=dedupe_key)
        self._wake.set()
        return job_id

    # -- running ----------------------------------------------------------------------

    def run_pending(self, limit: int = 100) -> int:
        """Run the jobs that are due now, in this thread; returns how many ran."""
        ran = 0
        for queue, handler in self.handlers.items():
            while ran < limit:
                # Counted in flight from before the claim, so `drain` in another thread never
                # sees a job that is claimed here but not yet running as "nothing to wait for".
                with self._idle:
                    self._in_flight += 1
                try:
                    claimed = claim_jobs(self.engine, queue, self.worker_id,
                                         lease_s=self.lease_s)
                    if claimed:
                        self._run_one(claimed[0], handler)
                finally:
                    with self._idle:
                        self._in_flight -= 1
                        self._idle.notify_all()
                if not claimed:
                    break
                ran += 1
        return ran

    def _run_one(self, job, handler: Handler) -> None:
        try:
            handler(job.payload)
        except GiveUp as exc:
            log.warning("job %s (%s) failed for good: %s", job.id, job.queue, exc)
            fail_job(self.engine, job.id, self.worker_id, str(exc), retry_in_s=None)
            return
        except Exception as exc:
            detail = (str(exc) if isinstance(exc, RetryLater) else traceback.format_exc())
            delay = retry_delay_s(job.attempts)
            log.warning("job %s (%s) failed (try %d), retrying in %.0f s: %s",
                        job.id, job.queue, job.attempts, delay, str(exc).splitlines()[:1])
            fail_job(self.engine, job.id, self.worker_id, detail, retry_in_s=delay,
                     max_attempts=self.max_attempts)
            return
        complete_job(self.engine, job.id, self.worker_id)

    def drain(self, timeout_s: float = 30.0) -> None:
        """Run every due job, and wait for the ones the background thread is running."""
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout_s)
        while self.run_pending():
            pass
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout_s)

    def start(self) -> None:
        """Run jobs in a daemon thread until `stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="paperwire-jobs", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_pending()
            except Exception:  # the database is down, say: try again on the next tick
                log.exception("background jobs: cannot claim jobs")
            self._wake.wait(self.poll_s)

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
            self._thread = None
