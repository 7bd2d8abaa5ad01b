"""The digest's "For you" section: the For-you ranker's picks, explained, never a
not-interested paper, never a paper sent before."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import insert

from paperwire.services.digests import DigestBuilder
from paperwire.services.ingest import ingest
from paperwire.store.accounts_tables import paper_votes, users
from paperwire.store.library_tables import library_items, paper_marks
from paperwire.store.subscribers import get_subscriber, insert_subscriber
from tests.digests.conftest import DIGEST_DAY, make_paper


def test_for_you_section_explains_and_skips_not_interested(container):
    engine = container.engine
    old = date(2025, 6, 2)
    library = [make_paper(80 + i, day=old, title=t) for i, t in enumerate(
        ["Speech tokenizers revisited", "Neural speech codecs at low bitrate",
         "Speech language models from tokenizers"])]
    near = make_paper(91, day=DIGEST_DAY, title="A neural speech codec with tokenizers")
    far = make_paper(92, day=DIGEST_DAY, title="Protein folding again", upvotes=0)
    popular = make_paper(93, day=DIGEST_DAY, title="Popular paper", upvotes=50)
    boring = make_paper(94, day=DIGEST_DAY, title="Speech codec tokenizers, boring", upvotes=99)
    sent = make_paper(95, day=DIGEST_DAY, title="Speech tokenizers codec sent already")
    ingest(engine, [*library, near, far, popular, boring, sent], source="test", parameters={})
    now = datetime.now(UTC)
    with engine.begin() as conn:
        user_id = conn.execute(insert(users).values(
            username="ada", username_key="ada", email="ada@example.org",
            email_key="ada@example.org", password_hash="x", role="user", suspended=False,
            created_at=now).returning(users.c.id)).scalar_one()
        conn.execute(insert(library_items), [
            {"user_id": user_id, "paper_id": item.paper.id, "saved_at": now, "updated_at": now,
             "note_source": "", "note_html": ""} for item in library[:2]])
        conn.execute(insert(paper_votes).values(user_id=user_id, paper_id=library[2].paper.id,
                                                created_at=now))
        conn.execute(insert(paper_marks).values(user_id=user_id, paper_id=boring.paper.id,
                                                kind="not_interested", created_at=now))
        sid = insert_subscriber(conn, email="ada@example.org", email_key="ada@example.org",
                                frequency="daily", weekdays_only=True, paper_count=2, topics=(),
                                confirmed=True, user_id=user_id)
        subscriber = get_subscriber(conn, sid)
    builder = DigestBuilder(engine, DIGEST_DAY, search=container.search)
    digest = builder.build(subscriber, {sent.paper.id}, None)
    sections = {s.kind: s for s in digest.sections}
    assert boring.paper.id not in digest.paper_ids  # not interested: in no section at all
    assert sent.paper.id not in digest.paper_ids  # the no-repeat rule
    assert [e.paper.id for e in sections["trending"].entries][0] == popular.paper.id
    first = sections["for_you"].entries[0]
    assert first.paper.id == near.paper.id
    assert first.reason.startswith("Close to “") and "in your library" in first.reason
    assert sections["for_you"].title == "For you"
    assert "upvoted" not in sections


def test_query_topics_go_through_the_search_service_once(container):
    from datetime import timedelta

    from paperwire.domain.digest_topics import Topic
    from tests.digests.conftest import seed_papers

    ids = seed_papers(container.engine, count=8)  # titles cycle through four topics
    calls = []

    class CountingSearch:
        def search(self, query, **kwargs):
            calls.append(query)
            return container.search.search(query, **kwargs)

    builder = DigestBuilder(container.engine, DIGEST_DAY, search=CountingSearch())
    window = (DIGEST_DAY - timedelta(days=3), DIGEST_DAY)
    topic = Topic("query", "speech recognition")
    hits = builder.topic_hits(topic, window)
    assert sorted(hits) == sorted(ids[1::4])  # papers 2 and 6
    assert builder.topic_hits(topic, window) == hits and calls == ["speech recognition"]


def test_a_failing_topic_search_falls_back_for_that_use_only(container):
    from datetime import timedelta

    from paperwire.domain.digest_topics import Topic
    from tests.digests.conftest import seed_papers

    ids = seed_papers(container.engine, count=8)
    failures = ["search is down"]  # the first call fails, later ones work
    calls = []

    class OnceFailingSearch:
        def search(self, query, **kwargs):
            calls.append(query)
            if failures:
                raise RuntimeError(failures.pop())
            return container.search.search(query, **kwargs)

    builder = DigestBuilder(container.engine, DIGEST_DAY, search=OnceFailingSearch())
    window = (DIGEST_DAY - timedelta(days=3), DIGEST_DAY)
    speech, graphs = Topic("query", "speech recognition"), Topic("query", "graph neural networks")
    fallback = builder.topic_hits(speech, window)  # word matching stands in
    assert builder.fallbacks == 1 and set(fallback) <= set(ids)
    # The next topic, and the same topic again, go to the search service: one failure does
    # not switch search off for the run, and the fallback was not kept as the answer.
    assert sorted(builder.topic_hits(graphs, window)) == sorted(ids[2::4])
    assert sorted(builder.topic_hits(speech, window)) == sorted(ids[1::4])
    assert calls == ["speech recognition", "graph neural networks", "speech recognition"]
    assert builder.fallbacks == 1



def test_topic_matches_outside_the_window_never_crowd_out_the_windows_own(container):
    """The topic search ranks among the window's papers only: 250 strong matches published
    just before the window (no daily entry in it) used to fill the search's first 200, and
    the window's weaker matches were then filtered away."""
    from datetime import timedelta

    from paperwire.domain.digest_topics import Topic
    from paperwire.domain.records import PaperRecord, SourceItem

    window = (DIGEST_DAY - timedelta(days=3), DIGEST_DAY)
    before = datetime(2025, 6, 10, 12, tzinfo=UTC)  # in the week before the window
    crowd = [SourceItem(paper=PaperRecord(
        id=f"2506.{900 + i:05d}", title=f"Speech recognition at scale, part {i}",
        abstract="Speech recognition for speech recognition with speech recognition models.",
        published_at=before, sources=frozenset({"test"}))) for i in range(250)]
    filler = " ".join(f"topic{i} word{i}" for i in range(60))
    mine = [make_paper(70 + i, day=DIGEST_DAY, title=f"A survey of many things {i}",
                       abstract=f"{filler} and a note on speech recognition.")
            for i in range(2)]
    ingest(container.engine, [*crowd, *mine], source="test", parameters={})
    builder = DigestBuilder(container.engine, DIGEST_DAY, search=container.search)
    hits = builder.topic_hits(Topic("query", "speech recognition"), window)
    assert sorted(hits) == sorted(item.paper.id for item in mine)
