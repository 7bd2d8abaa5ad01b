"""Every response carries the security headers; the CSP fits what the templates do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperwire.web.app import create_app

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "paperwire" / "web" / "templates"


def _policy(response) -> dict[str, str]:
    csp = response.headers["content-security-policy"]
    return {part.split()[0]: part.strip() for part in csp.split(";")}


def _assert_headers(response, *, https: bool = False) -> None:
    headers = response.headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    policy = _policy(response)
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert ("strict-transport-security" in headers) is https


@pytest.mark.parametrize("path", [
    "/", "/trending", "/search?q=x", "/login", "/signup", "/subscribe", "/stats",
    "/api/daily_papers", "/feeds/daily.xml", "/static/app.js", "/static/style.css",
    "/papers/0000.00000", "/no-such-page", "/healthz", "/openapi.json", "/docs",
])
def test_every_response_has_the_headers(client, path):
    response = client.get(path)
    assert response.status_code < 500
    _assert_headers(response)
    assert _policy(response)["script-src"] == "script-src 'self'"


def test_refusals_have_them_too(client):
    refused = client.post("/login", data={"login": "x", "password": "y"})  # no CSRF token
    assert refused.status_code == 403
    _assert_headers(refused)


def test_hsts_only_over_https(container):
    with TestClient(create_app(container), base_url="https://testserver") as client:
        _assert_headers(client.get("/"), https=True)
        assert client.get("/").headers["strict-transport-security"].startswith("max-age=")


def test_templates_have_no_inline_script_or_event_handlers():
    """The CSP forbids them: scripts live in web/static/ and are loaded with src=."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text, re.I):
            if "src=" not in match.group(1):
                offenders.append(f"{path.name}: inline <script>")
        if re.search(r"<[^>]+\son[a-z]+\s*=", text, re.I):
            offenders.append(f"{path.name}: inline event handler")
        if re.search(r"""(?:href|src)\s*=\s*["']\s*javascript:""", text, re.I):
            offenders.append(f"{path.name}: javascript: URL")
    assert offenders == []
