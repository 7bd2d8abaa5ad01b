"""Fast JSON responses (orjson) and the HTML/JSON switch every page shares."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from paperwire.web.templating import templates


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
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def error_page(
    request: Request, status_code: int, message: str, *, as_json: bool = False
) -> Response:
    """A clear error for people (HTML) or programs (JSON `{"detail": ...}`)."""
    if as_json:
        return FastJSON({"detail": message}, status_code=status_code)
    title = {404: "Not found", 503: "Unavailable"}.get(status_code, "Bad request")
    return page(
        request, "error.html", {"title": title, "message": message}, status_code=status_code
    )


def utc_today() -> date:
    return datetime.now(UTC).date()
