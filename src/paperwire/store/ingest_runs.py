"""The per-run ingest log.

A run records the process running it (`worker_id`, host:pid:tag) and a heartbeat
renewed while it runs (`services.ingest` beats through `store.leases.Heartbeat`), so
a run whose process was killed is shown as interrupted (`store.leases.run_state`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select, update

from paperwire.store.tables import ingest_runs


def start_run(conn: Connection, *, source: str, parameters: dict, started_at: datetime,
              worker_id: str | None = None) -> int:
    result = conn.execute(
        insert(ingest_runs).values(
            source=source, parameters=parameters, status="running", started_at=started_at,
            errors=[], worker_id=worker_id, heartbeat_at=started_at,
        )
    )
    return int(result.inserted_primary_key[0])


def heartbeat_run(engine: Engine, run_id: int, *, now: datetime) -> bool:
    """Renew a running run's heartbeat; False if the run is no longer running."""
    with engine.begin() as conn:
        result = conn.execute(
            update(ingest_runs)
            .where(ingest_runs.c.id == run_id, ingest_runs.c.status == "running")
            .values(heartbeat_at=now)
        )
        return result.rowcount == 1


def finish_run(conn: Connection, run_id: int, **values: object) -> None:
    conn.execute(update(ingest_runs).where(ingest_runs.c.id == run_id).values(**values))


def recent_runs(conn: Connection, limit: int = 20) -> list[dict]:
    rows = conn.execute(select(ingest_runs).order_by(ingest_runs.c.id.desc()).limit(limit))
    return [dict(row._mapping) for row in rows]
