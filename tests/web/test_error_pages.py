"""Errors for people: browsers get the site's error page; API and ?format=json keep JSON."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from paperwire.web.app import create_app

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/nonexistent", 404, "There is no page at this address"),
        ("/search?q=lora&p=600", 422, "Fix that part of the address"),
        ("/search?q=lora&mode=bogus", 422, "mode"),
        ("/?p=-1", 422, "greater than or equal to 0"),
        ("/search?q=" + "x" * 600, 422, "q:"),
        ("/?week=2025-W60", 422, "not a week of 2025"),
        ("/papers/2512.99999", 404, "No paper 2512.99999 here yet"),
    ],
)
def test_browsers_get_the_error_page(seeded, client, path, status, words):
    page = client.get(path, headers=BROWSER)
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert '<section class="notice-page"' in page.text and words in page.text
    assert '"detail"' not in page.text


@pytest.mark.parametrize(
    "path", ["/nonexistent?format=json", "/?p=-1&format=json", "/api/daily_papers?limit=0"]
)
def test_programs_keep_json(seeded, client, path):
    for headers in (BROWSER, {"accept": "application/json"}, {}):
        answer = client.get(path, headers=headers)
        assert answer.status_code in (404, 422)
        assert answer.headers["content-type"].startswith("application/json")
        assert "detail" in answer.json()


def test_rate_limited_form_gets_the_error_page(container):
    container.settings.rate_limits_enabled = True
    container.settings.rate_limit_login = "1/60"
    with TestClient(create_app(container)) as client:
        client.get("/login", headers=BROWSER)
        form = {"username": "nobody", "password": "wrong-password-1"}
        token = client.cookies.get("pw_csrf")
        assert token
        first = client.get("/login", headers=BROWSER).text
        csrf = first.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/login", data=form | {"csrf_token": csrf}, headers=BROWSER)
        refused = client.post("/login", data=form | {"csrf_token": csrf}, headers=BROWSER)
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        assert refused.headers["content-type"].startswith("text/html")
        assert "Wait a moment and try again" in refused.text
        api = client.post("/login", data=form | {"csrf_token": csrf},
                          headers={"accept": "application/json"})
        assert api.status_code == 429 and "Too many requests" in api.json()["detail"]


def test_server_error_is_a_page_for_browsers(container):
    app = create_app(container)

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/boom", headers=BROWSER)
        assert page.status_code == 500 and "Something went wrong" in page.text
        assert "kaboom" not in page.text
        assert client.get("/boom").json() == {"detail": "Internal Server Error"}


def test_api_docs_work_offline(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text and "<script>" not in page.text  # no CDN, no inline script
    assert '<script src="/docs/assets/swagger-ui-bundle.js">' in page.text
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
    assert "SwaggerUIBundle(" in client.get("/static/api-docs.js").text
