"""Throttle counters kept in the database, so every process sees them (issue 15).

Revision ID: 0014_throttle_counters
Revises: 0013_api_token_expiry
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_throttle_counters"
down_revision = "0013_api_token_expiry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_counters",
        sa.Column("bucket", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(320), primary_key=True),
        sa.Column("window_start", sa.Integer, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("throttle_counters")
