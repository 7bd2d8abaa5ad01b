"""Tables of the digest area (migration 0005_digests), on the shared metadata."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from paperwire.store.tables import metadata


def _subscriber_fk() -> ForeignKey:
    return ForeignKey("subscribers.id", ondelete="CASCADE")

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False),
    Column("email_key", String(320), nullable=False, unique=True),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("frequency", String(10), nullable=False, default="daily"),
    Column("weekdays_only", Boolean, nullable=False, default=True),
    Column("paper_count", Integer, nullable=False, default=10),
    # References users.id when the accounts area is installed (no ORM-level FK here).
    Column("user_id", Integer),
    Column("bounce_count", Integer, nullable=False, default=0),
    Column("status", String(20), nullable=False, default="active"),
    Column("last_digest_at", DateTime(timezone=True)),
    Column("confirmation_sent_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Mail links carry it; raising it (unsubscribe, "log out these links") revokes them.
    Column("token_version", Integer, nullable=False, default=0, server_default="0"),
)

subscriber_topics = Table(
    "subscriber_topics",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscriber_id", Integer, _subscriber_fk(), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("value", String(300), nullable=False),
    UniqueConstraint("subscriber_id", "kind", "value", name="uq_subscriber_topics"),
)

digest_deliveries = Table(
    "digest_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscriber_id", Integer, _subscriber_fk(), nullable=False),
    Column("digest_date", Date, nullable=False),
    Column("status", String(20), nullable=False, default="pending"),
    Column("claimed_by", String(200)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    Column("message_id", String(300)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("paper_count", Integer),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subscriber_id", "digest_date", name="uq_digest_deliveries_sub_date"),
)

sent_papers = Table(
    "sent_papers",
    metadata,
    Column("subscriber_id", Integer, _subscriber_fk(), primary_key=True),
    Column("paper_id", String(64), primary_key=True),
    Column("digest_date", Date, nullable=False),
)

digest_schedule_claims = Table(
    "digest_schedule_claims",
    metadata,
    Column("job_name", String(100), primary_key=True),
    Column("run_key", String(100), primary_key=True),
    Column("worker_id", String(200), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
)
