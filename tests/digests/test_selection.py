"""Digest selection and its helpers: pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from paperwire.domain.digest_selection import (
    DigestPaper,
    ForYouPick,
    digest_window,
    is_digest_due,
    paper_matches_query,
    select_digest,
)
from paperwire.domain.digest_topics import InvalidTopic, Topic, parse_topic, parse_topic_lines
from paperwire.domain.email_addresses import InvalidEmail, normalize_email
from paperwire.domain.signed_tokens import TokenError, make_token, read_token

DAY = date(2025, 6, 16)
NOW = datetime(2025, 6, 17, tzinfo=UTC)


def paper(i: int, upvotes: int = 0, **kw) -> DigestPaper:
    return DigestPaper(id=f"p{i}", title=kw.pop("title", f"Paper {i}"), authors=("A B",),
                       abstract="", added_at=datetime(2025, 6, 16, tzinfo=UTC),
                       upvotes=upvotes, **kw)


def test_trending_only_without_topics():
    papers = [paper(i, upvotes=i) for i in range(10)]
    digest = select_digest(digest_date=DAY, window=(DAY - timedelta(1), DAY), candidates=papers,
                           now=NOW, paper_count=3, topic_hits={})
    assert digest.paper_ids == ["p9", "p8", "p7"]
    assert [s.kind for s in digest.sections] == ["trending"]


def test_topics_and_upvotes_share_the_budget_and_never_repeat():
    papers = [paper(i, upvotes=i) for i in range(10)]
    topic = Topic("query", "low")
    digest = select_digest(
        digest_date=DAY, window=(DAY - timedelta(1), DAY), candidates=papers, now=NOW,
        paper_count=6, topic_hits={topic: ["p9", "p1", "p2"]},
        for_you_picks=[ForYouPick("p3", "close to “My Paper” in your library")],
        already_sent={"p8"},
    )
    ids = digest.paper_ids
    assert len(ids) == 6 == len(set(ids)) and "p8" not in ids
    kinds = {s.kind: [e.paper.id for e in s.entries] for s in digest.sections}
    assert kinds["trending"][:3] == ["p9", "p7", "p6"]
    assert kinds["topic"] == ["p1"] or kinds["topic"] == ["p1", "p2"]
    for_you = next(s for s in digest.sections if s.kind == "for_you")
    assert for_you.title == "For you"
    assert for_you.entries[0].reason == "Close to “My Paper” in your library"


def test_everything_already_sent_gives_an_empty_digest():
    papers = [paper(1), paper(2)]
    digest = select_digest(digest_date=DAY, window=(DAY, DAY), candidates=papers, now=NOW,
                           paper_count=5, topic_hits={}, already_sent={"p1", "p2"})
    assert digest.is_empty


def test_schedule_and_windows():
    saturday, monday = date(2025, 6, 14), date(2025, 6, 16)
    assert not is_digest_due(saturday, "daily", True)
    assert is_digest_due(saturday, "daily", False)
    assert is_digest_due(monday, "weekly", True) and not is_digest_due(saturday, "weekly", True)
    assert digest_window(monday, "daily", True, None) == (date(2025, 6, 13), monday)
    assert digest_window(monday, "weekly", True, None) == (date(2025, 6, 9), monday)
    assert digest_window(monday, "daily", True, date(2025, 6, 12)) == (date(2025, 6, 12), monday)


def test_query_matching_and_topics():
    p = paper(1, title="Retrieval-Augmented Generation at scale")
    assert paper_matches_query("retrieval augmented", p)
    assert not paper_matches_query("diffusion", p)
    assert parse_topic("author: Jane Doe") == Topic("author", "Jane Doe")
    assert parse_topic("org:Meta") == Topic("organization", "Meta")
    assert parse_topic("what: is this") == Topic("query", "what: is this")
    assert parse_topic_lines("a\n\nb\na") == [Topic("query", "a"), Topic("query", "b")]
    with pytest.raises(InvalidTopic):
        parse_topic("x" * 400)


def test_addresses_and_tokens():
    assert normalize_email(" Jane.Doe+ml@Example.ORG ") == "Jane.Doe+ml@example.org"
    for bad in ("a@b", "a@b.invalid", "a b@c.org", "a@b.org\nBcc: c@d.org"):
        with pytest.raises(InvalidEmail):
            normalize_email(bad)
    token = make_token("secret", "settings", 7, "a@b.org")
    assert read_token("secret", "settings", token).subscriber_id == 7
    with pytest.raises(TokenError, match="invalid"):
        read_token("other-secret", "settings", token)
    with pytest.raises(TokenError, match="invalid"):
        read_token("secret", "unsubscribe", token)
    with pytest.raises(TokenError, match="expired"):
        read_token("secret", "settings", token, max_age=timedelta(seconds=-1))
