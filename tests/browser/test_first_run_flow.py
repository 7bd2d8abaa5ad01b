"""In Chromium: the first run on an empty database, the demo and its removal by an import,
upvoting from a list, suggestions, error pages and /docs offline, at 1280 and 390 px.

Screenshots go to test-artifacts/first-run-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from typer.testing import CliRunner

from paperwire.services import accounts, demo_data
from paperwire.services.activity import FIRST_RUN, ActivityBoard
from tests.web.live_server import live_server

pytestmark = pytest.mark.browser

FIXTURE_DAY = Path(__file__).parents[1] / "integration/live/fixtures/hf-2025-06-10.json"
WIDTHS = (1280, 390)
PASSWORD = "a-long-password-1"


def _shoot(browser, url: str, name: str, artifacts: Path) -> None:
    for width in WIDTHS:
        page = browser.new_page(viewport={"width": width, "height": 900})
        try:
            response = page.goto(url)
            assert response is not None and response.status < 500, url
            page.screenshot(path=artifacts / f"first-run-{name}-{width}.png", full_page=True)
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{url} is {scroll} px wide at {width} px"
        finally:
            page.close()


def _import(container, monkeypatch, tmp_path) -> str:
    from paperwire.cli import app

    monkeypatch.setenv("PAPERWIRE_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(container.settings.data_dir))
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", container.settings.database_url)
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    result = CliRunner().invoke(app, ["import", str(FIXTURE_DAY)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_first_run_demo_import_and_pages(browser, container, artifacts, monkeypatch, tmp_path):
    container.settings.page_cache_ttl_s = 0  # every reload shows the database as it is
    with live_server(container) as url:
        # 1. An empty site says what to do, and what the first-start fetch did.
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url + "/")
        expect(page.locator("#setup-h")).to_have_text("No papers yet: here is how to start")
        expect(page.locator(".setup")).to_contain_text(".venv/bin/paperwire demo load")
        ActivityBoard(container.settings.data_dir).set(
            FIRST_RUN, "failed", "Could not fetch recent papers: connection refused.")
        page.reload()
        expect(page.locator(".setup-status")).to_contain_text("did not work")
        page.close()
        _shoot(browser, url + "/", "empty", artifacts)

        # 2. The demo set.
        demo_data.load_demo_set(container.engine)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url + "/")
        expect(page.locator("h3.card-title a").first).to_contain_text("[Demo]")
        page.close()
        _shoot(browser, url + "/", "demo", artifacts)

        # 3. Upvote from the list, without a reload (JavaScript), as a signed-in reader.
        accounts.create_user(container.engine, username="reader", email="r@example.org",
                             password=PASSWORD, role="user", verified=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url + "/login")
        page.fill("#f-login", "reader")
        page.fill("#f-password", PASSWORD)
        page.click("button[type=submit]:has-text('Log in')")
        page.wait_for_selector(".nav-account >> text=reader")
        page.goto(url + "/trending")
        card = page.locator("article.card").first
        count = card.locator(".upvote-total")
        before = int(count.inner_text().replace(",", ""))
        page.evaluate("window.__marker = 1")  # survives only if the page does not reload
        card.locator("button.vote-button").click()
        expect(count).to_have_text(f"{before + 1:,}")
        expect(card.locator("button.vote-button")).to_have_attribute("aria-pressed", "true")
        assert page.evaluate("window.__marker") == 1 and page.url.endswith("/trending")

        # 4. Choosing a search suggestion opens that paper.
        page.goto(url + "/")
        page.fill("#nav-q", "diffusion")
        page.locator("#nav-q").dispatch_event("input")
        option = page.locator("#nav-suggestions option").first
        option.wait_for(state="attached", timeout=5000)
        title, paper_id = option.get_attribute("value"), option.get_attribute("data-paper-id")
        page.evaluate(
            """(value) => {
              const input = document.getElementById('nav-q');
              input.value = value;
              input.dispatchEvent(new InputEvent('input', {inputType: 'insertReplacementText'}));
            }""",
            title,
        )
        expect(page).to_have_url(re.compile(re.escape(f"/papers/{paper_id}") + "$"))
        page.close()

        # 5. Importing real papers removes the demo set and says so.
        output = _import(container, monkeypatch, tmp_path)
        assert "removed the demo set (12 papers)" in output
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url + "/")
        expect(page.locator("h3.card-title a").first).not_to_contain_text("[Demo]")
        expect(page.locator("text=[Demo]")).to_have_count(0)

        # 6. Errors for people, and /docs without a network.
        page.goto(url + "/no-such-page")
        expect(page.locator(".notice-page h1")).to_have_text("Not found")
        page.goto(url + "/search?q=lora&mode=bogus")
        expect(page.locator(".notice-page")).to_contain_text("Fix that part of the address")
        external: list[str] = []
        page.on("request", lambda r: external.append(r.url) if not r.url.startswith(url) else None)
        page.goto(url + "/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Paperwire",
                                                                         timeout=15000)
        assert external == []
        page.screenshot(path=artifacts / "first-run-docs-1280.png")
        page.close()

        # 7. The everyday pages, at both widths.
        for name, path in (
            ("daily", "/?date=2025-06-10"),
            ("week", "/?week=2025-W24"),
            ("paper", "/papers/2506.08007"),
            ("trending", "/trending"),
            ("search", "/search?q=reinforcement"),
            ("organizations", "/organizations"),
            ("stats", "/stats"),
            ("not-found", "/papers/2512.99999"),
        ):
            _shoot(browser, url + path, name, artifacts)
