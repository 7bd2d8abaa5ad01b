"""Who may do what: roles and ownership rules, as pure functions."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"


class Action(StrEnum):
    HIDE_PAPER = "hide_paper"
    FEATURE_PAPER = "feature_paper"
    DELETE_ANY_COMMENT = "delete_any_comment"
    SUSPEND_USER = "suspend_user"
    DECIDE_CLAIM = "decide_claim"
    MANAGE_ORGANIZATIONS = "manage_organizations"
    MODERATE = "moderate"  # see the moderation page
    VIEW_RUNS = "view_runs"  # see the ingest runs and worker steps (admins)


_MODERATOR_ACTIONS = frozenset(
    {Action.HIDE_PAPER, Action.FEATURE_PAPER, Action.DELETE_ANY_COMMENT, Action.MODERATE}
)


def can(role: str, action: Action) -> bool:
    """Admins may do everything; moderators everything but suspending, claims and orgs."""
    if role == Role.ADMIN:
        return True
    if role == Role.MODERATOR:
        return action in _MODERATOR_ACTIONS
    return False


def can_edit_comment(actor_id: int, comment_author_id: int) -> bool:
    """Only the author edits a comment (moderators delete, they never rewrite)."""
    return actor_id == comment_author_id


def can_delete_comment(actor_id: int, actor_role: str, comment_author_id: int) -> bool:
    return actor_id == comment_author_id or can(actor_role, Action.DELETE_ANY_COMMENT)


def paper_link_refusal(
    *, is_admin: bool, is_member: bool, has_approved_claim: bool,
    current_org_id: int | None, target_org_id: int, org_name: str,
) -> str | None:
    """Why this user may not link a paper to the organization, or None if they may.

    Admins may link any paper, also away from another organization. A member may link
    a paper they are an approved author of, and only if no other organization has it.
    """
    if is_admin:
        return None
    if not is_member:
        return f"Only members of {org_name} can link papers to it."
    if current_org_id is not None and current_org_id != target_org_id:
        return "This paper belongs to another organization; only an admin can move it."
    if not has_approved_claim:
        return ("Only an author of the paper can link it: claim your authorship on the paper's "
                "page first (an admin approves claims), or ask an admin to link it.")
    return None
