"""Links from sources never become script links: checked at import, on merge and on render."""

from __future__ import annotations

import re
from datetime import date
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlalchemy import update

from paperwire.domain.records import OrganizationRecord, PaperRecord, merge_papers
from paperwire.domain.urls import safe_url
from paperwire.services.digests import send_digests
from paperwire.services.ingest import ingest
from paperwire.services.subscriptions import Choices, add_subscriber
from paperwire.sources.hf_daily import parse_daily_response
from paperwire.store.tables import organizations, papers

DAY = date(2025, 6, 16)
# The five variants of the report; each got through on the old main.
VARIANTS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(2)",
    "   javascript:alert(3)",
    "java\tscript:alert(4)",
    "\x01javascript:alert(5)",
]
ATTRIBUTE = re.compile(r"""(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
LINK_KEYS = {"githubRepo", "projectPage", "avatarUrl", "thumbnail", "url", "link"}


def _unsafe(value: str) -> bool:
    import html

    flat = re.sub(r"[\x00-\x20]", "", html.unescape(value)).lower()
    return ":" in flat.split("/")[0] and not flat.startswith(("http:", "https:", "mailto:"))


def _json_links(value, found: list[str]) -> list[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in LINK_KEYS and isinstance(item, str):
                found.append(item)
            _json_links(item, found)
    elif isinstance(value, list):
        for item in value:
            _json_links(item, found)
    return found


@pytest.mark.parametrize("value", VARIANTS + [
    "data:text/html,<script>x</script>", "vbscript:x", "//evil.example/", "https://", "http:///x",
    "https://user:pw@evil.example/", "https://x.example/" + "a" * 3000, "ftp://x.example/",
    "https://x.example/a b", None, 42,
    "\x01https://example.org/", "https://example.org/\x00",
])
def test_safe_url_refuses(value):
    assert safe_url(value) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("https://github.com/a/b", "https://github.com/a/b"),
    ("  HTTP://Example.org/x?y=1  ", "HTTP://Example.org/x?y=1"),
    ("https://[2001:db8::1]:8443/p", "https://[2001:db8::1]:8443/p"),
    # Real Hugging Face items break links with a newline; browsers drop it, and so do we.
    ("https://github.com/\nFightingFighting/NeuroAda.git",
     "https://github.com/FightingFighting/NeuroAda.git"),
])
def test_safe_url_accepts(value, expected):
    assert safe_url(value) == expected


def _day_file() -> list[dict]:
    items = []
    for n, bad in enumerate(VARIANTS, start=1):
        items.append({
            "paper": {
                "id": f"2506.{n:05d}",
                "title": f"A paper with a hostile link {n}",
                "summary": "Nothing to see. Project page: " + bad,
                "authors": [{"name": "Eve Mallory"}],
                "publishedAt": "2025-06-13T10:00:00.000Z",
                "submittedOnDailyAt": "2025-06-16T08:00:00.000Z",
                "githubRepo": bad,
                "projectPage": bad,
                "upvotes": 50 - n,
                "organization": {"name": f"evil{n}", "fullname": "Evil", "avatar": bad},
            },
            "numComments": 0,
        })
    return items


PAGES = ["/", f"/?date={DAY}", "/trending", "/search?q=hostile", "/authors/Eve%20Mallory",
         "/organizations/evil1", f"/feeds/daily.xml?date={DAY}", "/feeds/trending.atom",
         "/api/daily_papers", "/papers/2506.00001?format=json",
         "/api/papers/2506.00001"] + [f"/papers/2506.{n:05d}" for n in range(1, 6)]


def _assert_no_script_links(client) -> int:
    shown = 0
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.text
        if "json" in response.headers["content-type"]:
            links = _json_links(response.json(), [])
        else:
            links = ["".join(m) for m in ATTRIBUTE.findall(body)]
            links += re.findall(r"<link>([^<]*)</link>", body)
            assert links, path
        assert not [u for u in links if _unsafe(u)], path
        shown += "hostile link" in body
    return shown


def test_hostile_links_in_a_day_file_are_dropped_and_counted(container, client):
    report = ingest(container.engine, parse_daily_response(_day_file(), fetched_for=DAY,
                                                           origin="day.json"),
                    source="hf", parameters={})
    assert report.papers == 5 and report.rejected_total == 0
    # githubRepo, projectPage and the avatar of each item: 15 refused links.
    assert report.links_dropped == 15
    assert "15 unsafe links dropped" in report.summary_line()
    with container.engine.connect() as conn:
        stored = conn.execute(papers.select().with_only_columns(
            papers.c.github_repo, papers.c.project_page)).all()
        avatars = conn.execute(organizations.select().with_only_columns(
            organizations.c.avatar_url)).scalars().all()
    assert all(row == (None, None) for row in stored)
    assert avatars and all(a is None for a in avatars)
    assert _assert_no_script_links(client) >= 5


def test_links_already_stored_raw_are_never_rendered(container, client, tmp_path):
    """Rows written before the check (or by another tool) still never reach href/src."""
    good = [PaperRecord(id=f"2506.{n:05d}", title=f"A paper with a hostile link {n}",
                        authors=("Eve Mallory",), sources=frozenset({"t"}),
                        organization=OrganizationRecord(f"evil{n}", "Evil"))
            for n in range(1, 6)]
    from paperwire.domain.records import DailyEntryRecord, SourceItem
    ingest(container.engine, [SourceItem(p, DailyEntryRecord(p.id, DAY, "t")) for p in good],
           source="t", parameters={})
    with container.engine.begin() as conn:
        for n, bad in enumerate(VARIANTS, start=1):
            conn.execute(update(papers).where(papers.c.id == f"2506.{n:05d}").values(
                github_repo=bad, project_page=bad))
        conn.execute(update(organizations).values(avatar_url=VARIANTS[0]))
    assert _assert_no_script_links(client) >= 5

    # ...and not in digest mails either (HTML and text parts).
    add_subscriber(container.engine, "reader@example.org", Choices(paper_count=10),
                   confirmed=True)
    result = send_digests(container.engine, container.mailer, container.settings, DAY)
    assert result.sent == 1
    (eml,) = container.settings.outbox_dir.glob("*.eml")
    mail = message_from_bytes(eml.read_bytes(), policy=default_policy)
    html = mail.get_body(preferencelist=("html",)).get_content()
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "hostile link" in html
    for part in (html, text):
        assert "script:" not in part.lower().replace("\t", "")


def test_merging_never_keeps_an_unsafe_link():
    old = PaperRecord(id="2506.00001", title="T", github_repo="javascript:alert(1)",
                      project_page=" https://ok.example/ ")
    new = PaperRecord(id="2506.00001", title="T", github_repo="https://github.com/a/b")
    merged = merge_papers(old, new)
    assert merged.github_repo == "https://github.com/a/b"
    assert merged.project_page == "https://ok.example/"
    assert merge_papers(old, PaperRecord(id="2506.00001", title="T")).github_repo is None


def test_arxiv_text_link_finder_only_returns_safe_links():
    from paperwire.domain.links import find_project_page

    assert find_project_page("project page: https://ok.example/x\x01y") is None
    assert find_project_page("project page: https://ok.example/p.") == "https://ok.example/p"
