"""Cards: first authors, upvote forms that work from any list; the paper page's fixes."""

from __future__ import annotations

import re

from sqlalchemy import update

from paperwire.domain.records import PaperRecord, SourceItem
from paperwire.services.ingest import ingest
from paperwire.store.tables import papers
from tests.accounts.conftest import login, make_user
from tests.web.conftest import DEMO_DAY

BROWSER = {"accept": "text/html"}
THUMB = "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2506.20002.png"


def _card(html: str, dom_id: str) -> str:
    start = html.rindex("<article", 0, html.index(f'id="t-{dom_id}"'))
    return html[start : html.index("</article>", start)]


def _long_author_paper(engine) -> None:
    paper = PaperRecord(
        id="2506.20001",
        title="Five authors and a link",
        abstract="Code at https://github.com/org/repo. See <b>bold</b> & www-less e.g. model.py.",
        authors=("Ada One", "Bo Two", "Cy Three", "Di Four", "Ed Five"),
        sources=frozenset({"fixture"}),
        source_upvotes=12345,
        source_comments=2,
    )
    from paperwire.domain.records import DailyEntryRecord

    ingest(engine, [SourceItem(paper, DailyEntryRecord(paper.id, DEMO_DAY, "fixture"))],
           source="fixture", parameters={})


def test_cards_show_the_first_three_authors_linked_then_et_al(seeded, client):
    _long_author_paper(seeded.engine)
    card = _card(client.get("/?date=2025-06-16").text, "2506-20001")
    names = re.findall(r'<a href="/authors/[^"]+">([^<]+)</a>', card)
    assert names == ["Ada One", "Bo Two", "Cy Three"]
    assert "et al." in card and "Di Four" not in card
    assert "12,345" in card  # thousands separators


def test_upvote_form_on_every_list_card(seeded, client):
    for url in ("/?date=2025-06-16", "/trending", "/organizations/nvidia", "/?week=2025-W25"):
        html = client.get(url, headers=BROWSER).text
        card = _card(html, "2506-11924")
        assert 'action="/papers/2506.11924/upvote"' in card and 'method="post"' in card, url
        token = re.search(r'name="csrf_token" value="([^"]*)"', card).group(1)
        assert len(token) == 64 and "\x00" not in html, url  # the visitor's own token
    assert "/static/community.js" in html and "<script>" not in html


def test_upvote_from_a_list_without_javascript_returns_to_the_list(seeded, client):
    make_user(seeded, "reader1")
    assert login(client, "reader1").status_code == 303
    html = client.get("/?date=2025-06-16", headers=BROWSER).text
    card = _card(html, "2506-11924")
    token = re.search(r'name="csrf_token" value="([^"]*)"', card).group(1)
    voted = client.post(
        "/papers/2506.11924/upvote",
        data={"csrf_token": token, "action": "add"},
        headers={"referer": "http://testserver/?date=2025-06-16"},
        follow_redirects=False,
    )
    assert voted.status_code == 303 and voted.headers["location"] == "/?date=2025-06-16"
    assert client.get("/papers/2506.11924?format=json").json()["upvotes"] == 100
    # Signed out, the form sends the reader to log in and back to the list.
    client.cookies.clear()
    html = client.get("/?date=2025-06-16", headers=BROWSER).text
    token = re.search(r'name="csrf_token" value="([^"]*)"', _card(html, "2506-11924")).group(1)
    anon = client.post(
        "/papers/2506.11924/upvote",
        data={"csrf_token": token, "action": "add"},
        headers={"referer": "http://testserver/trending"},
        follow_redirects=False,
    )
    assert anon.status_code == 303 and anon.headers["location"] == "/login?next=/trending"


def test_paper_page_count_once_links_in_abstract_and_hf_comments(seeded, client):
    _long_author_paper(seeded.engine)
    html = client.get("/papers/2506.20001", headers=BROWSER).text
    assert html.count("12,345") == 1 and "Log in to upvote 12" not in html
    assert '<a href="https://github.com/org/repo" rel="nofollow noopener">' in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "model.py" in html
    assert 'href="http://model.py' not in html
    assert "2 comments on Hugging Face" in html
    assert 'href="https://huggingface.co/papers/2506.20001#community"' in html
    assert "<dt>Comments</dt>" not in html


def test_bibtex_box_wraps(client):
    css = client.get("/static/style.css").text
    rule = re.search(r"\.bibtex pre \{([^}]*)\}", css).group(1)
    assert "pre-wrap" in rule and "overflow-x: auto" not in rule


def test_moderators_see_only_the_buttons_that_apply(seeded, client):
    from paperwire.web.templating import templates

    source = templates.env.loader.get_source(templates.env, "community/paper_actions.html")[0]
    assert '"Unhide"' not in source
    with seeded.engine.begin() as conn:
        conn.execute(update(papers).where(papers.c.id == "0001.0001").values(featured=True))
    day = client.get("/?date=2025-06-16&format=json").json()
    assert day["papers"][0]["id"] == "0001.0001"  # featured first on its day


def test_thumbnails_on_cards_lazily_and_only_where_present(seeded, client):
    from paperwire.domain.records import DailyEntryRecord

    paper = PaperRecord(id="2506.20002", title="With a picture", abstract="x",
                        sources=frozenset({"fixture"}))
    entry = DailyEntryRecord(paper.id, DEMO_DAY, "fixture",
                             thumbnail=THUMB)
    ingest(seeded.engine, [SourceItem(paper, entry)], source="fixture", parameters={})
    html = client.get("/?date=2025-06-16").text
    card = _card(html, "2506-20002")
    assert f"<img src=\"{THUMB}\"" in card
    assert 'loading="lazy"' in card
    assert "<img" not in _card(html, "2506-11924")
