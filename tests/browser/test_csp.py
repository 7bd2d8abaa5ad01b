"""The site works under its Content-Security-Policy: no violations, scripts still run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_site import site  # noqa: F401 - the seeded live server

pytestmark = pytest.mark.browser


def test_pages_raise_no_csp_violations_and_scripts_run(browser, site):  # noqa: F811
    url, _ = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda error: violations.append(str(error)))
    for path in ["/?date=2025-06-16", "/trending", "/search?q=diffusion", "/papers/2506.11924",
                 "/login", "/signup", "/subscribe", "/stats", "/docs"]:
        response = page.goto(f"{url}{path}")
        assert response is not None and "content-security-policy" in response.headers
        page.wait_for_load_state("networkidle")
    page.goto(f"{url}/papers/2506.11924")
    page.get_by_role("button", name="Copy BibTeX").click()  # app.js, loaded from /static
    expect(page.locator(".copy-status")).to_have_text(re.compile("Copied"))
    assert violations == []
    page.close()
