"""Fixtures for accounts and community tests: users, logged-in clients, an arXiv stub."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from paperwire.config import load_settings
from paperwire.domain.records import PaperRecord
from paperwire.services import accounts
from paperwire.store.papers import upsert_papers
from tests.accounts.arxiv_stub import ArxivStub

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def arxiv_stub():
    stub = ArxivStub()
    try:
        yield stub
    finally:
        stub.close()


@pytest.fixture
def settings(tmp_path, database_url, arxiv_stub):
    """Test settings: rate limits off unless a test turns them on, arXiv served locally."""
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        embedder="none",
        arxiv_delay_s=0.0,
        arxiv_api_url=arxiv_stub.url,
        http_retries=0,
        rate_limits_enabled=False,
        base_url="http://testserver",
    )


def outbox_links(container, path: str) -> list[str]:
    """Links to `path` in the mails of the outbox folder, oldest mail first, once the
    mails that requests queued have been delivered."""
    import email
    from email.policy import default

    container.jobs.drain()
    links = []
    outbox = container.settings.outbox_dir
    for eml in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        message = email.message_from_bytes(eml.read_bytes(), policy=default)
        text = message.get_body(("plain",)).get_content()
        links += re.findall(rf"https?://[^/\s]+{path}\?token=[\w-]+", text)
    return links


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def make_user(container, username="alice", *, role="user", verified=True, email=None):
    return accounts.create_user(
        container.engine,
        username=username,
        email=email or f"{username.lower()}@example.org",
        password=PASSWORD,
        role=role,
        verified=verified,
    )


def login(client, login_name, password=PASSWORD):
    """Log in through the real form; return the response (303 on success)."""
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"login": login_name, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def page_token(client, path="/settings") -> str:
    return csrf_of(client.get(path).text)


def add_paper(
    container,
    paper_id="2506.11924",
    title="A Paper About Things",
    authors=("Ada Lovelace", "Alan Turing"),
    published=None,
):
    record = PaperRecord(
        id=paper_id,
        title=title,
        abstract="An abstract.",
        authors=tuple(authors),
        published_at=published or datetime.now(UTC),
        sources=frozenset({"test"}),
    )
    with container.engine.begin() as conn:
        upsert_papers(conn, [record])
    return record


def new_client(container):
    """Another browser (own cookie jar) on the same app, settings and database."""
    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app

    return TestClient(create_app(container))
