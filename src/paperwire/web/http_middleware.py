"""The base of the security middleware: plain ASGI that acts on HTTP requests only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from paperwire.wiring import Container


class HttpMiddleware:
    """Passes lifespan and websocket scopes straight through to the app.

    Subclasses implement `handle` for HTTP requests and call `self.app` to go on.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


def container_of(scope: Scope) -> Container:
    """The app's service container (settings, engine, ...)."""
    return scope["app"].state.container
