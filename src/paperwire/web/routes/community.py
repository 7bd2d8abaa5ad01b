"""Upvotes, paper submission, comments, authorship claims, organizations, moderation
and profiles. HTML forms redirect after POST; `/api/...` twins answer JSON.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from paperwire.domain.permissions import Action
from paperwire.services import community
from paperwire.services.community import CommunityError
from paperwire.services.submissions import submit_paper
from paperwire.web.auth import current_user
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import FastJSON, page

router = APIRouter(tags=["community"])

Format = Annotated[Literal["html", "json"], Query(description="html (default) or json")]
Text = Annotated[str, Form(max_length=20000)]
PaperId = Annotated[str, Path(max_length=64, description="arXiv id, e.g. 2506.11924")]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Name = Annotated[str, Path(max_length=100)]


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def paper_url(paper_id: str) -> str:
    return f"/papers/{paper_id}"


def json_error(exc: CommunityError) -> Response:
    return FastJSON({"detail": exc.message}, status_code=exc.status)


def html_error(request: Request, exc: CommunityError) -> Response:
    if exc.status == 401:
        return see_other(f"/login?next={request.url.path}")
    titles = {403: "Not allowed", 404: "Not found", 409: "Already done"}
    return page(
        request,
        "error.html",
        {"title": titles.get(exc.status, "Cannot do that"), "message": exc.message},
        status_code=exc.status,
    )


def _fetcher(container):
    from paperwire.sources.arxiv_api import fetch_arxiv_papers

    return lambda ids: fetch_arxiv_papers(container.http_client, container.settings, ids)


# -- upvotes -----------------------------------------------------------------------


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
    try:
        community.set_vote(container.engine, current_user(request), paper_id, action == "add")
    except CommunityError as exc:
        return html_error(request, exc)
    return see_other(paper_url(paper_id))


# -- submitting papers -------------------------------------------------------------


class IndexRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    arxiv_id: str = Field(alias="arxivId", min_length=1, max_length=300)


def _submit(request: Request, container, text: str):
    return submit_paper(
        container.engine,
        current_user(request),
        text,
        fetch=_fetcher(container),
        max_age_days=container.settings.submit_max_age_days,
    )


@router.post("/api/papers/index", summary="Submit a paper to today's page (as on Hugging Face)")
def api_index_paper(
    request: Request, container: ContainerDep, data: Annotated[IndexRequest, Body()]
) -> Response:
    try:
        submission = _submit(request, container, data.arxiv_id)
    except CommunityError as exc:
        return json_error(exc)
    return FastJSON(submission.as_json(), status_code=201)


@router.get("/submit", summary="Submit-a-paper form")
def submit_form(request: Request) -> Response:
    if current_user(request) is None:
        return see_other("/login?next=/submit")
    return page(request, "community/submit.html", {"values": {}, "errors": {}})


@router.post("/submit", summary="Submit a paper")
def submit(request: Request, container: ContainerDep, arxiv_id: Text = "") -> Response:
    if current_user(request) is None:
        return see_other("/login?next=/submit")
    try:
        submission = _submit(request, container, arxiv_id)
    except CommunityError as exc:
        return page(
            request,
            "community/submit.html",
            {"values": {"arxiv_id": arxiv_id}, "errors": {exc.field or "form": exc.message}},
            status_code=exc.status,
        )
    return see_other(paper_url(submission.paper.id))


# -- comments ----------------------------------------------------------------------


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
        if exc.field == "body":
            return page(
                request,
                "community/comment_form_page.html",
                {
                    "paper_id": paper_id,
                    "parent_id": parent_id,
                    "values": {"body": body},
                    "errors": {"body": exc.message},
                },
                status_code=exc.status,
            )
        return html_error(request, exc)
    return see_other(f"{paper_url(paper_id)}#comment-{comment.id}")


@router.get("/comments/{comment_id}/edit", summary="Edit-comment form")
def edit_comment_form(request: Request, container: ContainerDep, comment_id: RowId) -> Response:
    comment = community.get_comment(container.engine, comment_id)
    user = current_user(request)
    if comment is None or comment.deleted:
        return html_error(request, CommunityError("That comment does not exist.", 404))
    if user is None or user.id != comment.author_id:
        return html_error(request, CommunityError("You can only edit your own comments.", 403))
    return page(
        request,
        "community/comment_edit.html",
        {"comment": comment, "values": {"body": comment.body_source}, "errors": {}},
    )


@router.post("/comments/{comment_id}/edit", summary="Save an edited comment")
def edit_comment(
    request: Request, container: ContainerDep, comment_id: RowId, body: Text = ""
) -> Response:
    try:
        comment = community.edit_comment(container.engine, current_user(request), comment_id, body)
    except CommunityError as exc:
        original = community.get_comment(container.engine, comment_id)
        if exc.field == "body" and original is not None:
            return page(
                request,
                "community/comment_edit.html",
                {"comment": original, "values": {"body": body}, "errors": {"body": exc.message}},
                status_code=exc.status,
            )
        return html_error(request, exc)
    return see_other(f"{paper_url(comment.paper_id)}#comment-{comment.id}")


@router.post("/comments/{comment_id}/delete", summary="Delete a comment")
def delete_comment(request: Request, container: ContainerDep, comment_id: RowId) -> Response:
    try:
        paper_id = community.delete_comment(container.engine, current_user(request), comment_id)
    except CommunityError as exc:
        return html_error(request, exc)
    return see_other(f"{paper_url(paper_id)}#comments")


# -- authorship claims -------------------------------------------------------------


@router.get("/papers/{paper_id:path}/claim", summary="Claim-authorship form")
def claim_form(request: Request, container: ContainerDep, paper_id: PaperId) -> Response:
    if current_user(request) is None:
        return see_other(f"/login?next={request.url.path}")
    return _claim_page(request, container, paper_id, {}, {})


def _claim_page(request, container, paper_id, values, errors, status=200) -> Response:
    from paperwire.store.papers import get_paper

    with container.engine.connect() as conn:
        paper = get_paper(conn, paper_id)
    if paper is None:
        return html_error(request, CommunityError(f"There is no paper {paper_id!r} here.", 404))
    return page(
        request,
        "community/claim.html",
        {"paper": paper, "values": values, "errors": errors},
        status_code=status,
    )


@router.post("/papers/{paper_id:path}/claim", summary="Claim authorship of a paper")
def claim(
    request: Request, container: ContainerDep, paper_id: PaperId, author_name: Text = ""
) -> Response:
    try:
        community.request_claim(container.engine, current_user(request), paper_id, author_name)
    except CommunityError as exc:
        if exc.field:
            return _claim_page(
                request,
                container,
                paper_id,
                {"author_name": author_name},
                {exc.field: exc.message},
                exc.status,
            )
        return html_error(request, exc)
    return page(
        request,
        "accounts/message.html",
        {
            "title": "Claim sent",
            "message": f"An administrator will review your claim to be {author_name.strip()!r} "
            f"on {paper_id}.",
            "link": (paper_url(paper_id), "Back to the paper"),
        },
    )


# -- moderation --------------------------------------------------------------------


@router.get("/moderation", summary="Moderation: pending claims, flagged papers, users")
def moderation_page(request: Request, container: ContainerDep, format: Format = "html") -> Response:
    user = current_user(request)
    try:
        community.require(user, Action.MODERATE)
    except CommunityError as exc:
        return json_error(exc) if format == "json" else html_error(request, exc)
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


# -- organizations -----------------------------------------------------------------


@router.get("/community/organizations", summary="Organizations with members here")
def organizations_page(
    request: Request, container: ContainerDep, format: Format = "html"
) -> Response:
    orgs = community.list_organizations(container.engine)
    if format == "json":
        return FastJSON({"organizations": orgs})
    return page(request, "community/organizations.html", {"orgs": orgs, "values": {}, "errors": {}})


@router.post("/community/organizations", summary="Create an organization (admins)")
def create_organization(
    request: Request, container: ContainerDep, name: Text = "", fullname: Text = ""
) -> Response:
    try:
        org = community.create_organization(container.engine, current_user(request), name, fullname)
    except CommunityError as exc:
        if exc.field:
            return page(
                request,
                "community/organizations.html",
                {
                    "orgs": community.list_organizations(container.engine),
                    "values": {"name": name, "fullname": fullname},
                    "errors": {exc.field: exc.message},
                },
                status_code=exc.status,
            )
        return html_error(request, exc)
    return see_other(f"/community/organizations/{org.name}")


@router.get("/community/organizations/{name}", summary="An organization: members and papers")
def organization_page(
    request: Request, container: ContainerDep, name: Name, format: Format = "html"
) -> Response:
    return _org_page(request, container, name, format=format)


def _org_page(
    request, container, name, *, format="html", values=None, errors=None, status=200
) -> Response:
    org = community.get_organization(container.engine, name)
    if org is None:
        exc = CommunityError(f"There is no organization {name!r}.", 404)
        return json_error(exc) if format == "json" else html_error(request, exc)
    if format == "json":
        return FastJSON(org.as_json())
    user = current_user(request)
    return page(
        request,
        "community/organization.html",
        {
            "org": org,
            "is_member": bool(user and user.username in org.members),
            "values": values or {},
            "errors": errors or {},
        },
        status_code=status,
    )


@router.post("/community/organizations/{name}/members", summary="Add a member (admins)")
def add_member(
    request: Request, container: ContainerDep, name: Name, username: Text = ""
) -> Response:
    try:
        community.add_member(container.engine, current_user(request), name, username)
    except CommunityError as exc:
        if exc.field:
            return _org_page(
                request,
                container,
                name,
                values={"username": username},
                errors={exc.field: exc.message},
                status=exc.status,
            )
        return html_error(request, exc)
    return see_other(f"/community/organizations/{name}")


@router.post("/community/organizations/{name}/papers", summary="Link a paper (members)")
def link_paper(
    request: Request, container: ContainerDep, name: Name, paper_id: Text = ""
) -> Response:
    from paperwire.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id

    try:
        try:
            canonical = parse_arxiv_id(paper_id[:300]).id
        except InvalidArxivId as exc:
            raise CommunityError(str(exc), 400, "paper_id") from None
        community.link_paper(container.engine, current_user(request), name, canonical)
    except CommunityError as exc:
        if exc.field:
            return _org_page(
                request,
                container,
                name,
                values={"paper_id": paper_id},
                errors={exc.field: exc.message},
                status=exc.status,
            )
        return html_error(request, exc)
    return see_other(f"/community/organizations/{name}")


# -- profiles ----------------------------------------------------------------------


@router.get("/users/{username}", summary="A user's profile")
def profile_page(
    request: Request, container: ContainerDep, username: Name, format: Format = "html"
) -> Response:
    prof = community.profile(container.engine, username)
    if prof is None:
        exc = CommunityError(f"There is no user {username!r}.", 404)
        return json_error(exc) if format == "json" else html_error(request, exc)
    if format == "json":
        return FastJSON(prof.as_json())
    return page(request, "community/profile.html", {"profile": prof})
