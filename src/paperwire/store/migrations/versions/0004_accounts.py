"""Accounts and community: users, sessions, tokens, votes, comments, claims, memberships.

Also adds moderation flags to papers (hidden, featured) and the submitting
user's id to daily entries.

Revision ID: 0004_accounts
Revises: 0003_embeddings
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_accounts"
down_revision = "0003_embeddings"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(40), nullable=False),
        sa.Column("username_key", sa.String(40), nullable=False, unique=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("email_verified_at", _TZ),
        sa.Column("role", sa.String(20), nullable=False, server_default="user"),
        sa.Column("suspended", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(300)),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("last_used_at", _TZ),
        sa.Column("revoked_at", _TZ),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "one_time_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("used_at", _TZ),
    )
    op.create_index("ix_one_time_tokens_user_id", "one_time_tokens", ["user_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_key", sa.String(320), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("succeeded", sa.Boolean, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_index(
        "ix_login_attempts_account_key_created_at", "login_attempts", ["account_key", "created_at"]
    )
    op.create_table(
        "paper_votes",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "paper_id",
            sa.String(64),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_index("ix_paper_votes_paper_id", "paper_votes", ["paper_id"])
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "paper_id",
            sa.String(64),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("comments.id", ondelete="CASCADE")),
        sa.Column("body_source", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("edited_at", _TZ),
        sa.Column("deleted_at", _TZ),
        sa.Column("deleted_by", sa.Integer),
    )
    op.create_index("ix_comments_paper_id", "comments", ["paper_id"])
    op.create_index("ix_comments_user_id", "comments", ["user_id"])
    op.create_table(
        "authorship_claims",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "paper_id",
            sa.String(64),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("author_name", sa.String(300), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("decided_at", _TZ),
        sa.Column("decided_by", sa.Integer),
    )
    op.create_index("ix_authorship_claims_user_id", "authorship_claims", ["user_id"])
    op.create_index("ix_authorship_claims_status", "authorship_claims", ["status"])
    op.create_table(
        "organization_members",
        sa.Column(
            "organization_id",
            sa.Integer,
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("created_at", _TZ, nullable=False),
    )
    op.create_table(
        "organization_paper_links",
        sa.Column(
            "organization_id",
            sa.Integer,
            sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "paper_id",
            sa.String(64),
            sa.ForeignKey("papers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("linked_by", sa.Integer, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.UniqueConstraint("paper_id", name="uq_organization_paper_links_paper"),
    )
    # Plain ADD COLUMN on both dialects (no table rebuild: papers carries FTS triggers).
    op.add_column(
        "papers", sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column(
        "papers", sa.Column("featured", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column("daily_entries", sa.Column("submitted_by_user_id", sa.Integer))
    op.create_index(
        "ix_daily_entries_submitted_by_user_id", "daily_entries", ["submitted_by_user_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_daily_entries_submitted_by_user_id", "daily_entries")
    op.drop_column("daily_entries", "submitted_by_user_id")
    op.drop_column("papers", "featured")
    op.drop_column("papers", "hidden")
    for table in (
        "organization_paper_links",
        "organization_members",
        "authorship_claims",
        "comments",
        "paper_votes",
        "login_attempts",
        "one_time_tokens",
        "api_tokens",
        "sessions",
        "users",
    ):
        op.drop_table(table)
