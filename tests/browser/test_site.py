"""Click through the site in Chromium: daily pages, tabs, a paper, search, dark mode, a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.web.conftest import seed
from tests.web.live_server import live_server

pytestmark = pytest.mark.browser


@pytest.fixture
def site(container):
    seed(container.engine)
    with live_server(container) as url:
        yield url, container


def test_daily_next_day_paper_and_similar(browser, site, artifacts):
    url, container = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{url}/?date=2025-06-12")
    expect(page).to_have_title(re.compile("Daily papers, 12 Jun 2025"))
    page.screenshot(path=artifacts / "daily.png", full_page=True)
    page.get_by_role("link", name=re.compile("2025-06-13 →")).click()
    expect(page).to_have_url(re.compile(r"date=2025-06-13"))
    # Keyboard: Tab from the skip link reaches the page, Enter follows the next-day link.
    page.get_by_role("link", name=re.compile("2025-06-16 →")).focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"date=2025-06-16"))
    titles = page.locator("h3.card-title a")
    expect(titles).to_have_count(4)
    expect(titles.first).to_contain_text("<script>alert")  # shown as text, not run
    titles.first.click()
    expect(page).to_have_url(re.compile(r"/papers/2506\.11924$"))
    expect(page.locator("h1")).to_contain_text("Attention <b>Is</b>")
    expect(page.locator(".bibtex pre")).to_contain_text("@misc{")
    page.get_by_role("button", name="Copy BibTeX").click()
    expect(page.locator(".copy-status")).to_have_text("Copied.")
    page.get_by_role("link", name="Min-Seop Kwak").first.click()
    expect(page.locator("h1")).to_have_text("Min-Seop Kwak")
    page.go_back()
    page.screenshot(path=artifacts / "paper.png", full_page=True)
    similar = page.locator(".similar h3.card-title a")
    expect(similar.first).to_be_visible()
    similar.first.click()
    expect(page).to_have_url(re.compile(r"/papers/"))
    expect(page.locator("h1")).to_be_visible()
    page.close()


def test_week_and_month_tabs(browser, site, artifacts):
    url, _ = site
    page = browser.new_page()
    page.goto(f"{url}/?date=2025-06-16")
    page.get_by_role("navigation", name="Period").get_by_role("link", name="Week").click()
    expect(page).to_have_url(re.compile(r"week=2025-W25"))
    expect(page.locator("h1")).to_have_text("Papers of the week")
    expect(page.locator("h3.card-title")).to_have_count(4)
    page.get_by_role("link", name=re.compile("← 2025-W24")).click()
    expect(page.locator("h3.card-title")).to_have_count(9)
    page.get_by_role("navigation", name="Period").get_by_role("link", name="Month").click()
    expect(page).to_have_url(re.compile(r"month=2025-06"))
    expect(page.locator("h3.card-title")).to_have_count(13)
    page.screenshot(path=artifacts / "month.png", full_page=True)
    page.goto(f"{url}/trending")
    expect(page.locator(".score-parts").first).to_contain_text("score")
    page.goto(f"{url}/stats")
    expect(page.locator("svg.chart")).to_have_count(4)
    page.screenshot(path=artifacts / "stats.png", full_page=True)
    page.close()


def test_search_and_filters(browser, site, artifacts):
    url, container = site
    page = browser.new_page()
    page.goto(f"{url}/search")
    page.get_by_label("Query").fill("gaussian splatting")
    page.get_by_label("Query").press("Enter")
    expect(page.locator("h3.card-title").first).to_contain_text("Gaussian Splatting")
    expect(page.locator("h3.card-title mark").first).to_be_visible()
    page.get_by_label("Has code").check()
    page.get_by_label("Category").fill("cs.CL")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"has_code=true"))
    expect(page).to_have_url(re.compile(r"category=cs.CL"))
    for title in page.locator("h3.card-title").all_inner_texts():
        assert "Gaussian" not in title
    page.screenshot(path=artifacts / "search.png", full_page=True)
    page.close()


def test_dark_mode_and_phone(browser, site, artifacts):
    url, _ = site
    context = browser.new_context(
        color_scheme="dark",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.goto(f"{url}/?date=2025-06-16")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(11, 17, 32)"
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts / "phone-dark.png", full_page=True)
    page.goto(f"{url}/papers/2506.11924")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=artifacts / "phone-dark-paper.png", full_page=True)
    context.close()
