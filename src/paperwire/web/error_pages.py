"""Errors for people and for programs: the site's error page for browsers, JSON otherwise.

A request wants HTML when it accepts `text/html` (what browsers send for pages), is not
under `/api/` and does not ask for `?format=json`. Every other request keeps FastAPI's
JSON `{"detail": ...}` shape, so API clients and tests see the same answers as before.
Each HTML page says in one sentence what the reader can do next.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import escape
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("paperwire.web")

TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Already done",
    413: "Too large",
    422: "That address is not valid",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Unavailable",
}
WHAT_TO_DO = {
    404: "There is no page at this address. Check the link, or search for the paper by its "
    "title or arXiv id.",
    405: "This address does not take that kind of request. Go back and use the page's links "
    "or forms.",
    429: "You did this too often in a short time. Wait a moment and try again.",
    500: "Something went wrong on our side. Try again in a moment; if it keeps happening, "
    "tell the site's administrator.",
}


def wants_html(path: str, query: Mapping[str, str], accept: str) -> bool:
    """True for a browser asking for a page; API paths and `?format=json` keep JSON."""
    if path.startswith("/api/") or path == "/openapi.json" or query.get("format") == "json":
        return False
    return "text/html" in accept.lower()


def request_wants_html(request: Request) -> bool:
    return wants_html(
        request.url.path, request.query_params, request.headers.get("accept", "")
    )


def validation_message(errors: Sequence[Any]) -> str:
    """`p: Input should be greater than or equal to 0` for each bad part, joined."""
    parts = []
    for error in errors[:5]:
        loc = [str(x) for x in error.get("loc", ()) if x not in ("query", "path", "body")]
        where = ".".join(loc) or "request"
        parts.append(f"{where}: {error.get('msg', 'not valid')}")
    return "; ".join(parts)


def html_error(request: Request, status_code: int, message: str, *, headers=None) -> Response:
    """The site's error page; a plain page if the template itself cannot render."""
    title = TITLES.get(status_code, "Cannot do that")
    advice = WHAT_TO_DO.get(status_code, "")
    if status_code == 422:
        advice = "Fix that part of the address, or start again from today's papers."
    try:
        from paperwire.web.responses import page

        return page(
            request,
            "error.html",
            {"title": title, "message": message, "advice": advice, "status_code": status_code},
            status_code=status_code,
            headers=headers,
        )
    except Exception:  # a broken template must not hide the original error
        log.exception("the error page could not render")
        body = (
            f"<!doctype html><meta charset=utf-8><title>{escape(title)}</title>"
            f"<h1>{escape(title)}</h1><p>{escape(message)}</p><p>{escape(advice)}</p>"
            "<p><a href='/'>Today's papers</a></p>"
        )
        return HTMLResponse(body, status_code=status_code, headers=headers)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    headers = getattr(exc, "headers", None)
    if not request_wants_html(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
    message = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
    if exc.status_code == 404 and message == "Not Found":
        message = f"Nothing is at {request.url.path}."
    return html_error(request, exc.status_code, message, headers=headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    if not request_wants_html(request):
        from fastapi.encoders import jsonable_encoder

        # `error`: one sentence, the field huggingface_hub shows from a failed call.
        return JSONResponse(
            {"error": validation_message(exc.errors()), "detail": jsonable_encoder(exc.errors())},
            status_code=422,
        )
    return html_error(request, 422, validation_message(exc.errors()))


async def _server_error(request: Request, exc: Exception) -> Response:
    # Starlette logs the exception and re-raises it after this answer is sent.
    message = "The server could not answer this request."
    if not request_wants_html(request):
        return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
    return html_error(request, 500, message)


def install_error_pages(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)
