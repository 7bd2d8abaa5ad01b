"""Job claims for workers and scheduled runs.

Revision ID: 0006_jobs
Revises: 0005_digests
"""

revision = "0006_jobs"
down_revision = "0005_digests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
