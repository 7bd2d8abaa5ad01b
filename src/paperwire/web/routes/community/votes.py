"""Upvote routes: the JSON API and the no-JavaScript form."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from paperwire.services import community
from paperwire.services.community import CommunityError
from paperwire.web.auth import current_user
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import FastJSON
from paperwire.web.routes.community.common import (
    PaperId,
    html_error,
    json_error,
    paper_url,
    see_other,
)

router = APIRouter(tags=["community"])


@router.post("/api/papers/{paper_id:path}/upvote", summary="Upvote a paper (idempotent)")
def api_upvote(request: Request, container: ContainerDep, paper_id: PaperId) -> Response:
    return _vote_json(request, container, paper_id, True)


@router.delete("/api/papers/{paper_id:path}/upvote", summary="Remove your upvote")
def api_unvote(request: Request, container: ContainerDep, paper_id: PaperId) -> Response:
    return _vote_json(request, container, paper_id, False)


def _vote_json(request: Request, container, paper_id: str, voted: bool) -> Response:
    try:
        state = community.set_vote(container.engine, current_user(request), paper_id, voted)
    except CommunityError as exc:
        return json_error(exc)
    return FastJSON(state.as_json())


@router.post("/papers/{paper_id:path}/upvote", summary="Upvote form (works without JavaScript)")
def form_upvote(
    request: Request,
    container: ContainerDep,
    paper_id: PaperId,
    action: Annotated[Literal["add", "remove"], Form()] = "add",
) -> Response:
    back = _back_to(request) or paper_url(paper_id)
    try:
        community.set_vote(container.engine, current_user(request), paper_id, action == "add")
    except CommunityError as exc:
        if exc.status == 401:
            return see_other(f"/login?next={quote(back, safe='/')}")
        return html_error(request, exc)
    return see_other(back)


def _back_to(request: Request) -> str | None:
    """The list the form was sent from (same site only), so a vote from a list stays there."""
    referer = urlsplit(request.headers.get("referer", ""))
    if not referer.path.startswith("/") or referer.path.startswith("//"):
        return None
    if referer.netloc and referer.netloc != request.headers.get("host", ""):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")
