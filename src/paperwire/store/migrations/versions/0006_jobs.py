"""Job claims for workers and scheduled runs.

`job_runs`: one row per (job_name, run_key), e.g. ("daily-digest", "2025-06-16"); the
unique constraint makes "claim this scheduled run" an atomic insert across machines.

`jobs`: a work queue; workers claim pending rows with FOR UPDATE SKIP LOCKED on
PostgreSQL and a single guarded UPDATE ... RETURNING on SQLite.

Revision ID: 0006_jobs
Revises: 0005_digests
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_jobs"
down_revision = "0005_digests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job_name", sa.String(100), nullable=False),
        sa.Column("run_key", sa.String(200), nullable=False),
        sa.Column("worker_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("detail", sa.Text),
        sa.UniqueConstraint("job_name", "run_key", name="uq_job_runs_job_run"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("queue", sa.String(100), nullable=False),
        sa.Column("dedupe_key", sa.String(300)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("queue", "dedupe_key", name="uq_jobs_queue_dedupe"),
    )
    op.create_index("ix_jobs_queue_status_id", "jobs", ["queue", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_queue_status_id", table_name="jobs")
    op.drop_table("jobs")
    op.drop_table("job_runs")
