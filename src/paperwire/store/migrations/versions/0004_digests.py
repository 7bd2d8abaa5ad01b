"""Digests: subscribers, topics, deliveries.

Revision ID: 0004_digests
Revises: 0003_accounts
"""

revision = "0004_digests"
down_revision = "0003_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
