"""Accounts and community: users, sessions, votes, comments, claims.

Revision ID: 0003_accounts
Revises: 0002_search
"""

revision = "0003_accounts"
down_revision = "0002_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
