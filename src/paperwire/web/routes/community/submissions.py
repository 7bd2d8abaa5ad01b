"""Submitting an arXiv paper to today's page: the form and the JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from paperwire.services.community import CommunityError
from paperwire.services.submissions import (
    QueuedSubmission,
    Submission,
    submission_status,
    submit_paper,
)
from paperwire.web.auth import current_user
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import FastJSON, page
from paperwire.web.routes.community.common import (
    Format,
    RowId,
    Text,
    error_response,
    json_error,
    paper_url,
    see_other,
)

router = APIRouter(tags=["community"])


class IndexRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    arxiv_id: str = Field(alias="arxivId", min_length=1, max_length=300)


def _submit(request: Request, container, text: str) -> Submission | QueuedSubmission:
    return submit_paper(
        container.engine,
        current_user(request),
        text,
        jobs=container.jobs,
        max_age_days=container.settings.submit_max_age_days,
    )


@router.post("/api/papers/index", summary="Submit a paper to today's page (as on Hugging Face)",
             description="201 when the paper was known and is on today's page; 202 when it is "
                         "being fetched from arXiv: poll `statusUrl` for the outcome.")
def api_index_paper(
    request: Request, container: ContainerDep, data: Annotated[IndexRequest, Body()]
) -> Response:
    try:
        submission = _submit(request, container, data.arxiv_id)
    except CommunityError as exc:
        return json_error(exc)
    status = 202 if isinstance(submission, QueuedSubmission) else 201
    return FastJSON(submission.as_json(), status_code=status)


@router.get("/submit", summary="Submit-a-paper form")
def submit_form(request: Request) -> Response:
    if current_user(request) is None:
        return see_other("/login?next=/submit")
    return page(request, "community/submit.html",
                {"values": {}, "errors": {}, "max_age_days": _max_age(request)})


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
            {"values": {"arxiv_id": arxiv_id}, "errors": {exc.field or "form": exc.message},
             "max_age_days": container.settings.submit_max_age_days},
            status_code=exc.status,
        )
    if isinstance(submission, QueuedSubmission):
        return see_other(submission.status_url)
    return see_other(paper_url(submission.paper.id))


@router.get("/submit/{job_id}", summary="How a submission went: pending, added or failed")
def submission_page(request: Request, container: ContainerDep, job_id: RowId,
                    format: Format = "html") -> Response:
    if current_user(request) is None and format == "html":
        return see_other(f"/login?next=/submit/{job_id}")
    try:
        status = submission_status(container.engine, current_user(request), job_id)
    except CommunityError as exc:
        return error_response(request, exc, format)
    if format == "json":
        return FastJSON(status.as_json())
    if status.state == "added":
        return see_other(paper_url(status.paper_id))
    return page(request, "community/submission.html", {"status": status})


def _max_age(request: Request) -> int:
    return request.app.state.container.settings.submit_max_age_days
