"""The admins' view of recent ingest runs and worker steps (killed ones as interrupted)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from paperwire.domain.permissions import Action
from paperwire.services import community
from paperwire.services.community import CommunityError
from paperwire.services.runs import recent_runs
from paperwire.web.auth import current_user
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import FastJSON, page
from paperwire.web.routes.community.common import Format, error_response

router = APIRouter(tags=["admin"])


@router.get("/admin/runs", summary="Recent ingest runs and worker steps (admins)")
def runs_page(
    request: Request,
    container: ContainerDep,
    format: Format = "html",
    limit: Annotated[int, Query(ge=1, le=500)] = 30,
) -> Response:
    try:
        community.require(current_user(request), Action.VIEW_RUNS)
    except CommunityError as exc:
        return error_response(request, exc, format)
    report = recent_runs(container.engine, limit=limit)
    if format == "json":
        return FastJSON(report.as_json())
    return page(request, "admin/runs.html", {"report": report})
