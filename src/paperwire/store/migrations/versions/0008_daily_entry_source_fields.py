"""Daily entries keep what Hugging Face items carry: thumbnail, item publishedAt, submitter, order.

- `thumbnail`: the item's social-thumbnail URL (validated on parse).
- `published_at`: the item-level `publishedAt`, which differs from the paper's.
- `submitter`: the submitter object's fields the source had (sanitised values only).
- `source_position`: the item's place in the source response (1 = first), so a
  day orders like Hugging Face: upvotes, then the source's order.

Revision ID: 0008_daily_entry_source_fields
Revises: 0007_papers_modified_index
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_daily_entry_source_fields"
down_revision = "0007_papers_modified_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("daily_entries") as batch:
        batch.add_column(sa.Column("thumbnail", sa.String(1000)))
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("submitter", sa.JSON))
        batch.add_column(sa.Column("source_position", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("daily_entries") as batch:
        batch.drop_column("source_position")
        batch.drop_column("submitter")
        batch.drop_column("published_at")
        batch.drop_column("thumbnail")
