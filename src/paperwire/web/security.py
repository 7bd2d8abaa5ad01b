"""Registers the accounts middleware in the order they must run."""

from __future__ import annotations

from fastapi import FastAPI

from paperwire.web.auth import AuthMiddleware
from paperwire.web.csrf import CsrfMiddleware
from paperwire.web.rate_limit import RateLimitMiddleware
from paperwire.web.security_headers import SecurityHeadersMiddleware


def install_security_middleware(app: FastAPI) -> None:
    """Security headers outermost (every answer gets them, refusals too), then auth (sets
    request.state.user), then CSRF, then rate limits."""
    # add_middleware wraps: the last one added runs first.
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(CsrfMiddleware)
    app.add_middleware(AuthMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
