"""A lost or unreachable database gives 503 for that request, not a 500.

The engine's pool_pre_ping replaces dead connections on the next checkout, so the
app recovers by itself once the database is back.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from paperwire.store.db import DatabaseUnavailable

log = logging.getLogger("paperwire.web")

RETRY_AFTER_S = "5"
MESSAGE = "The database is unavailable right now. Please try again in a few seconds."
HTML = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Unavailable</title>"
    "</head><body><h1>Temporarily unavailable</h1><p>{message}</p></body></html>"
)


def is_connection_problem(exc: BaseException) -> bool:
    """Disconnects, refused connections, pool exhaustion: not bugs in the request."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | PoolTimeoutError | DatabaseUnavailable)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    if not is_connection_problem(exc):
        raise exc  # a real error: let the server's 500 handling log it
    log.warning("database unavailable for %s %s: %s", request.method, request.url.path,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    headers = {"Retry-After": RETRY_AFTER_S, "Cache-Control": "no-store"}
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(HTML.format(message=MESSAGE), status_code=503, headers=headers)
    return JSONResponse({"detail": MESSAGE}, status_code=503, headers=headers)


def install_database_error_handlers(app: FastAPI) -> None:
    for exc_type in (DBAPIError, PoolTimeoutError, DatabaseUnavailable):
        app.add_exception_handler(exc_type, _database_unavailable)
