"""Authorship-claim routes: the claim form a logged-in user sends for a paper."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import Response

from paperwire.services import community
from paperwire.services.community import CommunityError
from paperwire.web.auth import current_user
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import page
from paperwire.web.routes.community.common import (
    PaperId,
    Text,
    form_error,
    html_error,
    paper_url,
    see_other,
)

router = APIRouter(tags=["community"])


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
        values = {"author_name": author_name}
        return form_error(request, exc, partial(_claim_page, request, container, paper_id, values))
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
