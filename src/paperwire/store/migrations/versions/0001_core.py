"""Core schema: organizations, papers, authors, daily entries, ingest runs.

Revision ID: 0001_core
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("fullname", sa.String(300)),
        sa.Column("avatar_url", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "papers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("abstract", sa.Text, nullable=False),
        sa.Column("authors", sa.JSON, nullable=False),
        sa.Column("authors_text", sa.Text, nullable=False),
        sa.Column("primary_category", sa.String(40)),
        sa.Column("categories", sa.String(400), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.Column("comments", sa.Text),
        sa.Column("journal_ref", sa.Text),
        sa.Column("doi", sa.String(300)),
        sa.Column("github_repo", sa.String(500)),
        sa.Column("project_page", sa.String(1000)),
        sa.Column("github_stars", sa.Integer),
        sa.Column("ai_summary", sa.Text),
        sa.Column("ai_keywords", sa.JSON, nullable=False),
        sa.Column("organization_id", sa.Integer, sa.ForeignKey("organizations.id")),
        sa.Column("sources", sa.String(200), nullable=False),
        sa.Column("source_upvotes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("local_upvotes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("source_comments", sa.Integer, nullable=False, server_default="0"),
        sa.Column("local_comments", sa.Integer, nullable=False, server_default="0"),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_papers_published_at", "papers", ["published_at"])
    op.create_index("ix_papers_organization_id", "papers", ["organization_id"])
    op.create_table(
        "paper_authors",
        sa.Column(
            "paper_id",
            sa.String(64),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("name_key", sa.String(300), nullable=False),
    )
    op.create_index("ix_paper_authors_name_key", "paper_authors", ["name_key"])
    op.create_table(
        "daily_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "paper_id",
            sa.String(64),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("submitted_by", sa.String(200)),
        sa.Column("submitted_by_name", sa.String(300)),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("day", "paper_id", name="uq_daily_entries_day_paper"),
    )
    op.create_index("ix_daily_entries_paper_id", "daily_entries", ["paper_id"])
    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("duration_s", sa.Float),
        sa.Column("papers_seen", sa.Integer, nullable=False, server_default="0"),
        sa.Column("papers_new", sa.Integer, nullable=False, server_default="0"),
        sa.Column("papers_updated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("daily_entries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
        sa.Column("errors", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("ingest_runs", "daily_entries", "paper_authors", "papers", "organizations"):
        op.drop_table(table)
