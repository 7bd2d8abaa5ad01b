"""The per-run ingest log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from paperwire.store.tables import ingest_runs


def start_run(conn: Connection, *, source: str, parameters: dict, started_at: datetime) -> int:
    result = conn.execute(
        insert(ingest_runs).values(
            source=source, parameters=parameters, status="running", started_at=started_at, errors=[]
        )
    )
    return int(result.inserted_primary_key[0])


def finish_run(conn: Connection, run_id: int, **values: object) -> None:
    conn.execute(update(ingest_runs).where(ingest_runs.c.id == run_id).values(**values))


def recent_runs(conn: Connection, limit: int = 20) -> list[dict]:
    rows = conn.execute(select(ingest_runs).order_by(ingest_runs.c.id.desc()).limit(limit))
    return [dict(row._mapping) for row in rows]
