"""Recent ingest runs and worker steps, as `paperwire status` and /admin/runs show them.

A run still marked running whose process is gone (killed on this host) or whose
heartbeat is older than the lease (a stopped server, another host) is shown as
"interrupted" (`store.leases.run_state`); the stored row is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from paperwire.store import ingest_runs
from paperwire.store.db import aware_utc, utcnow
from paperwire.store.jobs import job_runs
from paperwire.store.leases import INTERRUPTED, STALE_AFTER_S, run_state


def _iso(value: datetime | None) -> str | None:
    value = aware_utc(value)
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class RunView:
    kind: str  # "ingest" | "worker"
    id: int
    name: str  # the ingest source, or the worker step
    key: str  # what it ran on: the parameters, or the step's day
    state: str  # running | ok | done | failed | interrupted
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    worker_id: str | None
    summary: str  # counts for an ingest run, the result's first line for a step
    attempts: int = 1

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "id": self.id, "name": self.name, "key": self.key,
            "state": self.state, "startedAt": _iso(self.started_at),
            "finishedAt": _iso(self.finished_at), "heartbeatAt": _iso(self.heartbeat_at),
            "workerId": self.worker_id, "summary": self.summary, "attempts": self.attempts,
        }


@dataclass(frozen=True, slots=True)
class RunsReport:
    ingest: list[RunView]
    worker: list[RunView]

    def as_json(self) -> dict[str, Any]:
        return {"ingestRuns": [r.as_json() for r in self.ingest],
                "workerSteps": [r.as_json() for r in self.worker]}


def recent_runs(engine: Engine, *, limit: int = 20, now: datetime | None = None,
                stale_after_s: float = STALE_AFTER_S) -> RunsReport:
    """The latest `limit` ingest runs and worker steps, newest first."""
    now = now or utcnow()
    lease = timedelta(seconds=stale_after_s)
    with engine.connect() as conn:
        ingest_rows = ingest_runs.recent_runs(conn, limit)
        step_rows = conn.execute(
            select(job_runs).order_by(job_runs.c.claimed_at.desc(), job_runs.c.id.desc())
            .limit(limit)
        ).mappings().all()
    ingest = []
    for row in ingest_rows:
        # Runs from before heartbeats were recorded count from their start.
        beat = row["heartbeat_at"] or row["started_at"]
        state = run_state(row["status"], row["worker_id"], beat, now=now, lease=lease)
        ingest.append(RunView(
            kind="ingest", id=row["id"], name=row["source"],
            key=_parameters(row["parameters"]), state=state,
            started_at=aware_utc(row["started_at"]), finished_at=aware_utc(row["finished_at"]),
            heartbeat_at=aware_utc(beat), worker_id=row["worker_id"],
            summary=_ingest_summary(row, state),
        ))
    worker = [
        RunView(
            kind="worker", id=row["id"], name=row["job_name"].removeprefix("daily-"),
            key=row["run_key"],
            state=run_state(row["status"], row["worker_id"], row["heartbeat_at"],
                            now=now, lease=lease),
            started_at=aware_utc(row["claimed_at"]), finished_at=aware_utc(row["finished_at"]),
            heartbeat_at=aware_utc(row["heartbeat_at"]), worker_id=row["worker_id"],
            summary=_first_line(row["detail"]), attempts=row["attempts"],
        )
        for row in step_rows
    ]
    return RunsReport(ingest, worker)


def _ingest_summary(row: Any, state: str) -> str:
    if state == INTERRUPTED:
        return "stopped before it finished; what it wrote stays, run it again to complete it"
    if state == "running":
        return "running"
    return (f"{row['papers_seen']} papers ({row['papers_new']} new, {row['papers_updated']} "
            f"updated), {row['daily_entries']} daily entries, {row['rejected']} rejected")


def _parameters(parameters: object) -> str:
    if isinstance(parameters, dict):
        return ", ".join(f"{k}={v}" for k, v in parameters.items())[:300]
    return str(parameters or "")[:300]


def _first_line(detail: str | None) -> str:
    """A step's result line, or the last line of a traceback (the exception)."""
    lines = [line for line in (detail or "").strip().splitlines() if line.strip()]
    if not lines:
        return ""
    return (lines[-1] if lines[0].startswith("Traceback") else lines[0]).strip()[:300]
