"""Who is asking: session cookies and Bearer API tokens -> `request.state.user`.

Sessions are server-side: the cookie holds a random id whose SHA-256 is stored.
The cookie is HttpOnly, SameSite=Lax, and Secure over https. A request with an
`Authorization: Bearer` header is authenticated by the token alone (never the
cookie), which is what lets such requests skip CSRF checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
from fastapi import Request, Response
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from paperwire.services import accounts
from paperwire.web.http_middleware import HttpMiddleware, container_of

if TYPE_CHECKING:
    from paperwire.services.accounts import User

SESSION_COOKIE = "pw_session"


class AuthMiddleware(HttpMiddleware):
    """Sets scope state: user, session_token (valid sessions only), auth_method."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        state.update(user=None, session_token=None, auth_method=None)
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            # NUL never means anything in a URL, and PostgreSQL text cannot hold it.
            response = JSONResponse({"detail": "URLs cannot contain NUL characters."}, 400)
            await response(scope, receive, send)
            return
        if scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        engine = container_of(scope).engine
        headers = Headers(scope=scope)
        authorization = headers.get("authorization", "")
        if authorization[:7].lower() == "bearer ":
            raw = authorization[7:].strip()
            user = await anyio.to_thread.run_sync(accounts.user_for_api_token, engine, raw)
            if user is None and scope.get("path") == "/mcp":
                # MCP checks the token per tool call and answers a tool error with a
                # sentence (public tools keep working), as over stdio.
                await self.app(scope, receive, send)
                return
            if user is None:
                response = JSONResponse(
                    {"detail": "The API token is invalid or revoked."},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
                await response(scope, receive, send)
                return
            state.update(user=user, auth_method="token")
        else:
            raw = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE, "")
            if raw:
                user = await anyio.to_thread.run_sync(accounts.user_for_session, engine, raw)
                if user is not None:
                    state.update(user=user, session_token=raw, auth_method="session")
        await self.app(scope, receive, send)


def current_user(request: Request) -> User | None:
    return getattr(request.state, "user", None)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def start_session(request: Request, response: Response, user: User) -> str:
    """Log `user` in with a brand-new session id, dropping any the browser brought."""
    container = request.app.state.container
    raw = accounts.create_session(
        container.engine,
        container.settings,
        user.id,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        replaces=request.cookies.get(SESSION_COOKIE),
    )
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=container.settings.session_days * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )
    return raw


def end_session(request: Request, response: Response) -> None:
    container = request.app.state.container
    accounts.end_session(container.engine, request.cookies.get(SESSION_COOKIE, ""))
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request)
    )
