"""The For-you ranking cache listens to the library writes' change events: after the commit
of a write to a reader's inputs, that reader's entries are gone at once (no stamp change or
expiry needed), other readers' entries stay, and a rolled-back write drops nothing.

Entries are stored under a fixed stamp that no write changes, so only the event can drop
them; the stamp check for other processes' writes is tested in test_for_you_cache.py."""

from __future__ import annotations

import pytest

from paperwire.services import community, library
from paperwire.services.library.ranking_cache import RankingCache
from paperwire.store.events import bus_for
from paperwire.store.papers import upsert_papers
from tests.accounts.conftest import make_user
from tests.library.test_for_you import _paper

STAMP = "unchanged"  # what the stamp query would say if the write were missed


@pytest.fixture
def world(container):
    with container.engine.begin() as conn:
        upsert_papers(conn, [_paper("2501.00001", "Diffusion samplers", "Fast samplers."),
                             _paper("2501.00002", "Graph networks", "Message passing.")])
    alice, bob = make_user(container, "alice"), make_user(container, "bob")
    cache = container.for_you_cache
    return container.engine, cache, alice, bob


def _fill(cache: RankingCache, *users) -> None:
    for user in users:
        cache.put((user.id, "since-a", 50), STAMP, (f"picks of {user.id}",))
        cache.put((user.id, "since-b", 20), STAMP, (f"more picks of {user.id}",))


def _cached(cache: RankingCache, user) -> bool:
    return cache.get((user.id, "since-a", 50), STAMP) is not None


def _prepared(engine, alice):
    """Rows some writes need to exist first (the item to remove, the follow to drop)."""
    library.save_paper(engine, alice, "2501.00002")
    library.set_mark(engine, alice, "2501.00002", "read", True)
    return library.follow(engine, alice, "author", "Ada Lovelace")


WRITES = {
    "save": lambda e, u, f: library.save_paper(e, u, "2501.00001"),
    "remove": lambda e, u, f: library.remove_paper(e, u, "2501.00002"),
    "mark read": lambda e, u, f: library.set_mark(e, u, "2501.00001", "read", True),
    "unmark read": lambda e, u, f: library.set_mark(e, u, "2501.00002", "read", False),
    "not interested": lambda e, u, f: library.set_mark(e, u, "2501.00001", "not_interested",
                                                       True),
    "note": lambda e, u, f: library.set_note(e, u, "2501.00001", "worth a read"),
    "tags": lambda e, u, f: library.set_tags(e, u, "2501.00001", "diffusion"),
    "follow": lambda e, u, f: library.follow(e, u, "author", "Grace Hopper"),
    "unfollow": lambda e, u, f: library.unfollow(e, u, f.id),
    "feed keywords": lambda e, u, f: library.set_keywords(e, u, "diffusion", "video"),
    "upvote": lambda e, u, f: community.set_vote(e, u, "2501.00001", True),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_drops_that_readers_entries_at_once_and_keeps_others(world, write):
    engine, cache, alice, bob = world
    followed = _prepared(engine, alice)
    _fill(cache, alice, bob)
    WRITES[write](engine, alice, followed)
    assert not _cached(cache, alice)
    assert cache.get((alice.id, "since-b", 20), STAMP) is None  # every entry of the reader
    assert _cached(cache, bob)


def test_a_rolled_back_write_drops_nothing(world):
    engine, cache, alice, bob = world
    _fill(cache, alice)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        assert library.save_papers(conn, alice.id, ["2501.00001"]) == 1
        raise RuntimeError("the import fails after saving")
    assert _cached(cache, alice)
    assert library.saved_ids(engine, alice.id) == set()
    with engine.begin() as conn:  # the same write, committed
        library.save_papers(conn, alice.id, ["2501.00001"])
    assert not _cached(cache, alice)


def test_a_refused_write_drops_nothing(world):
    engine, cache, alice, bob = world
    _fill(cache, alice)
    with pytest.raises(community.CommunityError):
        library.set_mark(engine, alice, "2599.99999", "read", True)  # no such paper
    with pytest.raises(community.CommunityError):
        library.unfollow(engine, alice, 123456)  # no such follow
    assert _cached(cache, alice)


def test_papers_written_drop_every_entry(world):
    engine, cache, alice, bob = world
    _fill(cache, alice, bob)
    with engine.begin() as conn:
        upsert_papers(conn, [_paper("2512.00099", "New paper", "Arrived today.")])
    assert not _cached(cache, alice) and not _cached(cache, bob)


def test_a_cache_that_stops_listening_keeps_its_entries(world):
    engine, _, alice, _ = world
    cache = RankingCache()
    stop = cache.listen(bus_for(engine))
    _fill(cache, alice)
    library.save_paper(engine, alice, "2501.00001")
    assert not _cached(cache, alice)
    stop()
    _fill(cache, alice)
    library.remove_paper(engine, alice, "2501.00001")
    assert _cached(cache, alice)
