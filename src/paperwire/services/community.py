"""Community: upvotes, threaded comments, authorship claims, organizations, moderation.

Vote and comment writes change `papers.local_upvotes` / `papers.local_comments`
in the same transaction, so the card counts never drift from the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, and_, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from paperwire.domain import account_rules as rules
from paperwire.domain.comment_markup import mentioned_usernames, render_comment
from paperwire.domain.permissions import Action, can, can_delete_comment, can_edit_comment
from paperwire.services.accounts import User, find_user
from paperwire.store.accounts_tables import (
    authorship_claims,
    comments,
    organization_members,
    organization_paper_links,
    paper_votes,
    users,
)
from paperwire.store.papers import author_key
from paperwire.store.tables import organizations, paper_authors, papers


class CommunityError(ValueError):
    """A refused action; `status` is the HTTP status that fits it."""

    def __init__(self, message: str, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def require_active(user: User | None, *, verified: bool = True) -> User:
    if user is None:
        raise CommunityError("Log in first.", 401)
    if user.suspended:
        raise CommunityError("This account is suspended.", 403)
    if verified and not user.email_verified:
        raise CommunityError(
            "Confirm your email address first: open the link we mailed you "
            "(Settings can send it again).",
            403,
        )
    return user


def require(user: User | None, action: Action) -> User:
    user = require_active(user, verified=False)
    if not can(user.role, action):
        raise CommunityError("You are not allowed to do that.", 403)
    return user


def _paper_exists(conn: Connection, paper_id: str) -> bool:
    return conn.execute(select(papers.c.id).where(papers.c.id == paper_id)).first() is not None


def _not_found(paper_id: str) -> CommunityError:
    return CommunityError(f"There is no paper {paper_id[:80]!r} here.", 404)


# -- votes -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VoteState:
    paper_id: str
    voted: bool
    upvotes: int  # imported + local

    def as_json(self) -> dict[str, object]:
        return {"paperId": self.paper_id, "upvoted": self.voted, "upvotes": self.upvotes}


def set_vote(engine: Engine, user: User | None, paper_id: str, voted: bool) -> VoteState:
    """Add or remove this user's vote; idempotent, safe under concurrent requests.

    The vote row's primary key (user, paper) decides; the counter moves only
    when a row was really inserted or deleted.
    """
    user = require_active(user)
    with engine.begin() as conn:
        if voted:
            stmt = (
                _insert_ignore(conn, paper_votes)
                .values(user_id=user.id, paper_id=paper_id, created_at=utcnow())
                .returning(paper_votes.c.user_id)
            )
            try:
                # RETURNING gives a row only when the vote was really inserted.
                changed = conn.execute(stmt).first() is not None
            except IntegrityError:  # the paper does not exist (foreign key)
                raise _not_found(paper_id) from None
            delta = 1
        else:
            changed = (
                conn.execute(
                    paper_votes.delete().where(
                        paper_votes.c.user_id == user.id, paper_votes.c.paper_id == paper_id
                    )
                ).rowcount
                == 1
            )
            delta = -1
        if changed:
            conn.execute(
                update(papers)
                .where(papers.c.id == paper_id)
                .values(local_upvotes=papers.c.local_upvotes + delta)
            )
        row = conn.execute(
            select(papers.c.source_upvotes, papers.c.local_upvotes).where(papers.c.id == paper_id)
        ).first()
        if row is None:
            raise _not_found(paper_id)
    return VoteState(paper_id, voted, row.source_upvotes + row.local_upvotes)


def _insert_ignore(conn: Connection, table):
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def voted_ids(engine: Engine, user_id: int, paper_ids: list[str] | None = None) -> set[str]:
    query = select(paper_votes.c.paper_id).where(paper_votes.c.user_id == user_id)
    if paper_ids is not None:
        query = query.where(paper_votes.c.paper_id.in_(paper_ids))
    with engine.connect() as conn:
        return set(conn.scalars(query))


def vote_count(engine: Engine, paper_id: str) -> int:
    with engine.connect() as conn:
        row = conn.execute(
            select(papers.c.source_upvotes, papers.c.local_upvotes).where(papers.c.id == paper_id)
        ).first()
    return (row.source_upvotes + row.local_upvotes) if row else 0


# -- comments ----------------------------------------------------------------------


@dataclass(slots=True)
class CommentView:
    id: int
    paper_id: str
    parent_id: int | None
    author: str | None  # None once deleted
    author_id: int
    body_source: str
    body_html: str
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    replies: list[CommentView] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "paperId": self.paper_id,
            "parentId": self.parent_id,
            "author": self.author,
            "body": self.body_source,
            "html": self.body_html,
            "createdAt": self.created_at.isoformat(),
            "editedAt": self.edited_at.isoformat() if self.edited_at else None,
            "deleted": self.deleted,
            "replies": [reply.as_json() for reply in self.replies],
        }


def _check_body(body: str) -> str:
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise CommunityError("Write something first.", 400, "body")
    if len(body) > rules.COMMENT_MAX:
        raise CommunityError(
            f"Comments have at most {rules.COMMENT_MAX} characters (this one has {len(body)}).",
            400,
            "body",
        )
    if "\x00" in body:
        raise CommunityError("Comments cannot contain NUL characters.", 400, "body")
    return body


def _render(conn: Connection, body: str) -> str:
    names = list(mentioned_usernames(body))[:50]
    existing = []
    if names:
        existing = list(
            conn.scalars(
                select(users.c.username).where(
                    users.c.username_key.in_([rules.username_key(n) for n in names])
                )
            )
        )
    return render_comment(body, existing)


def add_comment(
    engine: Engine, user: User | None, paper_id: str, body: str, parent_id: int | None = None
) -> CommentView:
    user = require_active(user)
    body = _check_body(body)
    now = utcnow()
    with engine.begin() as conn:
        if not _paper_exists(conn, paper_id):
            raise _not_found(paper_id)
        if parent_id is not None:
            parent = conn.execute(
                select(comments.c.paper_id, comments.c.deleted_at).where(comments.c.id == parent_id)
            ).first()
            if parent is None or parent.paper_id != paper_id:
                raise CommunityError("The comment you reply to is not on this paper.", 400)
            if parent.deleted_at is not None:
                raise CommunityError("The comment you reply to was deleted.", 400)
        comment_id = conn.execute(
            insert(comments).values(
                paper_id=paper_id,
                user_id=user.id,
                parent_id=parent_id,
                body_source=body,
                body_html=_render(conn, body),
                created_at=now,
            )
        ).inserted_primary_key[0]
        conn.execute(
            update(papers)
            .where(papers.c.id == paper_id)
            .values(local_comments=papers.c.local_comments + 1)
        )
    return get_comment(engine, comment_id)


def get_comment(engine: Engine, comment_id: int) -> CommentView | None:
    with engine.connect() as conn:
        rows = _comment_rows(conn, comments.c.id == comment_id)
    return rows[0] if rows else None


def _comment_rows(conn: Connection, condition) -> list[CommentView]:
    query = (
        select(comments, users.c.username)
        .join(users, users.c.id == comments.c.user_id)
        .where(condition)
        .order_by(comments.c.created_at, comments.c.id)
    )
    out = []
    for r in conn.execute(query):
        deleted = r.deleted_at is not None
        out.append(
            CommentView(
                id=r.id,
                paper_id=r.paper_id,
                parent_id=r.parent_id,
                author=None if deleted else r.username,
                author_id=r.user_id,
                body_source="" if deleted else r.body_source,
                body_html="" if deleted else r.body_html,
                created_at=_aware(r.created_at),
                edited_at=_aware(r.edited_at),
                deleted=deleted,
            )
        )
    return out


def comment_thread(engine: Engine, paper_id: str) -> list[CommentView]:
    """Top-level comments, oldest first, each with its replies nested.

    Deleted comments stay as placeholders only while they have live replies.
    """
    with engine.connect() as conn:
        flat = _comment_rows(conn, comments.c.paper_id == paper_id)
    by_id = {c.id: c for c in flat}
    roots: list[CommentView] = []
    for c in flat:
        parent = by_id.get(c.parent_id) if c.parent_id else None
        (parent.replies if parent else roots).append(c)

    def prune(items: list[CommentView]) -> list[CommentView]:
        kept = []
        for c in items:
            c.replies = prune(c.replies)
            if not c.deleted or c.replies:
                kept.append(c)
        return kept

    return prune(roots)


def _load_owned(conn: Connection, comment_id: int):
    row = conn.execute(select(comments).where(comments.c.id == comment_id)).first()
    if row is None or row.deleted_at is not None:
        raise CommunityError("That comment does not exist or was deleted.", 404)
    return row


def edit_comment(engine: Engine, user: User | None, comment_id: int, body: str) -> CommentView:
    user = require_active(user)
    body = _check_body(body)
    with engine.begin() as conn:
        row = _load_owned(conn, comment_id)
        if not can_edit_comment(user.id, row.user_id):
            raise CommunityError("You can only edit your own comments.", 403)
        conn.execute(
            update(comments)
            .where(comments.c.id == comment_id)
            .values(body_source=body, body_html=_render(conn, body), edited_at=utcnow())
        )
    return get_comment(engine, comment_id)


def delete_comment(engine: Engine, user: User | None, comment_id: int) -> str:
    """Soft-delete (text wiped); returns the paper id. Authors and moderators may."""
    user = require_active(user, verified=False)
    with engine.begin() as conn:
        row = _load_owned(conn, comment_id)
        if not can_delete_comment(user.id, user.role, row.user_id):
            raise CommunityError("You can only delete your own comments.", 403)
        result = conn.execute(
            update(comments)
            .where(comments.c.id == comment_id, comments.c.deleted_at.is_(None))
            .values(deleted_at=utcnow(), deleted_by=user.id, body_source="", body_html="")
        )
        if result.rowcount == 1:
            conn.execute(
                update(papers)
                .where(papers.c.id == row.paper_id)
                .values(local_comments=papers.c.local_comments - 1)
            )
    return row.paper_id


# -- authorship claims -------------------------------------------------------------


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
        if not _paper_exists(conn, paper_id):
            raise _not_found(paper_id)
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
                r.id, r.username, r.paper_id, r.title, r.author_name, r.status, _aware(r.created_at)
            )
            for r in conn.execute(query)
        ]


def pending_claims(engine: Engine) -> list[ClaimView]:
    return _claims(engine, authorship_claims.c.status == "pending")


def claims_of(engine: Engine, user_id: int) -> list[ClaimView]:
    return _claims(engine, authorship_claims.c.user_id == user_id)


# -- organizations -----------------------------------------------------------------


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
    except IntegrityError:
        raise CommunityError(f"The organization {name!r} exists already.", 409, "name") from None
    return get_organization(engine, name)


def get_organization(engine: Engine, name: str) -> OrganizationView | None:
    with engine.connect() as conn:
        org = conn.execute(select(organizations).where(organizations.c.name == name[:200])).first()
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


def list_organizations(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                organizations.c.name,
                organizations.c.fullname,
                func.count(organization_members.c.user_id).label("members"),
            )
            .outerjoin(
                organization_members, organization_members.c.organization_id == organizations.c.id
            )
            .group_by(organizations.c.id, organizations.c.name, organizations.c.fullname)
            .order_by(organizations.c.name)
            .limit(1000)
        ).all()
    return [{"name": r.name, "fullname": r.fullname, "members": r.members} for r in rows]


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
            _insert_ignore(conn, organization_members).values(
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
    """A member links a paper to their organization (its page then lists it)."""
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
        if member is None and not user.is_admin:
            raise CommunityError(f"Only members of {org.name} can link papers to it.", 403)
        if not _paper_exists(conn, paper_id):
            raise CommunityError(f"There is no paper {paper_id[:80]!r} here.", 400, "paper_id")
        conn.execute(
            organization_paper_links.delete().where(organization_paper_links.c.paper_id == paper_id)
        )
        conn.execute(
            insert(organization_paper_links).values(
                organization_id=org.id, paper_id=paper_id, linked_by=user.id, created_at=utcnow()
            )
        )
        conn.execute(update(papers).where(papers.c.id == paper_id).values(organization_id=org.id))


# -- moderation --------------------------------------------------------------------


def set_paper_flag(
    engine: Engine, user: User | None, paper_id: str, flag: str, value: bool
) -> None:
    action = {"hidden": Action.HIDE_PAPER, "featured": Action.FEATURE_PAPER}.get(flag)
    if action is None:
        raise CommunityError(f"Unknown flag {flag!r}.", 400)
    require(user, action)
    with engine.begin() as conn:
        result = conn.execute(update(papers).where(papers.c.id == paper_id).values({flag: value}))
        if result.rowcount != 1:
            raise _not_found(paper_id)


def flagged_papers(engine: Engine, flag: str, *, limit: int = 200) -> list[dict[str, object]]:
    """Papers with `hidden` or `featured` set, for the moderation page (hidden pages 404)."""
    column = {"hidden": papers.c.hidden, "featured": papers.c.featured}[flag]
    with engine.connect() as conn:
        rows = conn.execute(
            select(papers.c.id, papers.c.title)
            .where(column.is_(True))
            .order_by(papers.c.modified_at.desc())
            .limit(limit)
        ).all()
    return [{"id": r.id, "title": r.title} for r in rows]


def suspend_user(engine: Engine, admin: User | None, username: str, suspended: bool) -> None:
    from paperwire.services.accounts import set_suspended

    admin = require(admin, Action.SUSPEND_USER)
    target = find_user(engine, username)
    if target is None:
        raise CommunityError(f"There is no user {username[:40]!r}.", 404)
    if target.id == admin.id:
        raise CommunityError("You cannot suspend yourself.", 400)
    set_suspended(engine, target.id, suspended)


# -- profiles ----------------------------------------------------------------------


@dataclass(slots=True)
class Profile:
    user: User
    submitted: list[dict[str, object]]
    upvoted: list[dict[str, object]]
    claimed: list[dict[str, object]]
    comments: list[dict[str, object]]
    organizations: list[str]

    def as_json(self) -> dict[str, object]:
        return {
            "user": self.user.public(),
            "submittedPapers": self.submitted,
            "upvotedPapers": self.upvoted,
            "claimedPapers": self.claimed,
            "comments": self.comments,
            "organizations": self.organizations,
        }


def _paper_summary(row) -> dict[str, object]:
    return {"id": row.id, "title": row.title, "upvotes": row.source_upvotes + row.local_upvotes}


def profile(engine: Engine, username: str, *, limit: int = 100) -> Profile | None:
    from paperwire.store.tables import daily_entries

    user = find_user(engine, username)
    if user is None:
        return None
    cols = (papers.c.id, papers.c.title, papers.c.source_upvotes, papers.c.local_upvotes)
    visible = papers.c.hidden.is_(False)
    with engine.connect() as conn:
        submitted = [
            _paper_summary(r) | {"day": r.day.isoformat()}
            for r in conn.execute(
                select(*cols, daily_entries.c.day)
                .join(daily_entries, daily_entries.c.paper_id == papers.c.id)
                .where(daily_entries.c.submitted_by_user_id == user.id, visible)
                .order_by(daily_entries.c.day.desc())
                .limit(limit)
            )
        ]
        upvoted = [
            _paper_summary(r)
            for r in conn.execute(
                select(*cols)
                .join(paper_votes, paper_votes.c.paper_id == papers.c.id)
                .where(paper_votes.c.user_id == user.id, visible)
                .order_by(paper_votes.c.created_at.desc())
                .limit(limit)
            )
        ]
        claimed = [
            _paper_summary(r) | {"authorName": r.author_name}
            for r in conn.execute(
                select(*cols, authorship_claims.c.author_name)
                .join(authorship_claims, authorship_claims.c.paper_id == papers.c.id)
                .where(
                    authorship_claims.c.user_id == user.id,
                    authorship_claims.c.status == "approved",
                    visible,
                )
                .order_by(authorship_claims.c.decided_at.desc())
                .limit(limit)
            )
        ]
        user_comments = [
            {
                "id": r.id,
                "paperId": r.paper_id,
                "paperTitle": r.title,
                "html": r.body_html,
                "createdAt": _aware(r.created_at).isoformat(),
            }
            for r in conn.execute(
                select(
                    comments.c.id,
                    comments.c.paper_id,
                    comments.c.body_html,
                    comments.c.created_at,
                    papers.c.title,
                )
                .join(papers, papers.c.id == comments.c.paper_id)
                .where(comments.c.user_id == user.id, comments.c.deleted_at.is_(None), visible)
                .order_by(comments.c.created_at.desc())
                .limit(limit)
            )
        ]
    return Profile(
        user, submitted, upvoted, claimed, user_comments, organizations_of(engine, user.id)
    )
