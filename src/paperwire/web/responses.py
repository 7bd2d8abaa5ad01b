"""Fast JSON responses (orjson) and the HTML/JSON switch every page shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from paperwire.web.cache import MISSING, app_cache
from paperwire.web.csrf import csrf_token
from paperwire.web.templating import templates

_TOKEN_SLOT = "\x00csrf-token\x00"  # never in rendered HTML: NUL is refused in URLs and input
# Cards are rendered once for every visitor: their upvote forms carry the slot, and
# every page that shows them puts the visitor's own token there (`fill_csrf`).
templates.env.globals["CARD_CSRF_SLOT"] = _TOKEN_SLOT


def fill_csrf(html: str, request: Request) -> str:
    return html.replace(_TOKEN_SLOT, csrf_token(request)) if _TOKEN_SLOT in html else html


class FastJSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def render_cards(cards, *, ranked: bool = False, scores=None, query: str | None = None) -> Markup:
    """A list of paper cards: the same for every visitor, so callers cache it."""
    html = templates.get_template("_cards.html").render(
        papers=cards, ranked=ranked, scores=scores, query=query
    )
    return Markup(html)


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {"request": request, **context}
    html = templates.get_template(template).render(context)
    return HTMLResponse(fill_csrf(html, request), status_code=status_code, headers=headers)


async def shared_page(
    request: Request,
    template: str,
    build: Callable[[], dict[str, Any] | Response],
    *,
    ttl_s: float,
) -> Response:
    """`page()`, with the HTML shared by every signed-out visitor for `ttl_s` seconds.

    Only their CSRF token differs: the stored copy has a slot where the token was, and
    each answer puts the visitor's own token back. A signed-out visitor's hit never
    leaves the event loop. A miss, and every signed-in request (their own render), builds
    the context and renders it in the thread pool, since either may read the database.
    `build` may return a Response instead (a 404), which is sent as it is and never
    stored. Writes to papers, comments and votes clear the copy with the page cache.
    """

    def render() -> Response | str:
        context = build()
        if isinstance(context, Response):
            return context
        context.setdefault("request", request)
        return templates.get_template(template).render(context)

    shared = ttl_s > 0 and getattr(request.state, "user", None) is None
    cache = app_cache(request)
    key = ("page", template, str(request.url))
    token = csrf_token(request)
    if shared and (html := cache.get(key)) is not MISSING:
        return HTMLResponse(html.replace(_TOKEN_SLOT, token))
    generation = cache.generation
    rendered = await run_in_threadpool(render)
    if isinstance(rendered, Response):
        return rendered
    if shared:
        cache.put(key, ttl_s, rendered.replace(token, _TOKEN_SLOT), generation)
    return HTMLResponse(rendered.replace(_TOKEN_SLOT, token))


def error_page(
    request: Request, status_code: int, message: str, *, as_json: bool = False
) -> Response:
    """A clear error for people (HTML) or programs (JSON `{"detail": ...}`)."""
    if as_json:
        return FastJSON({"detail": message}, status_code=status_code)
    from paperwire.web.error_pages import html_error

    return html_error(request, status_code, message)


def utc_today() -> date:
    return datetime.now(UTC).date()
