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
from paperwire.wiring import Container, build_container


def create_app_from_env() -> FastAPI:
    """The app of one web process, with a container of its own (closed with the app)."""
    container = build_container(load_settings())
    try:
        check_connection(container.engine)
        require_current_schema(container.engine)
    except Exception:
        container.close()
        raise
    return serving_app(container, owns_container=True)


def serving_app(container: Container, *, owns_container: bool) -> FastAPI:
    """The app served on `container`: the keyword index starts loading at once.

    `owns_container`: close the container when the app shuts down. `paperwire serve`
    with one process passes False: its worker uses the same container (one engine,
    one embedder, one copy of each index per process) and serve closes it at the end.
    """
    from paperwire.web.app import create_app

    if container.keyword_index is not None:
        container.keyword_index.start()  # load or build in the background; FTS serves meanwhile
    app = create_app(container)
    if not owns_container:
        return app
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
