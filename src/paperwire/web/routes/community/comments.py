"""Comment routes: threads, adding, editing and deleting, as forms and as JSON."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from paperwire.services import community
from paperwire.services.community import CommentView, CommunityError
from paperwire.web.auth import current_user
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import FastJSON, page
from paperwire.web.routes.community.common import (
    PaperId,
    RowId,
    Text,
    form_error,
    html_error,
    json_error,
    paper_url,
    see_other,
)

router = APIRouter(tags=["community"])


class CommentCreate(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    body: str = Field(min_length=1, max_length=20000)
    parent_id: int | None = Field(None, alias="parentId", ge=1, le=2**31 - 1)


class CommentEdit(BaseModel):
    body: str = Field(min_length=1, max_length=20000)


@router.get("/api/comments", summary="A paper's comment thread")
def api_comments(
    container: ContainerDep, paper_id: Annotated[str, Query(alias="paperId", max_length=64)]
) -> Response:
    thread = community.comment_thread(container.engine, paper_id)
    return FastJSON({"paperId": paper_id, "comments": [c.as_json() for c in thread]})


@router.post("/api/papers/{paper_id:path}/comments", summary="Comment on a paper", status_code=201)
def api_add_comment(
    request: Request,
    container: ContainerDep,
    paper_id: PaperId,
    data: Annotated[CommentCreate, Body()],
) -> Response:
    try:
        comment = community.add_comment(
            container.engine, current_user(request), paper_id, data.body, data.parent_id
        )
    except CommunityError as exc:
        return json_error(exc)
    return FastJSON(comment.as_json(), status_code=201)


@router.patch("/api/comments/{comment_id}", summary="Edit your comment")
def api_edit_comment(
    request: Request,
    container: ContainerDep,
    comment_id: RowId,
    data: Annotated[CommentEdit, Body()],
) -> Response:
    try:
        comment = community.edit_comment(
            container.engine, current_user(request), comment_id, data.body
        )
    except CommunityError as exc:
        return json_error(exc)
    return FastJSON(comment.as_json())


@router.delete("/api/comments/{comment_id}", summary="Delete a comment (yours, or as moderator)")
def api_delete_comment(request: Request, container: ContainerDep, comment_id: RowId) -> Response:
    try:
        community.delete_comment(container.engine, current_user(request), comment_id)
    except CommunityError as exc:
        return json_error(exc)
    return FastJSON({"deleted": comment_id})


@router.post("/papers/{paper_id:path}/comments", summary="Comment form")
def add_comment(
    request: Request,
    container: ContainerDep,
    paper_id: PaperId,
    body: Text = "",
    parent_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> Response:
    try:
        comment = community.add_comment(
            container.engine, current_user(request), paper_id, body, parent_id
        )
    except CommunityError as exc:
        return form_error(
            request, exc, partial(_new_comment_page, request, paper_id, parent_id, body)
        )
    return see_other(f"{paper_url(paper_id)}#comment-{comment.id}")


def _new_comment_page(
    request: Request, paper_id: str, parent_id: int | None, body: str, *, errors, status
) -> Response:
    return page(
        request,
        "community/comment_form_page.html",
        {
            "paper_id": paper_id,
            "parent_id": parent_id,
            "values": {"body": body},
            "errors": errors,
        },
        status_code=status,
    )


@router.get("/comments/{comment_id}/edit", summary="Edit-comment form")
def edit_comment_form(request: Request, container: ContainerDep, comment_id: RowId) -> Response:
    comment = community.get_comment(container.engine, comment_id)
    user = current_user(request)
    if comment is None or comment.deleted:
        return html_error(request, CommunityError("That comment does not exist.", 404))
    if user is None or user.id != comment.author_id:
        return html_error(request, CommunityError("You can only edit your own comments.", 403))
    return _edit_comment_page(request, comment, comment.body_source)


@router.post("/comments/{comment_id}/edit", summary="Save an edited comment")
def edit_comment(
    request: Request, container: ContainerDep, comment_id: RowId, body: Text = ""
) -> Response:
    try:
        comment = community.edit_comment(container.engine, current_user(request), comment_id, body)
    except CommunityError as exc:
        original = community.get_comment(container.engine, comment_id)
        if original is None:
            return html_error(request, exc)
        return form_error(request, exc, partial(_edit_comment_page, request, original, body))
    return see_other(f"{paper_url(comment.paper_id)}#comment-{comment.id}")


def _edit_comment_page(
    request: Request, comment: CommentView, body: str, *, errors=None, status: int = 200
) -> Response:
    return page(
        request,
        "community/comment_edit.html",
        {"comment": comment, "values": {"body": body}, "errors": errors or {}},
        status_code=status,
    )


@router.post("/comments/{comment_id}/delete", summary="Delete a comment")
def delete_comment(request: Request, container: ContainerDep, comment_id: RowId) -> Response:
    try:
        paper_id = community.delete_comment(container.engine, current_user(request), comment_id)
    except CommunityError as exc:
        return html_error(request, exc)
    return see_other(f"{paper_url(paper_id)}#comments")
