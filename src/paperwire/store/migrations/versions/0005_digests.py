"""Digests: subscribers, topics, deliveries, bounces.

Revision ID: 0005_digests
Revises: 0004_accounts
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_digests"
down_revision = "0004_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    # The accounts migration owns `users`; link to it only when it is there.
    has_users = sa.inspect(bind).has_table("users")
    user_fk = [sa.ForeignKey("users.id", ondelete="SET NULL")] if has_users else []
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        # Lower-cased address: the case-insensitive unique key.
        sa.Column("email_key", sa.String(320), nullable=False, unique=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("frequency", sa.String(10), nullable=False, server_default="daily"),
        sa.Column("weekdays_only", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("paper_count", sa.Integer, nullable=False, server_default="10"),
        sa.Column("user_id", sa.Integer, *user_fk),
        sa.Column("bounce_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.String(20), nullable=False, server_default="active"),
        sa.Column("last_digest_at", sa.DateTime(timezone=True)),
        sa.Column("confirmation_sent_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("frequency IN ('daily', 'weekly')", name="ck_subscribers_frequency"),
        sa.CheckConstraint(
            "status IN ('active', 'unsubscribed', 'bounced')", name="ck_subscribers_status"
        ),
    )
    op.create_index("ix_subscribers_user_id", "subscribers", ["user_id"])
    op.create_table(
        "subscriber_topics",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "subscriber_id",
            sa.Integer,
            sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(300), nullable=False),
        sa.UniqueConstraint("subscriber_id", "kind", "value", name="uq_subscriber_topics"),
        sa.CheckConstraint(
            "kind IN ('query', 'author', 'category', 'organization')",
            name="ck_subscriber_topics_kind",
        ),
    )
    op.create_table(
        "digest_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "subscriber_id",
            sa.Integer,
            sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("digest_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("message_id", sa.String(300)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("paper_count", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("subscriber_id", "digest_date", name="uq_digest_deliveries_sub_date"),
        sa.CheckConstraint(
            "status IN ('pending', 'claimed', 'sent', 'failed', 'bounced', 'skipped')",
            name="ck_digest_deliveries_status",
        ),
    )
    op.create_index(
        "ix_digest_deliveries_date_status", "digest_deliveries", ["digest_date", "status"]
    )
    op.create_table(
        "sent_papers",
        sa.Column(
            "subscriber_id",
            sa.Integer,
            sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("paper_id", sa.String(64), primary_key=True),
        sa.Column("digest_date", sa.Date, nullable=False),
    )
    # Fallback claim for scheduled runs when the jobs area offers none.
    op.create_table(
        "digest_schedule_claims",
        sa.Column("job_name", sa.String(100), primary_key=True),
        sa.Column("run_key", sa.String(100), primary_key=True),
        sa.Column("worker_id", sa.String(200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("digest_schedule_claims")
    op.drop_table("sent_papers")
    op.drop_index("ix_digest_deliveries_date_status", table_name="digest_deliveries")
    op.drop_table("digest_deliveries")
    op.drop_table("subscriber_topics")
    op.drop_index("ix_subscribers_user_id", table_name="subscribers")
    op.drop_table("subscribers")
