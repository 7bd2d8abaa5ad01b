"""Accounts and community: users, sessions, tokens, votes, comments, claims, memberships.

Revision ID: 0004_accounts
Revises: 0003_embeddings
"""

revision = "0004_accounts"
down_revision = "0003_embeddings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
