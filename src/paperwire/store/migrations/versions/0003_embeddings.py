"""Stored embeddings, tagged with their model.

Revision ID: 0003_embeddings
Revises: 0002_keyword_index
"""

revision = "0003_embeddings"
down_revision = "0002_keyword_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
