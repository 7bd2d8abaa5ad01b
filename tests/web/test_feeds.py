"""RSS 2.0 and Atom feeds, parsed by feedparser."""

from __future__ import annotations

import feedparser
import pytest

from tests.web.conftest import XSS_TITLE


def parse(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, (url, response.text[:200])
    feed = feedparser.parse(response.content)
    assert not feed.bozo, (url, feed.get("bozo_exception"))
    return response, feed


@pytest.mark.parametrize(
    "ext, version, media", [("xml", "rss20", "rss+xml"), ("atom", "atom10", "atom+xml")]
)
def test_daily_feed(seeded, client, ext, version, media):
    response, feed = parse(client, f"/feeds/daily.{ext}?date=2025-06-16")
    assert feed.version == version and media in response.headers["content-type"]
    assert len(feed.entries) == 4
    top = feed.entries[0]
    assert top.title == XSS_TITLE  # text in the feed, never markup
    assert top.link == "http://127.0.0.1:8000/papers/2506.11924"
    assert "99 upvotes" in top.summary and "github.com/cvlab-kaist/MoAI" in top.summary
    assert {t.term for t in top.tags} == {"cs.CV", "cs.LG"}
    assert "2025-06-16" in feed.feed.title


def test_trending_author_and_organization_feeds(seeded, client):
    _, trending = parse(client, "/feeds/trending.xml")
    assert len(trending.entries) == 13
    _, author = parse(client, "/feeds/authors/Min-Seop Kwak.atom")
    assert [e.link.rsplit("/papers/", 1)[1] for e in author.entries] == [
        "2506.11924",
        "hep-th/9901001",
    ]
    assert author.feed.title == "Papers by Min-Seop Kwak"
    _, org = parse(client, "/feeds/organizations/demo-lab.xml")
    assert len(org.entries) == 6 and org.feed.title == "Papers from Demo Lab (demo data)"


def test_search_feed(seeded, client):
    _, feed = parse(client, "/feeds/search.xml?q=gaussian splatting")
    assert any("Gaussian Splatting" in e.title for e in feed.entries)


def test_feed_errors(seeded, client):
    assert client.get("/feeds/daily.json").status_code == 404
    assert client.get("/feeds/daily.xml?date=2025-02-30").status_code == 422
    assert client.get("/feeds/authors/Nobody.xml").status_code == 404
    assert client.get("/feeds/organizations/nobody.atom").status_code == 404
    assert client.get("/feeds/search.xml").status_code == 422
