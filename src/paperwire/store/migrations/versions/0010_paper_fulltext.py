"""Full text of papers, converted from arXiv's HTML rendering to Markdown.

One row per paper that was asked for: `markdown` stays NULL until a fetch works, and
`attempted_at`/`last_error` record the last try so failures are retried later, not served.

Revision ID: 0010_paper_fulltext
Revises: 0009_library
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_paper_fulltext"
down_revision = "0009_library"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_fulltext",
        sa.Column(
            "paper_id", sa.String(64), sa.ForeignKey("papers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("markdown", sa.Text),
        sa.Column("source_url", sa.String(500)),
        sa.Column("fetched_at", sa.DateTime(timezone=True)),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(500)),
    )


def downgrade() -> None:
    op.drop_table("paper_fulltext")
