"""Security headers on every response: CSP, framing, referrer, sniffing and HSTS.

The site serves its scripts from /static only (no inline script, no inline event
handlers; templates are checked by a test), so `script-src 'self'` holds. Inline
style attributes are allowed. Images may come from https hosts (thumbnails and
avatars from the sources; their URLs pass domain.urls.safe_url first).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from paperwire.web.http_middleware import HttpMiddleware

SITE_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' https: data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000"


def static_headers(*, https: bool) -> list[tuple[str, str]]:
    """The headers every response carries (the CSP is added separately)."""
    headers = [
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("cross-origin-opener-policy", "same-origin"),
    ]
    if https:
        headers.append(("strict-transport-security", HSTS))
    return headers


class SecurityHeadersMiddleware(HttpMiddleware):
    """Adds the headers to every HTTP response; a header a route set itself is kept."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        https = scope.get("scheme") == "https"
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add(message, SITE_POLICY, https)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _add(message: Message, policy: str, https: bool) -> None:
    headers = MutableHeaders(scope=message)
    if "content-security-policy" not in headers:
        headers["content-security-policy"] = policy
    for name, value in static_headers(https=https):
        if name not in headers:
            headers[name] = value
