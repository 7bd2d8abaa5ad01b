"""Stored embeddings, tagged with their model.

Every backend keeps the vector as raw float32 bytes in `paper_embeddings.vector`, so
the in-process index can always be rebuilt and `db copy` moves embeddings as plain rows.
On PostgreSQL servers that have the pgvector extension, a nullable `embedding vector`
column is added as well; `paperwire.store.pgvector_columns` detects it at run time.

Revision ID: 0003_embeddings
Revises: 0002_keyword_index
"""

import logging

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
        _add_pgvector_column(bind)


def _add_pgvector_column(conn: sa.Connection) -> None:
    """Enable pgvector and add the column, if the server can; never fails the migration."""
    available = conn.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).first()
    if available is None:
        return
    try:
        with conn.begin_nested():
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
            conn.execute(
                sa.text("ALTER TABLE paper_embeddings ADD COLUMN IF NOT EXISTS embedding vector")
            )
    except Exception as exc:  # e.g. no privilege to create extensions
        logging.getLogger(__name__).warning(
            "pgvector is available but could not be enabled: %s", exc
        )


def downgrade() -> None:
    op.drop_index("ix_paper_embeddings_model_created", table_name="paper_embeddings")
    op.drop_table("paper_embeddings")
