"""Organizations: admins create them, members link papers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from paperwire.domain import account_rules as rules
from paperwire.domain.permissions import Action, paper_link_refusal
from paperwire.services.accounts import User, find_user
from paperwire.services.community.common import (
    CommunityError,
    paper_exists,
    require,
    require_active,
)
from paperwire.services.papers import find_organization
from paperwire.store.accounts_tables import (
    authorship_claims,
    organization_members,
    organization_paper_links,
    users,
)
from paperwire.store.db import insert_ignore, utcnow
from paperwire.store.events import OrganizationsChanged, PapersChanged
from paperwire.store.events import record as record_event
from paperwire.store.tables import organizations, papers


@dataclass(frozen=True, slots=True)
class OrganizationView:
    id: int
    name: str
    fullname: str | None
    members: list[str]
    paper_ids: list[str]

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "fullname": self.fullname,
            "members": self.members,
            "papers": self.paper_ids,
        }


def create_organization(
    engine: Engine, admin: User | None, name: str, fullname: str = ""
) -> OrganizationView:
    require(admin, Action.MANAGE_ORGANIZATIONS)
    name, fullname = name.strip(), rules.without_nul(fullname).strip()[:300]
    problem = rules.org_name_problem(name)
    if problem:
        raise CommunityError(problem, 400, "name")
    try:
        with engine.begin() as conn:
            if conn.execute(select(organizations.c.id).where(organizations.c.name == name)).first():
                raise CommunityError(f"The organization {name!r} exists already.", 409, "name")
            conn.execute(
                insert(organizations).values(
                    name=name, fullname=fullname or None, created_at=utcnow()
                )
            )
            record_event(conn, OrganizationsChanged())
    except IntegrityError:
        raise CommunityError(f"The organization {name!r} exists already.", 409, "name") from None
    return get_organization(engine, name)


def get_organization(engine: Engine, name: str) -> OrganizationView | None:
    with engine.connect() as conn:
        org = find_organization(conn, name[:200])
        if org is None:
            return None
        members = list(
            conn.scalars(
                select(users.c.username)
                .join(organization_members, organization_members.c.user_id == users.c.id)
                .where(organization_members.c.organization_id == org.id)
                .order_by(users.c.username_key)
            )
        )
        paper_ids = list(
            conn.scalars(
                select(papers.c.id)
                .where(papers.c.organization_id == org.id, papers.c.hidden.is_(False))
                .order_by(papers.c.published_at.desc())
                .limit(500)
            )
        )
    return OrganizationView(org.id, org.name, org.fullname, members, paper_ids)


def add_member(engine: Engine, admin: User | None, org_name: str, username: str) -> None:
    require(admin, Action.MANAGE_ORGANIZATIONS)
    org = get_organization(engine, org_name)
    if org is None:
        raise CommunityError(f"There is no organization {org_name[:100]!r}.", 404)
    member = find_user(engine, username)
    if member is None:
        raise CommunityError(f"There is no user {username[:40]!r}.", 400, "username")
    with engine.begin() as conn:
        conn.execute(
            insert_ignore(conn, organization_members).values(
                organization_id=org.id, user_id=member.id, created_at=utcnow()
            )
        )


def organizations_of(engine: Engine, user_id: int) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.scalars(
                select(organizations.c.name)
                .join(
                    organization_members,
                    organization_members.c.organization_id == organizations.c.id,
                )
                .where(organization_members.c.user_id == user_id)
                .order_by(organizations.c.name)
            )
        )


def link_paper(engine: Engine, user: User | None, org_name: str, paper_id: str) -> None:
    """Link a paper to an organization (its page then lists it).

    Rules in domain.permissions.paper_link_refusal: an approved author who is a member,
    or an admin; moving a paper away from another organization is for admins only.
    """
    user = require_active(user)
    org = get_organization(engine, org_name)
    if org is None:
        raise CommunityError(f"There is no organization {org_name[:100]!r}.", 404)
    with engine.begin() as conn:
        member = conn.execute(
            select(organization_members.c.user_id).where(
                and_(
                    organization_members.c.organization_id == org.id,
                    organization_members.c.user_id == user.id,
                )
            )
        ).first()
        if not paper_exists(conn, paper_id):
            raise CommunityError(f"There is no paper {paper_id[:80]!r} here.", 400, "paper_id")
        current_org = conn.execute(
            select(papers.c.organization_id).where(papers.c.id == paper_id)
        ).scalar()
        claimed = conn.execute(
            select(authorship_claims.c.id).where(
                authorship_claims.c.user_id == user.id,
                authorship_claims.c.paper_id == paper_id,
                authorship_claims.c.status == "approved",
            )
        ).first()
        refusal = paper_link_refusal(
            is_admin=user.is_admin, is_member=member is not None,
            has_approved_claim=claimed is not None, current_org_id=current_org,
            target_org_id=org.id, org_name=org.name,
        )
        if refusal:
            raise CommunityError(refusal, 403, "paper_id")
        conn.execute(
            organization_paper_links.delete().where(organization_paper_links.c.paper_id == paper_id)
        )
        conn.execute(
            insert(organization_paper_links).values(
                organization_id=org.id, paper_id=paper_id, linked_by=user.id, created_at=utcnow()
            )
        )
        conn.execute(update(papers).where(papers.c.id == paper_id).values(organization_id=org.id))
        record_event(conn, PapersChanged.of([paper_id]), OrganizationsChanged())
