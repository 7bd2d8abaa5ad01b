"""Moderation routes: the moderators' page, claim decisions, paper flags, suspensions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from paperwire.domain.permissions import Action
from paperwire.services import community
from paperwire.services.community import CommunityError
from paperwire.web.auth import current_user
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import FastJSON, page
from paperwire.web.routes.community.common import (
    Format,
    Name,
    PaperId,
    RowId,
    error_response,
    html_error,
    paper_url,
    see_other,
)

router = APIRouter(tags=["community"])


@router.get("/moderation", summary="Moderation: pending claims, flagged papers, users")
def moderation_page(request: Request, container: ContainerDep, format: Format = "html") -> Response:
    user = current_user(request)
    try:
        community.require(user, Action.MODERATE)
    except CommunityError as exc:
        return error_response(request, exc, format)
    claims = community.pending_claims(container.engine) if user.is_admin else []
    hidden = community.flagged_papers(container.engine, "hidden")
    featured = community.flagged_papers(container.engine, "featured")
    if format == "json":
        return FastJSON(
            {
                "pendingClaims": [c.as_json() for c in claims],
                "hiddenPapers": hidden,
                "featuredPapers": featured,
            }
        )
    return page(
        request,
        "community/moderation.html",
        {"claims": claims, "hidden": hidden, "featured": featured, "errors": {}},
    )


@router.post("/moderation/claims/{claim_id}/{decision}", summary="Approve or reject a claim")
def decide_claim(
    request: Request,
    container: ContainerDep,
    claim_id: RowId,
    decision: Literal["approve", "reject"],
) -> Response:
    try:
        community.decide_claim(
            container.engine, current_user(request), claim_id, decision == "approve"
        )
    except CommunityError as exc:
        return html_error(request, exc)
    return see_other("/moderation")


@router.post("/moderation/papers/{paper_id:path}/flags", summary="Hide or feature a paper")
def paper_flags(
    request: Request,
    container: ContainerDep,
    paper_id: PaperId,
    flag: Annotated[Literal["hidden", "featured"], Form()],
    value: Annotated[bool, Form()],
) -> Response:
    try:
        community.set_paper_flag(container.engine, current_user(request), paper_id, flag, value)
    except CommunityError as exc:
        return html_error(request, exc)
    # A hidden paper's page answers 404, so moderators land on the moderation page.
    return see_other("/moderation" if flag == "hidden" else paper_url(paper_id))


@router.post("/moderation/users/{username}/{action}", summary="Suspend or reinstate a user")
def suspend(
    request: Request,
    container: ContainerDep,
    username: Name,
    action: Literal["suspend", "reinstate"],
) -> Response:
    try:
        community.suspend_user(
            container.engine, current_user(request), username, action == "suspend"
        )
    except CommunityError as exc:
        return html_error(request, exc)
    return see_other(f"/users/{username}")
