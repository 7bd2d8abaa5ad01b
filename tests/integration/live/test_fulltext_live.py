"""GET /papers/{id}.md with full text from a local server playing arXiv's HTML rendering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paperwire.domain.records import PaperRecord, SourceItem
from paperwire.services.ingest import ingest
from paperwire.store.fulltext import save_fulltext
from paperwire.store.tables import paper_fulltext
from paperwire.web.app import create_app
from paperwire.wiring import build_container
from tests.integration.live.conftest import Reply, fixture_bytes

PAGE = fixture_bytes("arxiv-html-2506.11924v2.html")
PATH = "/html/2506.11924"
PAPER = PaperRecord(
    id="2506.11924",
    title="Aligned Novel View Image and Geometry Synthesis via Cross-modal Attention Instillation",
    abstract="We introduce a diffusion-based framework <b>for</b> novel views.",
    authors=("Min-Seop Kwak", "Junho Kim"),
    categories=("cs.CV",),
    published_at=datetime(2025, 6, 13, 16, 19, tzinfo=UTC),
    ai_summary="A diffusion framework for aligned novel views.",
    ai_keywords=("diffusion", "novel-view synthesis"),
    github_repo="https://github.com/cvlab-kaist/MoAI",
    sources=frozenset({"hf"}),
)


def _site(live_settings, upstream, **overrides):
    settings = live_settings.model_copy(
        update={"fulltext_fetch": True, "arxiv_html_url": f"{upstream.url}/html",
                "fulltext_wait_s": 10.0, "fulltext_retry_s": 3600.0} | overrides
    )
    container = build_container(settings)
    container.prepare_database()
    ingest(container.engine, [SourceItem(PAPER)], source="hf", parameters={})
    return container


@pytest.fixture
def site(live_settings, upstream):
    containers = []

    def make(**overrides):
        container = _site(live_settings, upstream, **overrides)
        containers.append(container)
        return container, TestClient(create_app(container))

    yield make
    for container in containers:
        container.close()


def _stored(container):
    with container.engine.connect() as conn:
        return conn.execute(select(paper_fulltext)).one_or_none()


def test_first_request_fetches_converts_stores_and_serves(site, upstream):
    upstream.route(PATH, Reply(200, PAGE, {"Content-Type": "text/html"}))
    container, client = site()
    response = client.get("/papers/2506.11924.md")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    doc = response.text
    assert doc.startswith("# Aligned Novel View Image and Geometry Synthesis")
    assert "- **Authors:** Min-Seop Kwak, Junho Kim" in doc
    assert "- **Published:** 2025-06-13" in doc and "[PDF](https://arxiv.org/pdf/2506.11924)" in doc
    assert "## AI summary" in doc and "**Keywords:** diffusion, novel-view synthesis" in doc
    assert "## Abstract" in doc and "&lt;b>for&lt;/b>" in doc  # source markup never live
    assert "Converted from arXiv's HTML rendering" in doc
    assert "### 1 Introduction" in doc and "#### 2.1 Cross-modal attention distillation" in doc
    assert "$I_{\\mathrm{ref}}$" in doc and "- geometry branch" in doc
    assert f"![Refer to caption]({upstream.url}/html/2506.11924/x1.png)" in doc
    for unsafe in ("<script", "javascript:", "<iframe", "document.write", "onerror",
                   "experimental HTML", "Back to arXiv"):
        assert unsafe not in doc
    assert _stored(container).markdown.startswith("### 1 Introduction")
    assert len(upstream.seen(PATH)) == 1
    assert upstream.seen(PATH)[0].headers["User-Agent"].startswith("Paperwire-tests")

    # Stored: later requests (and Accept: text/markdown) are served without arXiv.
    again = client.get("/papers/2506.11924", headers={"Accept": "text/markdown"})
    assert again.status_code == 200 and again.text == doc
    assert client.get("/papers/2506.11924v2.md").text == doc
    assert len(upstream.seen(PATH)) == 1
    html = client.get("/papers/2506.11924", headers={"Accept": "text/html,text/markdown;q=0.5"})
    assert html.headers["content-type"].startswith("text/html")


def test_missing_page_is_said_and_retried_later_not_cached(site, upstream):
    upstream.route(PATH, Reply(404, b"<html>No HTML for this paper</html>"), Reply(200, PAGE))
    container, client = site(fulltext_retry_s=0.0)
    doc = client.get("/papers/2506.11924.md").text
    assert "could not be fetched from arXiv's HTML rendering" in doc and "HTTP 404" in doc
    assert "## Abstract" in doc and "### 1 Introduction" not in doc
    row = _stored(container)
    assert row.markdown is None and "404" in row.last_error
    retried = client.get("/papers/2506.11924.md").text  # the failure was not the answer
    assert "### 1 Introduction" in retried and len(upstream.seen(PATH)) == 2


def test_failure_waits_for_the_retry_interval(site, upstream):
    upstream.route(PATH, Reply(404, b"missing"), Reply(200, PAGE))
    _, client = site(fulltext_retry_s=3600.0)
    assert "HTTP 404" in client.get("/papers/2506.11924.md").text
    assert "HTTP 404" in client.get("/papers/2506.11924.md").text
    assert len(upstream.seen(PATH)) == 1


def test_truncated_bodies_are_retried_then_reported(site, upstream):
    cut = Reply(200, PAGE, cut_at=len(PAGE) // 2)  # the connection drops mid-body
    ends_early = Reply(200, PAGE[: len(PAGE) // 2])  # a complete response of half a page
    upstream.route(PATH, cut, ends_early, Reply(200, PAGE))
    _, client = site()
    assert "### 1 Introduction" in client.get("/papers/2506.11924.md").text
    assert len(upstream.seen(PATH)) == 3

    upstream.route("/html/2506.00001", ends_early)
    container, client = site()
    ingest(container.engine, [SourceItem(PaperRecord(id="2506.00001", title="Other"))],
           source="hf", parameters={})
    doc = client.get("/papers/2506.00001.md").text
    assert "could not be fetched" in doc and "ends before its closing html tag" in doc
    assert len(upstream.seen("/html/2506.00001")) == 4  # 1 + http_retries


def test_slow_fetch_answers_at_once_and_finishes_in_the_background(site, upstream):
    upstream.route(PATH, Reply(200, PAGE, delay_s=1.0))
    container, client = site(fulltext_wait_s=0.05)
    first = client.get("/papers/2506.11924.md")
    assert first.status_code == 200 and "being fetched" in first.text
    # The next caller joins the fetch in flight instead of starting a second one.
    finished = container.fulltext.paper_markdown("2506.11924", wait_s=10)
    assert "### 1 Introduction" in finished and len(upstream.seen(PATH)) == 1


def test_without_network_the_stored_text_is_served_and_the_state_said(site, upstream):
    container, client = site(arxiv_html_url="http://127.0.0.1:9/html", http_retries=0)
    doc = client.get("/papers/2506.11924.md").text
    assert "could not be fetched" in doc and "could not connect" in doc
    with container.engine.begin() as conn:  # a copy fetched earlier, while online
        save_fulltext(conn, "2506.11924", "### 1 Stored section",
                      source_url="https://arxiv.org/html/2506.11924", at=datetime.now(UTC))
    served = client.get("/papers/2506.11924.md").text
    assert "### 1 Stored section" in served and "Converted from arXiv's HTML rendering" in served
    _, offline = site(fulltext_fetch=False)  # the same database, fetching switched off
    assert "### 1 Stored section" in offline.get("/papers/2506.11924.md").text


def test_fetching_switched_off_says_so(site):
    _, client = site(fulltext_fetch=False)
    doc = client.get("/papers/2506.11924.md").text
    assert "fetching it is switched off" in doc and "## Abstract" in doc


@pytest.mark.parametrize(
    ("path", "message"),
    [("/papers/2101.00001.md", "Paper 2101.00001 not found."),
     ("/papers/not-an-id.md", "not-an-id"),
     ("/papers/" + "9" * 300 + ".md", "")],
)
def test_unknown_and_malformed_ids_are_404_with_a_sentence(site, path, message):
    _, client = site(fulltext_fetch=False)
    response = client.get(path)
    assert response.status_code == 404 and message in response.text
    assert response.text.strip()
