"""Keyword index: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

Revision ID: 0002_keyword_index
Revises: 0001_core
"""

revision = "0002_keyword_index"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
