"""Job claims for workers and scheduled runs.

Revision ID: 0005_jobs
Revises: 0004_digests
"""

revision = "0005_jobs"
down_revision = "0004_digests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
