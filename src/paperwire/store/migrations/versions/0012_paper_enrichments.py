"""Computed keyphrases and one-line summaries, with where each came from.

Source values (Hugging Face's `ai_keywords` / `ai_summary`) stay in `papers`; this table
holds only what Paperwire computed for papers whose source had none, so a computed value
can never overwrite a source one, and a source value that arrives later simply wins when
pages pick what to show. `content_hash` is the hash of the title and abstract the values
were computed from: a changed abstract makes the row stale and `paperwire enrich` redoes it.
The `generation_*` columns track the optional abstractive path: attempts, the next retry
after a failure, and the last error.

Revision ID: 0012_paper_enrichments
Revises: 0011_subscriber_token_version
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_paper_enrichments"
down_revision = "0011_subscriber_token_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_enrichments",
        sa.Column("paper_id", sa.String(64), sa.ForeignKey("papers.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("keywords", sa.JSON, nullable=True),
        sa.Column("keywords_origin", sa.String(40), nullable=True),
        sa.Column("summary", sa.Text, nullable=True),
        sa.Column("summary_origin", sa.String(40), nullable=True),
        sa.Column("summary_model", sa.String(200), nullable=True),
        sa.Column("generation_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("generation_retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("generation_error", sa.String(500), nullable=True),
        sa.Column("enriched_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("paper_enrichments")
