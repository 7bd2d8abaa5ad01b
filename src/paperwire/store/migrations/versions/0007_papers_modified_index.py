"""An index on papers.modified_at, so in-process indexes can ask "anything new?" cheaply.

The in-memory keyword ranker and similar caches check `max(modified_at)` on every search.

Revision ID: 0007_papers_modified_index
Revises: 0006_jobs
"""

from alembic import op

revision = "0007_papers_modified_index"
down_revision = "0006_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_papers_modified_at", "papers", ["modified_at"])


def downgrade() -> None:
    op.drop_index("ix_papers_modified_at", table_name="papers")
