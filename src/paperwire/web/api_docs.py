"""`/docs` without a CDN: Swagger UI 5's files come from the `fastapi-offline` package.

The page loads `/docs/assets/swagger-ui-bundle.js` and its CSS from that package and
starts it from `/static/api-docs.js`: no inline script, so a strict CSP allows it, and
it works offline.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Paperwire API</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi_url}">
    <noscript><p>The API reference needs JavaScript. The machine-readable description is at
    <a href="{openapi_url}">{openapi_url}</a>.</p></noscript>
  </div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""


def swagger_ui_dir() -> Path:
    """The package's static folder (found without importing it: only its files are used)."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("fastapi-offline is not installed: it ships the /docs assets")
    return Path(spec.origin).parent / "static"


def install_api_docs(app: FastAPI, *, openapi_url: str = "/openapi.json") -> None:
    html = PAGE.format(assets=ASSETS, openapi_url=openapi_url)
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_dir()), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return HTMLResponse(html)
