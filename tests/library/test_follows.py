"""Follows: authors, organizations, categories and saved searches, with their buttons."""

from __future__ import annotations

from datetime import UTC, datetime

from paperwire.domain.records import OrganizationRecord, PaperRecord
from paperwire.store.papers import upsert_papers


def test_follow_buttons_on_author_org_search_and_paper_pages(alice, papers, container):
    with container.engine.begin() as conn:
        upsert_papers(conn, [PaperRecord(
            id="2506.00010", title="Org paper", authors=("Ada Lovelace",),
            categories=("cs.CL",), primary_category="cs.CL",
            organization=OrganizationRecord("nvidia", "NVIDIA"),
            published_at=datetime.now(UTC), sources=frozenset({"test"}))])
    author_page = alice.client.get("/authors/Ada%20Lovelace").text
    assert 'name="kind" value="author"' in author_page and "+ Follow" in author_page
    r = alice.post("/follows", {"kind": "author", "value": "Ada Lovelace",
                                "next": "/authors/Ada%20Lovelace"})
    assert r.status_code == 303 and r.headers["location"] == "/authors/Ada%20Lovelace"
    assert "✓ Following" in alice.client.get("/authors/Ada%20Lovelace").text
    org_page = alice.client.get("/organizations/nvidia").text
    assert 'name="kind" value="organization"' in org_page
    alice.post("/follows", {"kind": "organization", "value": "NVIDIA"})
    paper_page = alice.client.get("/papers/2506.00010").text
    assert 'name="kind" value="category"' in paper_page and "+ Follow cs.CL" in paper_page
    alice.post("/follows", {"kind": "category", "value": "cs.CL"})
    search_page = alice.client.get("/search?q=diffusion&category=cs.CV&mode=keyword").text
    assert 'name="kind" value="search"' in search_page and 'name="category" value="cs.CV"' in (
        search_page)
    alice.post("/follows", {"kind": "search", "value": "diffusion", "category": "cs.CV"})
    assert "✓ Following this search" in alice.client.get(
        "/search?q=diffusion&category=cs.CV&mode=keyword").text
    follows = alice.client.get("/follows?format=json").json()["follows"]
    assert {(f["kind"], f["value"]) for f in follows} == {
        ("author", "Ada Lovelace"), ("organization", "nvidia"), ("category", "cs.CL"),
        ("search", "diffusion")}
    search = next(f for f in follows if f["kind"] == "search")
    assert search["filters"] == {"category": "cs.CV"} and 'category:"cs.CV"' in search["label"]
    # Following again changes nothing.
    again = alice.api("POST", "/api/me/follows", json={"kind": "author", "value": "ada  LOVELACE"})
    assert again.status_code == 201
    assert len(alice.client.get("/api/me/follows").json()["follows"]) == 4
    html = alice.client.get("/follows").text
    assert "Saved search" in html and "Ada Lovelace" in html


def test_bad_follows_are_refused(alice, papers):
    cases = [
        ({"kind": "category", "value": "not a category!"}, 400, "not an arXiv category"),
        ({"kind": "organization", "value": "nobody-inc"}, 404, "no organization"),
        ({"kind": "author", "value": "   "}, 400, "Say what to follow"),
        ({"kind": "author", "value": "x" * 301}, 400, "At most"),
        ({"kind": "search", "value": "q", "filters": {"after": "2020-01-01"}}, 400, "filters"),
    ]
    for body, status, message in cases:
        r = alice.api("POST", "/api/me/follows", json=body)
        assert r.status_code == status and message in r.json()["detail"], body


def test_follows_are_private(alice, bob, papers):
    mine = alice.api("POST", "/api/me/follows", json={"kind": "author", "value": "Ada"}).json()
    assert bob.client.get("/api/me/follows").json()["follows"] == []
    assert bob.api("DELETE", f"/api/me/follows/{mine['id']}").status_code == 404
    assert bob.post(f"/follows/{mine['id']}/delete").status_code == 404
    assert len(alice.client.get("/api/me/follows").json()["follows"]) == 1
    assert alice.api("DELETE", f"/api/me/follows/{mine['id']}").status_code == 204
