"""Authorship claims: users ask, admins decide."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from paperwire.domain import account_rules as rules
from paperwire.domain.permissions import Action
from paperwire.services.accounts import User
from paperwire.services.community.common import (
    CommunityError,
    paper_exists,
    paper_not_found,
    require,
    require_active,
)
from paperwire.store.accounts_tables import (
    authorship_claims,
    users,
)
from paperwire.store.db import aware_utc, utcnow
from paperwire.store.papers import author_key
from paperwire.store.tables import paper_authors, papers


@dataclass(frozen=True, slots=True)
class ClaimView:
    id: int
    username: str
    paper_id: str
    paper_title: str
    author_name: str
    status: str
    created_at: datetime

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "username": self.username,
            "paperId": self.paper_id,
            "paperTitle": self.paper_title,
            "authorName": self.author_name,
            "status": self.status,
            "createdAt": self.created_at.isoformat(),
        }


def request_claim(engine: Engine, user: User | None, paper_id: str, author_name: str) -> ClaimView:
    """Ask to be linked to an author name on a paper; a pending or approved claim is not doubled."""
    user = require_active(user)
    author_name = rules.without_nul(author_name).strip()[: rules.AUTHOR_NAME_MAX + 1]
    if not author_name:
        raise CommunityError("Choose the author name that is you.", 400, "author_name")
    with engine.begin() as conn:
        if not paper_exists(conn, paper_id):
            raise paper_not_found(paper_id)
        name = conn.scalar(
            select(paper_authors.c.name).where(
                paper_authors.c.paper_id == paper_id,
                paper_authors.c.name_key == author_key(author_name),
            )
        )
        if name is None:
            raise CommunityError(
                f"{author_name!r} is not an author of this paper.", 400, "author_name"
            )
        open_claim = conn.execute(
            select(authorship_claims.c.status).where(
                authorship_claims.c.user_id == user.id,
                authorship_claims.c.paper_id == paper_id,
                authorship_claims.c.status.in_(["pending", "approved"]),
            )
        ).first()
        if open_claim:
            raise CommunityError(
                f"You already have a {open_claim.status} claim on this paper.", 409, "author_name"
            )
        claim_id = conn.execute(
            insert(authorship_claims).values(
                user_id=user.id,
                paper_id=paper_id,
                author_name=name,
                status="pending",
                created_at=utcnow(),
            )
        ).inserted_primary_key[0]
    return _claims(engine, authorship_claims.c.id == claim_id)[0]


def decide_claim(engine: Engine, admin: User | None, claim_id: int, approve: bool) -> ClaimView:
    admin = require(admin, Action.DECIDE_CLAIM)
    with engine.begin() as conn:
        result = conn.execute(
            update(authorship_claims)
            .where(authorship_claims.c.id == claim_id, authorship_claims.c.status == "pending")
            .values(
                status="approved" if approve else "rejected",
                decided_at=utcnow(),
                decided_by=admin.id,
            )
        )
        if result.rowcount != 1:
            raise CommunityError("That claim does not exist or was already decided.", 404)
    return _claims(engine, authorship_claims.c.id == claim_id)[0]


def _claims(engine: Engine, condition) -> list[ClaimView]:
    query = (
        select(authorship_claims, users.c.username, papers.c.title)
        .join(users, users.c.id == authorship_claims.c.user_id)
        .join(papers, papers.c.id == authorship_claims.c.paper_id)
        .where(condition)
        .order_by(authorship_claims.c.id)
    )
    with engine.connect() as conn:
        return [
            ClaimView(
                r.id,
                r.username,
                r.paper_id,
                r.title,
                r.author_name,
                r.status,
                aware_utc(r.created_at),
            )
            for r in conn.execute(query)
        ]


def pending_claims(engine: Engine) -> list[ClaimView]:
    return _claims(engine, authorship_claims.c.status == "pending")


def claims_of(engine: Engine, user_id: int) -> list[ClaimView]:
    return _claims(engine, authorship_claims.c.user_id == user_id)


def claims_on_paper(engine: Engine, paper_id: str) -> list[ClaimView]:
    """Approved and pending claims on one paper (the page shows the approved ones, and
    the signed-in claimant their own pending one)."""
    return _claims(
        engine,
        (authorship_claims.c.paper_id == paper_id)
        & authorship_claims.c.status.in_(["pending", "approved"]),
    )


def approved_claims_for_author(engine: Engine, author_name: str) -> list[ClaimView]:
    """Approved claims naming this author (case and spacing as on the author page)."""
    key = " ".join(author_name.split()).casefold()
    return [
        c for c in _claims(engine, authorship_claims.c.status == "approved")
        if " ".join(c.author_name.split()).casefold() == key
    ]
