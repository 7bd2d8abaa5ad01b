"""CSRF protection for every state-changing request.

A form carries `csrf_token` (hidden input from `csrf_field(request)`); fetch()
sends the same value in the `X-CSRF-Token` header. The token is an HMAC of the
session id for logged-in users (so it changes at login) and of a random
`pw_csrf` cookie for anonymous ones. Exempt: requests authenticated by a Bearer
token (browsers cannot attach one cross-site) and RFC 8058 one-click
unsubscribe POSTs under /unsubscribe/, which mail clients send without cookies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import parse_qs

from fastapi import Request
from markupsafe import Markup, escape
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.responses import HTMLResponse, JSONResponse
from starlette.types import Message, Receive, Scope, Send

from paperwire.web.http_middleware import HttpMiddleware, container_of

CSRF_COOKIE = "pw_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
EXEMPT_PREFIXES = ("/unsubscribe/",)
MAX_FORM_BYTES = 2_000_000
# File uploads that may be larger than an ordinary form (the route checks its own limit).
UPLOAD_PATHS = {"/library/import": 51 * 1024 * 1024}
FAILED = "This form has expired or did not come from this site. Reload the page and try again."


def _sign(secret: str, basis: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + basis.encode(), hashlib.sha256).hexdigest()


def _expected(scope_state: dict, secret: str) -> str:
    basis = scope_state.get("session_token") or "anon:" + scope_state.get("csrf_seed", "")
    return _sign(secret, basis)


def csrf_token(request: Request) -> str:
    """The token forms and fetch() calls must send back with this browser's requests."""
    secret = request.app.state.container.settings.secret_key
    return _expected(request.scope.setdefault("state", {}), secret)


def csrf_field(request: Request) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FIELD, escape(csrf_token(request))
    )


def is_exempt(path: str, headers: Headers) -> bool:
    if headers.get("authorization", "")[:7].lower() == "bearer ":
        return True
    # /mcp: the MCP endpoint never reads the session cookie (tokens only), and its
    # DNS-rebinding check refuses foreign Origins.
    return path == "/mcp" or path.startswith(EXEMPT_PREFIXES)


class CsrfMiddleware(HttpMiddleware):
    """Checks unsafe methods; issues the anonymous `pw_csrf` cookie when missing."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        headers = Headers(scope=scope)
        seed = cookie_parser(headers.get("cookie", "")).get(CSRF_COOKIE, "")
        new_seed = None
        if not (20 <= len(seed) <= 100 and seed.replace("-", "").replace("_", "").isalnum()):
            seed = new_seed = secrets.token_urlsafe(24)
        state["csrf_seed"] = seed
        if scope["method"] not in SAFE_METHODS and not is_exempt(scope["path"], headers):
            secret = container_of(scope).settings.secret_key
            sent, receive = await _sent_token(scope, receive, headers)
            if not sent or not hmac.compare_digest(sent, _expected(state, secret)):
                await _reject(scope, receive, send, headers)
                return
        if new_seed is None:
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            # Only pages (which may hold forms) get the cookie: API answers and feeds stay
            # cookie-free and cacheable.
            if message["type"] == "http.response.start" and _is_html(message):
                MutableHeaders(scope=message).append(
                    "set-cookie",
                    f"{CSRF_COOKIE}={new_seed}; Path=/; HttpOnly; SameSite=Lax"
                    + ("; Secure" if secure else ""),
                )
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _is_html(message: Message) -> bool:
    for name, value in message.get("headers", []):
        if name.lower() == b"content-type":
            return value.lower().startswith(b"text/html")
    return False


async def _sent_token(scope: Scope, receive: Receive, headers: Headers) -> tuple[str, Receive]:
    """The token from the header or the form body; the body is replayed to the app."""
    if headers.get(HEADER):
        return headers[HEADER], receive
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return "", receive
    chunks, size, more = [], 0, True
    limit = UPLOAD_PATHS.get(scope["path"], MAX_FORM_BYTES)
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return "", receive
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    if content_type == "application/x-www-form-urlencoded":
        values = parse_qs(body.decode("latin-1"), max_num_fields=1000).get(FIELD, [""])
        return values[0], replay
    from starlette.requests import Request as StarletteRequest

    probe_done = False

    async def probe() -> Message:
        nonlocal probe_done
        if not probe_done:
            probe_done = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    try:
        form = await StarletteRequest(scope, probe).form()
        value = form.get(FIELD)
        await form.close()
    except Exception:  # malformed multipart: no token
        value = None
    return (value if isinstance(value, str) else ""), replay


async def _reject(scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
    wants_json = (
        scope["path"].startswith("/api/")
        or "application/json" in headers.get("accept", "")
        or "json" in headers.get("content-type", "")
    )
    if wants_json:
        response = JSONResponse({"detail": FAILED}, status_code=403)
    else:
        response = HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>Form expired</title>"
            f"<main style='font-family:sans-serif;max-width:40em;margin:3em auto'><h1>Form expired"
            f"</h1><p>{FAILED}</p><p><a href='/'>Home</a></p></main>",
            status_code=403,
        )
    await response(scope, receive, send)
