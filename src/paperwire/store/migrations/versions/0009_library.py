"""Personal library: saved papers, notes, tags, marks, collections, follows, feed settings.

Revision ID: 0009_library
Revises: 0008_daily_entry_source_fields
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_library"
down_revision = "0008_daily_entry_source_fields"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def _user_fk():
    return sa.ForeignKey("users.id", ondelete="CASCADE")


def _paper_fk():
    return sa.ForeignKey("papers.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "library_items",
        sa.Column("user_id", sa.Integer, _user_fk(), primary_key=True),
        sa.Column("paper_id", sa.String(64), _paper_fk(), primary_key=True),
        sa.Column("note_source", sa.Text, nullable=False, server_default=""),
        sa.Column("note_html", sa.Text, nullable=False, server_default=""),
        sa.Column("saved_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
    )
    op.create_index("ix_library_items_paper_id", "library_items", ["paper_id"])
    op.create_table(
        "library_tags",
        sa.Column("user_id", sa.Integer, _user_fk(), primary_key=True),
        sa.Column("paper_id", sa.String(64), _paper_fk(), primary_key=True),
        sa.Column("tag_key", sa.String(60), primary_key=True),
        sa.Column("tag", sa.String(60), nullable=False),
    )
    op.create_index("ix_library_tags_user_tag", "library_tags", ["user_id", "tag_key"])
    op.create_table(
        "paper_marks",
        sa.Column("user_id", sa.Integer, _user_fk(), primary_key=True),
        sa.Column("paper_id", sa.String(64), _paper_fk(), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),  # read | not_interested
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_table(
        "collections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, _user_fk(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_key", sa.String(100), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("is_public", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.UniqueConstraint("user_id", "name_key", name="uq_collections_user_name"),
    )
    op.create_table(
        "collection_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "collection_id",
            sa.Integer,
            sa.ForeignKey("collections.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("paper_id", sa.String(64), _paper_fk(), nullable=False),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("added_at", _TZ, nullable=False),
        sa.UniqueConstraint("collection_id", "paper_id", name="uq_collection_items_paper"),
    )
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, _user_fk(), nullable=False),
        # author | organization | category | search
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.Column("value_key", sa.String(500), nullable=False),
        sa.Column("filters", sa.JSON, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.UniqueConstraint("user_id", "kind", "value_key", name="uq_follows_user_kind_value"),
    )
    op.create_table(
        "feed_settings",
        sa.Column("user_id", sa.Integer, _user_fk(), primary_key=True),
        sa.Column("include_keywords", sa.Text, nullable=False, server_default=""),
        sa.Column("exclude_keywords", sa.Text, nullable=False, server_default=""),
        sa.Column("feed_token_hash", sa.String(64), unique=True),
        sa.Column("feed_token_created_at", _TZ),
        sa.Column("updated_at", _TZ, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "feed_settings",
        "follows",
        "collection_items",
        "collections",
        "paper_marks",
        "library_tags",
    ):
        op.drop_table(name)
    op.drop_index("ix_library_items_paper_id", table_name="library_items")
    op.drop_table("library_items")
