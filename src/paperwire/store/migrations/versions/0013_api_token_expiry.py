"""API tokens may expire: an optional `expires_at` (issue 15).

Revision ID: 0013_api_token_expiry
Revises: 0012_paper_enrichments
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_api_token_expiry"
down_revision = "0012_paper_enrichments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("api_tokens")}
    if "expires_at" in columns:
        return
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
