"""The scheduled worker: each day at `worker_time` (in `worker_timezone`) it ingests
Hugging Face daily papers, then arXiv (OAI-PMH), embeds the papers that have no vector
yet, extracts keyphrases and one-line summaries for the papers that lack them, then sends
the digests.

Each step of each day is claimed in the database first, so with several workers
(or a worker inside `paperwire serve` plus one on the command line) a step runs
once; a failed step is retried on a later tick.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from paperwire.store.jobs import DEFAULT_STALE_AFTER_S
from paperwire.store.leases import worker_identity
from paperwire.wiring import Container

log = logging.getLogger(__name__)

TICK_S = 60.0
STEPS = ("hf-daily", "arxiv-oai", "embed", "enrich", "digests")


def parse_worker_time(value: str) -> time:
    try:
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"worker_time must be HH:MM, not {value!r}") from None


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"worker_timezone {name!r} is not an IANA time zone such as Europe/Paris"
        ) from None


def due_day(now: datetime, at: time, zone: ZoneInfo) -> date | None:
    """The local day whose run is due at `now`, or None before today's run time."""
    local = now.astimezone(zone)
    return local.date() if local.time() >= at else None


class Worker:
    def __init__(self, container: Container, *,
                 echo: Callable[[str], None] | None = None,
                 embed_in_subprocess: bool = False) -> None:
        self.container = container
        # Inside `paperwire serve` the embedding runs in a child process at a lower CPU
        # priority (background_embed), so that pages stay fast while it works.
        self.embed_in_subprocess = embed_in_subprocess
        self.settings = container.settings
        self.at = parse_worker_time(self.settings.worker_time)
        self.zone = parse_timezone(self.settings.worker_timezone)
        self.worker_id = worker_identity(f"worker-{uuid.uuid4().hex[:10]}")
        self.echo = echo or log.info
        self._stop = threading.Event()
        self._claim_lost: threading.Event | None = None
        self.claim_renew_s = DEFAULT_STALE_AFTER_S / 5  # renew well before others see it stale

    def describe(self) -> str:
        transport = self.container.mailer.describe()
        return (f"worker: daily run at {self.at:%H:%M} {self.zone.key} (HF daily, arXiv OAI, "
                f"embeddings, enrichment, digests); mail transport: {transport}")

    def today(self) -> date:
        return datetime.now(self.zone).date()

    def stop(self) -> None:
        self._stop.set()

    def run_forever(self, tick_s: float = TICK_S) -> None:
        while not self._stop.is_set():
            self._run_queued_jobs()
            day = due_day(datetime.now(self.zone), self.at, self.zone)
            if day is not None:
                self.run_once(day)
            self._stop.wait(tick_s)

    def _run_queued_jobs(self) -> None:
        """Mails that web processes queued (they run them too; this covers their downtime)."""
        try:
            self.container.jobs.run_pending()
        except Exception as exc:  # e.g. the database is down: the next tick tries again
            self.echo(f"worker: background jobs failed: {exc}")

    def run_once(self, day: date) -> None:
        for step in STEPS:
            if self._stop.is_set():
                return
            self._run_step(step, day)

    def _run_step(self, step: str, day: date) -> None:
        import traceback

        from paperwire.store.jobs import ClaimRenewal, claim_scheduled_run, finish_scheduled_run

        engine = self.container.engine
        job_name, run_key = f"daily-{step}", day.isoformat()
        if not claim_scheduled_run(engine, job_name, run_key, self.worker_id):
            return  # done already, running elsewhere, or backing off after a failure
        ok, detail = True, None
        self.echo(f"worker {day} {step}: started")
        # The claim is renewed while the step runs; a step whose claim was taken over
        # (this worker looked dead to another) stops at its next should_stop check.
        with ClaimRenewal(engine, job_name, run_key, self.worker_id,
                          interval_s=self.claim_renew_s) as renewal:
            self._claim_lost = renewal.lost
            try:
                detail = getattr(self, "_" + step.replace("-", "_"))(day)
                self.echo(f"worker {day} {step}: {detail}")
            except Exception as exc:  # one failing step must not stop the others
                ok = False
                line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                detail = traceback.format_exc()  # kept in job_runs.detail
                self.echo(f"worker {day} {step} failed: {line}")
            finally:
                self._claim_lost = None
        if renewal.lost.is_set():
            self.echo(f"worker {day} {step}: claim taken over by another worker; stopped")
            return
        finish_scheduled_run(engine, job_name, run_key, self.worker_id, ok=ok, detail=detail)

    def _should_stop(self) -> bool:
        lost = self._claim_lost
        return self._stop.is_set() or (lost is not None and lost.is_set())

    def _hf_daily(self, day: date) -> str:
        from paperwire.services.ingest import ingest
        from paperwire.sources import hf_api

        items = hf_api.fetch_daily(self.container.http_client, self.settings.hf_api_url, day)
        report = ingest(self.container.engine, items, source="hf-api",
                        parameters={"date": day.isoformat(), "by": "worker"}, remove_demo=True)
        return report.summary_line()

    def _arxiv_oai(self, day: date) -> str:
        from paperwire.services.ingest import ingest
        from paperwire.sources.oai_pmh import OaiHarvest

        harvest = OaiHarvest(self.container.http_client, self.settings.arxiv_oai_url,
                             set_spec="cs", from_day=day - timedelta(days=1), until_day=None,
                             metadata_prefix="arXivRaw", delay_s=self.settings.arxiv_delay_s)
        report = ingest(self.container.engine, harvest, source="arxiv-oai",
                        parameters={"set": "cs", "from": (day - timedelta(days=1)).isoformat(),
                                    "by": "worker"}, remove_demo=True)
        return report.summary_line()

    def _embed(self, day: date) -> str:
        """Embed new papers (or every paper, after a model change) before the digests."""
        from time import perf_counter

        from paperwire.services.embeddings import embed_missing, rate_line

        if self.embed_in_subprocess:
            from paperwire.background_embed import run_embed_child

            if self.settings.embedder == "none":
                return "semantic search is off"

            return run_embed_child(self.settings, echo=self.echo, should_stop=self._should_stop)
        embedder = self.container.embedder
        if embedder is None:
            return "semantic search is off"
        started = perf_counter()
        done = embed_missing(self.container.engine, embedder, should_stop=self._should_stop)
        return rate_line(done, perf_counter() - started, embedder.model_id)

    def _enrich(self, day: date) -> str:
        """Keyphrases and summaries for the new papers (and generated ones, if configured)."""
        from paperwire.services.enrichment import enrich_papers, generate_summaries

        line = enrich_papers(self.container.engine, should_stop=self._should_stop).summary_line()
        summarizer = self.container.summarizer
        if summarizer is not None and not self._stop.is_set():
            report = generate_summaries(self.container.engine, summarizer,
                                        limit=self.settings.summary_llm_batch)
            line += "; " + report.summary_line()
        return line

    def _digests(self, day: date) -> str:
        from paperwire.services.digests import send_digests

        report = send_digests(
            self.container.engine, self.container.mailer, self.settings, day,
            search=self.container.search,
            should_stop=self._should_stop,
        )
        return report.summary_line()


def start_background_worker(
    container: Container,
    *,
    echo: Callable[[str], None] | None = None,
    embed_in_subprocess: bool = False,
) -> Callable[[], None]:
    """Run the worker in a daemon thread (for `paperwire serve`); returns a stop function.

    Each step's start and result (and the embedding's progress) go to `echo` (stdout by
    default). With `worker_enabled` off (PAPERWIRE_WORKER_ENABLED=false) nothing starts.
    """
    if not container.settings.worker_enabled:
        print("worker: disabled (PAPERWIRE_WORKER_ENABLED=false)", flush=True)
        return lambda: None
    echo = echo or (lambda line: print(line, flush=True))
    try:
        worker = Worker(container, echo=echo, embed_in_subprocess=embed_in_subprocess)
        description = worker.describe()
    except ValueError as exc:  # bad worker_time, time zone or SMTP URL
        print(f"worker: not started: {exc}", flush=True)
        return lambda: None
    log.info(description)
    echo(description + " (--no-worker or PAPERWIRE_WORKER_ENABLED=false turns it off)")
    thread = threading.Thread(target=worker.run_forever, name="paperwire-worker", daemon=True)
    thread.start()

    def stop() -> None:
        worker.stop()
        thread.join(timeout=30)

    return stop
