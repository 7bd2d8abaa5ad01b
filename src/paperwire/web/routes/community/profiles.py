"""Profile route: a user's public page (HTML or JSON)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from paperwire.services import community
from paperwire.services.community import CommunityError
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import FastJSON, page
from paperwire.web.routes.community.common import Format, Name, error_response

router = APIRouter(tags=["community"])


@router.get("/users/{username}", summary="A user's profile")
def profile_page(
    request: Request, container: ContainerDep, username: Name, format: Format = "html"
) -> Response:
    prof = community.profile(container.engine, username)
    if prof is None:
        exc = CommunityError(f"There is no user {username!r}.", 404)
        return error_response(request, exc, format)
    if format == "json":
        return FastJSON(prof.as_json())
    return page(request, "community/profile.html", {"profile": prof})
