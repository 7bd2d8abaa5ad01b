"""Organization routes: the list, one organization's page, members and linked papers."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from paperwire.services import community
from paperwire.services.community import CommunityError
from paperwire.web.auth import current_user
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import FastJSON, page
from paperwire.web.routes.community.common import (
    Format,
    Name,
    Text,
    error_response,
    form_error,
    see_other,
)

router = APIRouter(tags=["community"])


@router.get("/community/organizations", summary="Organizations (now one list at /organizations)")
def organizations_page(request: Request) -> Response:
    target = "/organizations" + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(target, status_code=308)


@router.post("/community/organizations", summary="Create an organization (admins)")
def create_organization(
    request: Request, container: ContainerDep, name: Text = "", fullname: Text = ""
) -> Response:
    try:
        org = community.create_organization(container.engine, current_user(request), name, fullname)
    except CommunityError as exc:
        values = {"name": name, "fullname": fullname}
        return form_error(request, exc, partial(_new_organization_page, request, container, values))
    return see_other(f"/community/organizations/{org.name}")


def _new_organization_page(request, container, values, *, errors, status) -> Response:
    from paperwire.web.routes.pages import organizations_listing

    return organizations_listing(request, container, values=values, errors=errors,
                                 status=status)


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
        return error_response(request, exc, format)
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
        values = {"username": username}
        return form_error(request, exc, partial(_org_page, request, container, name, values=values))
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
        values = {"paper_id": paper_id}
        return form_error(request, exc, partial(_org_page, request, container, name, values=values))
    return see_other(f"/community/organizations/{name}")
