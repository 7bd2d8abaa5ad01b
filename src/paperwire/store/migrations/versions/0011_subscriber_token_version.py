"""Subscribers get a token version: mail links carry it, and raising it revokes them.

Unsubscribing and the "log out these links" button raise it, so an old confirm,
settings or unsubscribe link stops working (issue 15).

Revision ID: 0011_subscriber_token_version
Revises: 0010_paper_fulltext
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_subscriber_token_version"
down_revision = "0010_paper_fulltext"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(
            sa.Column("token_version", sa.Integer, nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("token_version")
