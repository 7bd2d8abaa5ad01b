"""The HTML pages and their JSON twins, against a real database."""

from __future__ import annotations

import re

from tests.web.conftest import XSS_TITLE


def card_titles(html: str) -> list[str]:
    return re.findall(
        r'<h3 class="card-title"[^>]*>.*?<a href="/papers/[^"]+">(.*?)</a>', html, re.S
    )


def test_daily_page_sorts_by_upvotes_and_skips_empty_days(seeded, client):
    page = client.get("/?date=2025-06-16")
    assert page.status_code == 200
    data = client.get("/?date=2025-06-16&format=json").json()
    upvotes = [p["upvotes"] for p in data["papers"]]
    assert upvotes == sorted(upvotes, reverse=True) and len(upvotes) == 4
    assert data["papers"][0]["id"] == "2506.11924"  # 99 upvotes
    # 2025-06-16 is a Monday: the weekend has no papers, so "previous" is Friday.
    assert data["prev"] == "2025-06-13" and data["next"] is None
    assert 'href="/?date=2025-06-13"' in page.text
    friday = client.get("/?date=2025-06-13&format=json").json()
    assert friday["prev"] == "2025-06-12" and friday["next"] == "2025-06-16"
    # With no date, the latest day with papers is shown.
    assert client.get("/?format=json").json()["period"]["key"] == "2025-06-16"


def test_daily_card_fields(seeded, client):
    html = client.get("/?date=2025-06-16").text
    card = html[html.index('id="t-2506-11924"') - 300 :]
    card = card[: card.index("</article>")]
    for expected in (
        "99",
        "NVIDIA",
        "Submitted by Bracio",
        "16 Jun 2025",
        "3 comments",
        "Code ★ 1.2k",
        "novel-view synthesis",
    ):
        assert expected in card, expected
    assert 'href="/authors/Min-Seop%20Kwak">Min-Seop Kwak</a>' in card and "et al." not in card


def test_week_and_month_tabs(seeded, client):
    week = client.get("/?week=2025-W24&format=json").json()
    assert week["period"] == {
        "kind": "week",
        "key": "2025-W24",
        "start": "2025-06-09",
        "end": "2025-06-15",
    }
    # Only periods that have papers are linked: nothing before W24, W25 holds 16 June.
    assert week["total"] == 9 and week["prev"] is None and week["next"] == "2025-W25"
    month = client.get("/?month=2025-06&format=json").json()
    assert month["total"] == 13
    html = client.get("/?month=2025-06").text
    assert 'href="/?week=2025-W22"' in html and 'aria-current="page">Month' in html
    assert client.get("/?month=2025-05&format=json").json()["papers"] == []


def test_html_in_titles_and_abstracts_is_inert(seeded, client):
    for url in ("/?date=2025-06-16", "/papers/2506.11924", "/trending", "/organizations/nvidia"):
        html = client.get(url).text
        assert "<script>alert" not in html, url
        assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html, url
        assert "<img src=x onerror" not in html, url
    assert client.get("/api/papers/2506.11924").json()["title"] == XSS_TITLE


def test_paper_page(seeded, client):
    response = client.get("/papers/2506.11924")
    html = response.text
    assert response.status_code == 200
    assert (
        'href="/authors/Min-Seop%20Kwak"' in html and 'href="/authors/O%27Brien%2C%20Jr."' in html
    )
    assert (
        "https://arxiv.org/pdf/2506.11924" in html and "https://github.com/cvlab-kaist/MoAI" in html
    )
    assert "A diffusion framework for aligned novel views." in html and "cs.LG" in html
    assert "@misc{kwak2025scriptalert" in html and 'data-copy-target="bibtex-main"' in html
    assert '<meta property="og:title"' in html and "<title>&lt;script&gt;" in html
    # Versioned ids and arXiv URLs reach the canonical page.
    for ref in ("2506.11924v2", "https://arxiv.org/abs/2506.11924v1", "arXiv:2506.11924"):
        moved = client.get(f"/papers/{ref}", follow_redirects=False)
        assert moved.status_code == 301 and moved.headers["location"] == "/papers/2506.11924", ref
    assert client.get("/papers/hep-th/9901001").status_code == 200
    twin = client.get("/papers/2506.11924?format=json").json()
    assert (
        twin["upvotes"] == 99
        and twin["numComments"] == 3
        and twin["feedDays"][0]["day"] == "2025-06-16"
    )
    assert twin["bibtex"].startswith("@misc{") and twin["summary"].startswith("An abstract")


def test_upvotes_include_local_votes(seeded, client):
    from sqlalchemy import update

    from paperwire.store.tables import papers

    with seeded.engine.begin() as conn:
        conn.execute(
            update(papers)
            .where(papers.c.id == "2506.11924")
            .values(local_upvotes=5, local_comments=2)
        )
    twin = client.get("/papers/2506.11924?format=json").json()
    assert (twin["upvotes"], twin["numComments"]) == (104, 5)
    assert client.get("/api/papers/2506.11924").json()["upvotes"] == 104


def test_hidden_papers_disappear_and_featured_ones_are_marked(seeded, client):
    from sqlalchemy import update

    from paperwire.store.tables import papers

    with seeded.engine.begin() as conn:
        conn.execute(update(papers).where(papers.c.id == "2506.11924").values(hidden=True))
        conn.execute(update(papers).where(papers.c.id == "0001.0001").values(featured=True))
    day = client.get("/?date=2025-06-16&format=json").json()
    assert "2506.11924" not in [p["id"] for p in day["papers"]] and day["total"] == 3
    assert client.get("/papers/2506.11924").status_code == 404
    assert client.get("/api/papers/2506.11924").status_code == 404
    assert client.get("/organizations/nvidia?format=json").json()["total"] == 0
    assert 'class="chip featured">Featured' in client.get("/?date=2025-06-16").text


def test_author_and_organization_pages(seeded, client):
    author = client.get("/authors/min-seop  KWAK?format=json").json()
    assert author["author"]["displayName"] == "Min-Seop Kwak"
    assert [p["id"] for p in author["papers"]] == ["2506.11924", "hep-th/9901001"]
    assert "Min-Seop Kwak" in client.get("/authors/Min-Seop%20Kwak").text
    org = client.get("/organizations/demo-lab?format=json").json()
    assert org["total"] == 6 and all(p["organization"]["name"] == "demo-lab" for p in org["papers"])
    assert client.get("/organizations/nobody").status_code == 404
    assert client.get("/authors/Nobody%20Here").status_code == 404


def test_trending_shows_score_and_parts(seeded, client):
    data = client.get("/trending?format=json").json()
    scores = [p["trending"]["score"] for p in data["papers"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 13
    first = data["papers"][0]["trending"]
    expected = (first["votePoints"] + first["starPoints"]) / first["decay"]
    assert abs(first["score"] - expected) < 1e-4
    html = client.get("/trending").text
    assert "How the score works" in html and "star points" in html and "decay" in html


def test_stats_page_has_svg_charts(seeded, client):
    html = client.get("/stats").text
    assert html.count("<svg") == 4 and "<script" not in html.split("<main")[1].split("</main>")[0]
    assert 'aria-label="Papers on the daily feed, per day"' in html
    data = client.get("/stats?format=json").json()
    assert data["totalPapers"] == 14 and data["totalFeedDays"] == 4
    assert data["topByMonth"] == [
        {"month": "2025-06", "id": "2506.11924", "title": XSS_TITLE, "upvotes": 99}
    ]


def test_base_template_slots_and_assets(seeded, client):
    html = client.get("/").text
    assert '<link rel="icon" href="/static/favicon.svg"' in html and 'name="viewport"' in html
    assert '<main id="main"' in html and 'href="#main"' in html
    assert client.get("/static/style.css").status_code == 200
    assert "prefers-color-scheme: dark" in client.get("/static/style.css").text
    assert client.get("/static/favicon.svg").headers["content-type"].startswith("image/svg")
    assert client.get("/favicon.ico", follow_redirects=False).status_code == 301


def test_empty_site_renders(client):
    assert "No papers yet" in client.get("/").text
    assert client.get("/trending").status_code == 200
    assert client.get("/stats").status_code == 200
    assert client.get("/api/daily_papers").json() == []


def test_daily_page_shows_all_50_papers_by_upvotes(container, client):
    from datetime import UTC, date, datetime

    from paperwire.domain.records import DailyEntryRecord, PaperRecord, SourceItem
    from paperwire.services.ingest import ingest

    day = date(2025, 6, 16)
    items = [
        SourceItem(
            PaperRecord(
                id=f"2506.{i:05d}",
                title=f"Paper number {i} " * 4,
                abstract="word " * 250,
                authors=tuple(f"Author {k}" for k in range(8)),
                categories=("cs.CL",),
                published_at=datetime(2025, 6, 13, tzinfo=UTC),
                ai_keywords=("a", "b", "c"),
                github_repo="https://github.com/x/y",
                github_stars=i,
                source_upvotes=i,
            ),
            DailyEntryRecord(f"2506.{i:05d}", day, "bench", submitted_by="someone"),
        )
        for i in range(1, 61)
    ]
    ingest(container.engine, items, source="bench", parameters={})
    titles = card_titles(client.get("/?date=2025-06-16").text)
    assert len(titles) == 50
    # sorted by upvotes: paper 60 (most upvotes) first; papers 1-10 beyond the first 50 are left out
    assert titles[0].startswith("Paper number 60")
    assert not any(t.startswith("Paper number 1 ") for t in titles)


def test_cached_pages_follow_writes(seeded, client):
    from sqlalchemy import update

    from paperwire.store.events import PaperPart, PapersChanged, record
    from paperwire.store.tables import papers

    assert seeded.settings.page_cache_ttl_s > 0
    before = client.get("/api/daily_papers?date=2025-06-16").json()
    assert client.get("/?date=2025-06-16&format=json").json()["papers"][0]["upvotes"] == 99
    with seeded.engine.begin() as conn:  # as a vote does: the write, then its event
        conn.execute(update(papers).where(papers.c.id == "2506.11924").values(local_upvotes=7))
        record(conn, PapersChanged.of(["2506.11924"], PaperPart.VOTES))
    after = client.get("/api/daily_papers?date=2025-06-16").json()
    assert before != after
    assert client.get("/?date=2025-06-16&format=json").json()["papers"][0]["upvotes"] == 106
