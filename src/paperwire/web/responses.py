"""Fast JSON responses (orjson) and the HTML/JSON switch every page shares."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from paperwire.web.templating import templates


class FastJSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


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
