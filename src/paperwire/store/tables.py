"""Table definitions shared by SQLite and PostgreSQL (SQLAlchemy Core).

Migrations in migrations/versions are the source of truth for the schema;
these objects mirror them for queries.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

organizations = Table(
    "organizations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("fullname", String(300)),
    Column("avatar_url", String(500)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

papers = Table(
    "papers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer),
    Column("title", Text, nullable=False),
    Column("abstract", Text, nullable=False, default=""),
    Column("authors", JSON, nullable=False),
    Column("authors_text", Text, nullable=False, default=""),
    Column("primary_category", String(40)),
    Column("categories", String(400), nullable=False, default=""),
    Column("published_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    Column("comments", Text),
    Column("journal_ref", Text),
    Column("doi", String(300)),
    Column("github_repo", String(500)),
    Column("project_page", String(1000)),
    Column("github_stars", Integer),
    Column("ai_summary", Text),
    Column("ai_keywords", JSON, nullable=False),
    Column("organization_id", Integer, ForeignKey("organizations.id")),
    Column("sources", String(200), nullable=False, default=""),
    Column("source_upvotes", Integer, nullable=False, default=0),
    Column("local_upvotes", Integer, nullable=False, default=0),
    Column("source_comments", Integer, nullable=False, default=0),
    Column("local_comments", Integer, nullable=False, default=0),
    Column("hidden", Boolean, nullable=False, default=False),  # moderation (0004_accounts)
    Column("featured", Boolean, nullable=False, default=False),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("modified_at", DateTime(timezone=True), nullable=False),
    Index("ix_papers_published_at", "published_at"),
    Index("ix_papers_organization_id", "organization_id"),
    Index("ix_papers_modified_at", "modified_at"),
)

paper_authors = Table(
    "paper_authors",
    metadata,
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", String(300), nullable=False),
    Column("name_key", String(300), nullable=False),
    Index("ix_paper_authors_name_key", "name_key"),
)

daily_entries = Table(
    "daily_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),
    Column("source", String(40), nullable=False),
    Column("submitted_by", String(200)),
    Column("submitted_by_name", String(300)),
    Column("submitted_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("submitted_by_user_id", Integer),  # local submitter (0004_accounts)
    Column("thumbnail", String(1000)),  # 0008: source item fields
    Column("published_at", DateTime(timezone=True)),
    Column("submitter", JSON),
    Column("source_position", Integer),
    UniqueConstraint("day", "paper_id", name="uq_daily_entries_day_paper"),
    Index("ix_daily_entries_paper_id", "paper_id"),
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(40), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("duration_s", Float),
    Column("papers_seen", Integer, nullable=False, default=0),
    Column("papers_new", Integer, nullable=False, default=0),
    Column("papers_updated", Integer, nullable=False, default=0),
    Column("daily_entries", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("errors", JSON, nullable=False),
    Column("worker_id", String(200)),  # host:pid:tag of the process running it
    Column("heartbeat_at", DateTime(timezone=True)),  # renewed while it runs
)

paper_embeddings = Table(
    "paper_embeddings",
    metadata,
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("model_id", String(200), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_paper_embeddings_model_created", "model_id", "created_at"),
)

paper_fulltext = Table(  # 0010: full text converted from arXiv's HTML rendering
    "paper_fulltext",
    metadata,
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("markdown", Text),  # None until a fetch succeeds; a failure never replaces it
    Column("source_url", String(500)),
    Column("fetched_at", DateTime(timezone=True)),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("last_error", String(500)),
)

paper_enrichments = Table(  # 0012_paper_enrichments: computed keywords/summary + provenance
    "paper_enrichments",
    metadata,
    Column("paper_id", String(64), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("keywords", JSON),
    Column("keywords_origin", String(40)),
    Column("summary", Text),
    Column("summary_origin", String(40)),
    Column("summary_model", String(200)),
    Column("generation_attempts", Integer, nullable=False, default=0),
    Column("generation_retry_at", DateTime(timezone=True)),
    Column("generation_error", String(500)),
    Column("enriched_at", DateTime(timezone=True), nullable=False),
)
