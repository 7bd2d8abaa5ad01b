"""The app as an import string for process managers: `paperwire.web.asgi:create_app_from_env`.

`paperwire serve --workers N` (and uvicorn/gunicorn with `--factory`) call this in every
worker process; settings come from PAPERWIRE_* variables and paperwire.toml. It does
not migrate (one process should, before the workers start: `paperwire db migrate`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from paperwire.config import load_settings
from paperwire.store.db import check_connection
from paperwire.store.migrate import require_current_schema
from paperwire.wiring import build_container


def create_app_from_env() -> FastAPI:
    from paperwire.web.app import create_app

    container = build_container(load_settings())
    try:
        check_connection(container.engine)
        require_current_schema(container.engine)
    except Exception:
        container.close()
        raise
    if container.keyword_index is not None:
        container.keyword_index.start()  # load or build in the background; FTS serves meanwhile
    app = create_app(container)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[object]:
        try:
            async with inner(app) as state:
                yield state
        finally:
            container.close()

    app.router.lifespan_context = lifespan
    return app
