"""Community rough edges: Markdown images in comments, demo keyword chips, digest subjects."""

from __future__ import annotations

from datetime import UTC, date, datetime

from paperwire.demo import demo_items, demo_keywords
from paperwire.domain.comment_markup import render_comment


def test_markdown_images_become_a_link_not_a_stray_bang():
    html = render_comment("A plot: ![loss curve](https://example.org/loss.png) here")
    assert "!<a" not in html and "![" not in html
    assert '<a href="https://example.org/loss.png"' in html and "[image: loss curve]" in html
    assert "<img" not in html
    hostile = render_comment('![x" onerror="alert(1)](https://e.org/a.png)')
    assert "onerror=" not in hostile.replace("&quot;", "").split(">")[0] and "<img" not in hostile


def test_demo_keywords_have_no_stopwords():
    assert demo_keywords("Retrieval-Augmented Generation with Verified Citations") == (
        "retrieval-augmented", "generation", "verified")
    stop = {"for", "with", "of", "the", "from", "on", "to", "a", "and"}
    for item in demo_items(date(2025, 6, 16)):
        assert len(item.paper.ai_keywords) == 3
        assert not stop & set(item.paper.ai_keywords), item.paper.ai_keywords


def test_digest_subject_collapses_arxiv_whitespace():
    from types import SimpleNamespace

    from paperwire.mail.digest_render import digest_subject

    paper = SimpleNamespace(title="Sparse  Mixture\n  of   Experts")
    digest = SimpleNamespace(digest_date=date(2025, 6, 16),
                             sections=[SimpleNamespace(entries=[SimpleNamespace(paper=paper)])])
    subject = digest_subject("Paperwire", digest)
    assert "  " not in subject and "\n" not in subject
    assert subject.endswith("Sparse Mixture of Experts")


def test_claim_state_and_approved_claims_on_paper_and_author_pages(seeded, client):
    from paperwire.services import community
    from tests.accounts.conftest import login, make_user

    seeded.settings.page_cache_ttl_s = 0
    ada = make_user(seeded, "ada")
    admin = make_user(seeded, "margaret", role="admin")
    assert login(client, "ada").status_code == 303
    page = client.get("/papers/2506.11924").text
    assert 'href="/papers/2506.11924/claim">Claim authorship' in page
    claim = community.request_claim(seeded.engine, ada, "2506.11924", "Jin-Hwa Kim")
    page = client.get("/papers/2506.11924").text
    assert "Authorship claim sent: waiting for a moderator" in page
    assert ">Claim authorship<" not in page
    community.decide_claim(seeded.engine, admin, claim.id, True)
    page = client.get("/papers/2506.11924").text
    assert "You are an author of this paper (Jin-Hwa Kim)" in page
    client.cookies.clear()
    public = client.get("/papers/2506.11924").text
    claimed = '<a class="chip claimed" href="/users/ada"'
    assert f'href="/authors/Jin-Hwa%20Kim">Jin-Hwa Kim</a> {claimed}' in public
    author = client.get("/authors/Jin-Hwa%20Kim").text
    assert 'Confirmed profile: <a href="/users/ada">@ada</a>' in author
    assert "Confirmed profile" not in client.get("/authors/Min-Seop%20Kwak").text


def test_submit_shows_its_rules_and_a_paper_is_on_the_page_once_per_window(seeded, client):
    from datetime import timedelta

    import pytest
    from sqlalchemy import select

    from paperwire.domain.records import DailyEntryRecord, PaperRecord, SourceItem
    from paperwire.services.community import CommunityError
    from paperwire.services.ingest import ingest
    from paperwire.services.submissions import run_submission, submit_paper
    from paperwire.store.tables import daily_entries
    from tests.accounts.conftest import login, make_user

    ada = make_user(seeded, "ada")
    assert login(client, "ada").status_code == 303
    form = client.get("/submit").text
    assert "published on arXiv in the last 14 days" in form and "once per 14 days" in form
    today = date(2025, 6, 20)
    paper = PaperRecord(id="2506.40001", title="Recent", abstract="x",
                        published_at=datetime(2025, 6, 12, tzinfo=UTC),
                        sources=frozenset({"fixture"}), source_upvotes=50)
    ingest(seeded.engine, [SourceItem(paper, DailyEntryRecord(paper.id, today - timedelta(days=5),
                                                              "fixture"))],
           source="fixture", parameters={})
    with pytest.raises(CommunityError) as refused:
        submit_paper(seeded.engine, ada, "2506.40001", jobs=seeded.jobs, max_age_days=14,
                     today=today)
    assert refused.value.status == 409 and "once per 14 days" in refused.value.message
    assert "2025-06-15" in refused.value.message
    # A paper that was not on the page recently still goes on today's page.
    other = PaperRecord(id="2506.40002", title="Fresh", abstract="x",
                        published_at=datetime(2025, 6, 18, tzinfo=UTC),
                        sources=frozenset({"fixture"}))
    queued = submit_paper(seeded.engine, ada, "2506.40002", jobs=seeded.jobs,
                          max_age_days=14, today=today)
    assert queued.day == today
    run_submission(seeded.engine, queued.payload, fetch=lambda ids: [other], max_age_days=14)
    with seeded.engine.connect() as conn:
        days = conn.execute(select(daily_entries.c.day)
                            .where(daily_entries.c.paper_id == "2506.40002")).scalars().all()
    assert days == [today]
