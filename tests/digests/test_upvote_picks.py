"""'Because you upvoted X': picks near the embeddings of a user's upvoted papers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import insert

from paperwire.search.vectors import VectorIndex
from paperwire.services.digests import DigestBuilder
from paperwire.services.ingest import ingest
from paperwire.store.accounts_tables import paper_votes, users
from paperwire.store.embeddings import EmbeddingRow, save_embeddings
from paperwire.store.subscribers import get_subscriber, insert_subscriber
from tests.digests.conftest import DIGEST_DAY, make_paper

MODEL = "test-model"


def test_upvoted_section_names_the_upvoted_paper(container):
    engine = container.engine
    voted = make_paper(90, day=date(2025, 6, 2), title="Speech Tokenizers Revisited")
    near = make_paper(91, day=DIGEST_DAY, title="A Neural Audio Codec", upvotes=0)
    far = make_paper(92, day=DIGEST_DAY, title="Protein Folding Again", upvotes=0)
    popular = make_paper(93, day=DIGEST_DAY, title="Popular Paper", upvotes=50)
    ingest(engine, [voted, near, far, popular], source="test", parameters={})
    now = datetime.now(UTC)
    vectors = {voted.paper.id: [1, 0, 0, 0], near.paper.id: [0.9, 0.1, 0, 0],
               far.paper.id: [0, 0, 1, 0], popular.paper.id: [0, 1, 0, 0]}
    with engine.begin() as conn:
        user_id = conn.execute(insert(users).values(
            username="ada", username_key="ada", email="ada@example.org",
            email_key="ada@example.org", password_hash="x", role="user", suspended=False,
            created_at=now).returning(users.c.id)).scalar_one()
        conn.execute(insert(paper_votes).values(user_id=user_id, paper_id=voted.paper.id,
                                                created_at=now))
        save_embeddings(conn, MODEL, [
            EmbeddingRow(pid, np.asarray(vec, dtype=np.float32) / np.linalg.norm(vec), pid)
            for pid, vec in vectors.items()])
        sid = insert_subscriber(conn, email="ada@example.org", email_key="ada@example.org",
                                frequency="daily", weekdays_only=True, paper_count=2, topics=(),
                                confirmed=True, user_id=user_id)
        subscriber = get_subscriber(conn, sid)
    index = VectorIndex(engine, MODEL, 4)
    digest = DigestBuilder(engine, DIGEST_DAY, vector_index=index).build(subscriber, set(), None)
    sections = {s.kind: s for s in digest.sections}
    assert [e.paper.id for e in sections["trending"].entries] == [popular.paper.id]
    (pick,) = sections["upvoted"].entries
    assert pick.paper.id == near.paper.id
    assert pick.reason == "Because you upvoted “Speech Tokenizers Revisited”"


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
