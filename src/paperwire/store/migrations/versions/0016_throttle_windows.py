"""Throttle counters keep one row per (bucket, key), whose window starts at the key's
first hit after the previous window ended; the per-IP request limits use them too, so
every web process counts against the same limits (issue 15).

The counters are short-lived bookkeeping: the old table is dropped, not converted.

Revision ID: 0016_throttle_windows
Revises: 0015_run_heartbeats
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_throttle_windows"
down_revision = "0015_run_heartbeats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("throttle_counters")
    op.create_table(
        "throttle_counters",
        sa.Column("bucket", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(320), primary_key=True),
        sa.Column("window_start", sa.Float, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_index("ix_throttle_counters_window_start", "throttle_counters", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_throttle_counters_window_start", table_name="throttle_counters")
    op.drop_table("throttle_counters")
    op.create_table(
        "throttle_counters",
        sa.Column("bucket", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(320), primary_key=True),
        sa.Column("window_start", sa.Integer, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
