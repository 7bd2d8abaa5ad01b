"""Digests: subscribers, topics, deliveries, bounces.

Revision ID: 0005_digests
Revises: 0004_accounts
"""

revision = "0005_digests"
down_revision = "0004_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
