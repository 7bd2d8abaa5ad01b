"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route

from paperwire import __version__
from paperwire.web.api_docs import install_api_docs
from paperwire.web.db_errors import install_database_error_handlers
from paperwire.web.error_pages import install_error_pages
from paperwire.web.routes import ROUTERS
from paperwire.web.security import install_security_middleware
from paperwire.wiring import Container

STATIC_DIR = Path(__file__).parent / "static"


def create_app(container: Container) -> FastAPI:
    from paperwire.mcp_server import HttpEndpoint

    mcp_endpoint = HttpEndpoint(container)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container.jobs.start()  # mails that requests queue are sent from here
        try:
            async with mcp_endpoint.running():  # the MCP session manager lives as long as the app
                yield
        finally:
            container.jobs.stop()

    app = FastAPI(  # /docs comes from api_docs (local assets); no CDN-based /redoc
        lifespan=lifespan,
        title="Paperwire",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.container = container
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.router.routes.append(Route("/mcp", endpoint=mcp_endpoint))  # MCP over HTTP
    install_api_docs(app)
    for router in ROUTERS:
        app.include_router(router)
    install_security_middleware(app)
    install_database_error_handlers(app)
    install_error_pages(app)
    return app
