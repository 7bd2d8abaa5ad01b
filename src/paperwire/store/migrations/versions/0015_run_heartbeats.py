"""Ingest runs record who runs them and when they last showed life (issue 16).

`worker_id` is host:pid:tag (store.leases.worker_identity) and `heartbeat_at` is
renewed while the run lasts, so a run whose process was killed shows as interrupted
instead of running for good. Runs from before this revision have neither: they count
from their start time.

Revision ID: 0015_run_heartbeats
Revises: 0014_throttle_counters
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_run_heartbeats"
down_revision = "0014_throttle_counters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ingest_runs", sa.Column("worker_id", sa.String(200)))
    op.add_column("ingest_runs", sa.Column("heartbeat_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("ingest_runs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("worker_id")
