"""Follow routes: the follow buttons' forms, the /follows page and its JSON twin, the API."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from paperwire.services import library
from paperwire.services.community import CommunityError
from paperwire.services.library.follows import KIND_LABELS
from paperwire.web.auth import current_user
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import FastJSON, page
from paperwire.web.routes.community.common import (
    Format,
    RowId,
    error_response,
    html_error,
    json_error,
    see_other,
)
from paperwire.web.routes.library import _safe_next

router = APIRouter(tags=["library"])
Kind = Literal["author", "organization", "category", "search"]
Short = Annotated[str, Form(max_length=500)]


@router.get("/follows", summary="What you follow (HTML or JSON)")
def follows_page(request: Request, container: ContainerDep, format: Format = "html"):
    user = current_user(request)
    if user is None:
        return error_response(request, CommunityError("Log in first.", 401), format)
    found = library.list_follows(container.engine, user.id)
    if format == "json":
        return FastJSON({"follows": [f.as_json() for f in found]})
    return page(request, "library/follows.html", {"follows": found, "labels": KIND_LABELS})


@router.post("/follows", summary="Follow (form)")
def follow_submit(
    request: Request,
    container: ContainerDep,
    kind: Annotated[Kind, Form()],
    value: Short = "",
    category: Short = "",
    organization: Short = "",
    author: Short = "",
    has_code: Annotated[bool, Form()] = False,
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    filters = {"category": category, "organization": organization, "author": author,
               "has_code": has_code}
    try:
        library.follow(container.engine, current_user(request), kind, value,
                       filters if kind == "search" else None)
    except CommunityError as exc:
        return html_error(request, exc)
    return see_other(_safe_next(next, "/follows"))


@router.post("/follows/{follow_id}/delete", summary="Unfollow (form)")
def unfollow_submit(request: Request, container: ContainerDep, follow_id: RowId,
                    next: Annotated[str, Form(max_length=2000)] = "") -> Response:
    try:
        library.unfollow(container.engine, current_user(request), follow_id)
    except CommunityError as exc:
        return html_error(request, exc)
    return see_other(_safe_next(next, "/follows"))


class FollowBody(BaseModel):
    kind: Kind
    value: str = Field(max_length=500)
    filters: dict[str, str | bool] = Field(default_factory=dict, max_length=10)


@router.get("/api/me/follows", summary="What you follow")
def api_follows(request: Request, container: ContainerDep) -> Response:
    return follows_page(request, container, "json")


@router.post("/api/me/follows", summary="Follow an author, organization, category or search",
             status_code=201)
def api_follow(request: Request, container: ContainerDep, body: FollowBody) -> Response:
    try:
        view = library.follow(container.engine, current_user(request), body.kind, body.value,
                              body.filters)
    except CommunityError as exc:
        return json_error(exc)
    return FastJSON(view.as_json(), status_code=201)


@router.delete("/api/me/follows/{follow_id}", summary="Unfollow")
def api_unfollow(request: Request, container: ContainerDep, follow_id: RowId) -> Response:
    try:
        library.unfollow(container.engine, current_user(request), follow_id)
    except CommunityError as exc:
        return json_error(exc)
    return Response(status_code=204)
