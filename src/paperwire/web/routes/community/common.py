"""Shared parameter types and answers of the community routes.

HTML forms redirect after POST (`see_other`); a refused action is an error page
(`html_error`), or the form again with the message next to its field
(`form_error`); `/api/...` twins answer JSON (`json_error`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from paperwire.services.community import CommunityError
from paperwire.web.responses import FastJSON, page

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


def error_response(request: Request, exc: CommunityError, format: str) -> Response:
    """`exc` as JSON for `?format=json`, else as an HTML error page."""
    return json_error(exc) if format == "json" else html_error(request, exc)


def form_error(
    request: Request, exc: CommunityError, show_form: Callable[..., Response]
) -> Response:
    """A problem with one field shows the form again, the message next to that field;
    any other problem gets the error page.

    `show_form(errors=..., status=...)` renders the form with what the user entered.
    """
    if exc.field:
        return show_form(errors={exc.field: exc.message}, status=exc.status)
    return html_error(request, exc)
