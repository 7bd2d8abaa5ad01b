"""Tables of the personal library and For-you feed (mirror migration 0009_library)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from paperwire.store import accounts_tables  # noqa: F401  (users must be on the metadata)
from paperwire.store.tables import metadata


def _user_fk() -> ForeignKey:
    return ForeignKey("users.id", ondelete="CASCADE")


def _paper_fk() -> ForeignKey:
    return ForeignKey("papers.id", ondelete="CASCADE")


library_items = Table(
    "library_items",
    metadata,
    Column("user_id", Integer, _user_fk(), primary_key=True),
    Column("paper_id", String(64), _paper_fk(), primary_key=True),
    Column("note_source", Text, nullable=False, default=""),
    Column("note_html", Text, nullable=False, default=""),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_library_items_paper_id", "paper_id"),
)

library_tags = Table(
    "library_tags",
    metadata,
    Column("user_id", Integer, _user_fk(), primary_key=True),
    Column("paper_id", String(64), _paper_fk(), primary_key=True),
    Column("tag_key", String(60), primary_key=True),
    Column("tag", String(60), nullable=False),
    Index("ix_library_tags_user_tag", "user_id", "tag_key"),
)

paper_marks = Table(
    "paper_marks",
    metadata,
    Column("user_id", Integer, _user_fk(), primary_key=True),
    Column("paper_id", String(64), _paper_fk(), primary_key=True),
    Column("kind", String(20), primary_key=True),  # read | not_interested
    Column("created_at", DateTime(timezone=True), nullable=False),
)

collections = Table(
    "collections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, _user_fk(), nullable=False),
    Column("name", String(100), nullable=False),
    Column("name_key", String(100), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("is_public", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("user_id", "name_key", name="uq_collections_user_name"),
)

collection_items = Table(
    "collection_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("collection_id", Integer, ForeignKey("collections.id", ondelete="CASCADE"),
           nullable=False),
    Column("paper_id", String(64), _paper_fk(), nullable=False),
    Column("position", Integer, nullable=False, default=0),
    Column("note", Text, nullable=False, default=""),
    Column("added_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("collection_id", "paper_id", name="uq_collection_items_paper"),
)

follows = Table(
    "follows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, _user_fk(), nullable=False),
    Column("kind", String(20), nullable=False),  # author | organization | category | search
    Column("value", String(500), nullable=False),
    Column("value_key", String(500), nullable=False),
    Column("filters", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("user_id", "kind", "value_key", name="uq_follows_user_kind_value"),
)

feed_settings = Table(
    "feed_settings",
    metadata,
    Column("user_id", Integer, _user_fk(), primary_key=True),
    Column("include_keywords", Text, nullable=False, default=""),
    Column("exclude_keywords", Text, nullable=False, default=""),
    Column("feed_token_hash", String(64), unique=True),
    Column("feed_token_created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
