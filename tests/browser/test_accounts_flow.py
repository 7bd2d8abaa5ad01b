"""In Chromium: sign up, confirm by the outbox link, log in, submit, upvote, comment, log out."""

from __future__ import annotations

import pytest

from paperwire.config import load_settings
from paperwire.web.app import create_app
from paperwire.wiring import build_container
from tests.accounts.arxiv_stub import ArxivStub
from tests.accounts.conftest import outbox_links
from tests.accounts.live_server import LiveServer

pytestmark = pytest.mark.browser


def test_account_and_community_flow(browser, tmp_path, database_url):
    stub = ArxivStub()
    stub.add("2511.04242", "Browsers Deserve Better Benchmarks", ["Tim Berners-Lee"])
    settings = load_settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        embedder="none",
        arxiv_api_url=stub.url,
        arxiv_delay_s=0.0,
        http_retries=0,
    )
    container = build_container(settings)
    container.prepare_database()
    container.jobs.start()  # as the app's lifespan does (LiveServer runs without it)
    try:
        with LiveServer(create_app(container)) as server:
            settings.base_url = server.url  # links in mails point at this server
            page = browser.new_page()
            try:
                _flow(page, server.url, container)
            finally:
                page.close()
    finally:
        container.jobs.stop()
        container.close()
        stub.close()


def _flow(page, base: str, container) -> None:
    page.goto(f"{base}/signup")
    page.fill("#f-username", "Margaret")
    page.fill("#f-email", "margaret@example.org")
    page.fill("#f-password", "apollo-guidance")
    page.click("button[type=submit]:has-text('Sign up')")
    page.wait_for_selector("text=Check your email")

    [link] = outbox_links(container, "/verify-email")
    page.goto(link)
    page.click("text=Confirm my email address")
    page.wait_for_selector("text=your email address is confirmed")

    page.goto(f"{base}/login")
    page.fill("#f-login", "margaret@example.org")
    page.fill("#f-password", "apollo-guidance")
    page.click("button[type=submit]:has-text('Log in')")
    page.wait_for_selector(".nav-account >> text=Margaret")

    page.goto(f"{base}/submit")
    page.fill("#f-arxiv_id", "https://arxiv.org/abs/2511.04242")
    page.click("button[type=submit]:has-text('Submit')")
    page.wait_for_url(f"{base}/papers/2511.04242")
    page.wait_for_selector("h1:has-text('Browsers Deserve Better Benchmarks')")

    # Upvote without a reload: a marker set on the page survives the click.
    page.evaluate("window.__noReload = true")
    page.click(".upvote-button")
    page.wait_for_selector(".upvote-button[aria-pressed=true]")
    assert page.inner_text(".paper-vote .upvote-count") == "1"
    assert page.evaluate("window.__noReload") is True

    page.fill("#new-comment", "Great read, thanks **@Margaret**!")
    page.click(".comment-form button[type=submit]")
    page.wait_for_selector(".comment-body strong")
    assert "Great read" in page.inner_text(".comment-thread")

    page.reload()
    assert page.inner_text(".paper-vote .upvote-count") == "1"  # the vote was stored

    page.click(".nav-account button:has-text('Log out')")
    page.wait_for_selector(".nav-account >> text=Log in")
