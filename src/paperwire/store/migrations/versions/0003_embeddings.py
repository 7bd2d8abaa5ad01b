"""Stored embeddings, tagged with their model.

Every backend keeps the vector as raw float32 bytes in `paper_embeddings.vector`, so
the in-process index can always be rebuilt and `db copy` moves embeddings as plain rows.
On PostgreSQL servers that have the pgvector extension, a nullable `embedding vector`
column is added as well; `paperwire.search.pgvector` detects it at run time.

Revision ID: 0003_embeddings
Revises: 0002_keyword_index
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_embeddings"
down_revision = "0002_keyword_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_embeddings",
        sa.Column(
            "paper_id",
            sa.String(64),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("model_id", sa.String(200), primary_key=True),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_paper_embeddings_model_created", "paper_embeddings", ["model_id", "created_at"]
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from paperwire.search.pgvector import add_pgvector_column

        add_pgvector_column(bind)


def downgrade() -> None:
    op.drop_index("ix_paper_embeddings_model_created", table_name="paper_embeddings")
    op.drop_table("paper_embeddings")
