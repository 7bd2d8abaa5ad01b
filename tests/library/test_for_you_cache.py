"""The per-user cache of the For-you ranking: reused while nothing changed, recomputed after
any change to the reader's inputs or to the papers, never shared between readers."""

from __future__ import annotations

from paperwire.services.library.ranking_cache import RankingCache
from paperwire.store.papers import upsert_papers
from tests.library.test_for_you import _ids, _paper, _seed

LIBRARY = ("2501.00001", "2501.00002", "2501.00003")


def _feed(browser):
    response = browser.client.get("/for-you?format=json")
    assert response.status_code == 200
    return response.json()


def _ready(browser, container):
    _seed(container)
    for pid in LIBRARY:
        assert browser.api("POST", f"/api/library/papers/{pid}").status_code in (200, 201)
    return container.for_you_cache


def test_hit_returns_identical_content(alice, container):
    cache = _ready(alice, container)
    first = _feed(alice)
    hits = cache.hits
    second = _feed(alice)
    assert cache.hits == hits + 1
    assert second == first and _ids(first)


def test_save_and_not_interested_change_the_next_answer(alice, container):
    cache = _ready(alice, container)
    assert "2512.00010" in _ids(_feed(alice))
    assert alice.api("POST", "/api/library/papers/2512.00010").status_code in (200, 201)
    misses = cache.misses
    assert "2512.00010" not in _ids(_feed(alice))  # now in the library
    assert cache.misses == misses + 1
    assert "2512.00015" in _ids(_feed(alice))
    alice.api("POST", "/api/library/papers/2512.00015/marks/not_interested")
    assert "2512.00015" not in _ids(_feed(alice))


def test_follow_and_keywords_change_the_next_answer(alice, container):
    _ready(alice, container)
    before = {p["id"]: p["reasons"] for p in _feed(alice)["papers"]}
    assert "by Grace Hopper (you follow)" not in before.get("2512.00011", [])
    alice.api("POST", "/api/me/follows", json={"kind": "author", "value": "Grace Hopper"})
    after = {p["id"]: p["reasons"] for p in _feed(alice)["papers"]}
    assert "by Grace Hopper (you follow)" in after["2512.00011"]
    assert "2512.00014" in after
    alice.api("PUT", "/api/me/feed-settings", json={"excludeKeywords": ["video"]})
    assert "2512.00014" not in _ids(_feed(alice))


def test_a_new_paper_appears(alice, container):
    _ready(alice, container)
    assert "2512.00099" not in _ids(_feed(alice))
    with container.engine.begin() as conn:
        upsert_papers(conn, [_paper("2512.00099", "Latent diffusion samplers for image synthesis",
                                    "Score based diffusion models in a latent space.")])
    assert "2512.00099" in _ids(_feed(alice))


def test_another_readers_change_keeps_yours(alice, bob, container):
    cache = _ready(alice, container)
    first = _feed(alice)
    bob.api("POST", "/api/library/papers/2512.00010")
    bob.api("POST", "/api/me/follows", json={"kind": "author", "value": "Grace Hopper"})
    hits = cache.hits
    assert _feed(alice) == first
    assert cache.hits == hits + 1  # Alice's entry survived Bob's writes
    assert "2512.00010" not in _ids(_feed(bob))  # and Bob sees his own change


def test_cache_is_bounded_per_user_and_expires():
    now = [0.0]
    cache = RankingCache(max_entries=2, max_age_s=60, clock=lambda: now[0])
    cache.put((1, "a"), "s1", ("x",))
    cache.put((2, "a"), "s1", ("y",))
    assert cache.get((1, "a"), "s1") == ("x",)  # (1, "a") is now the most recent
    cache.put((3, "a"), "s1", ("z",))  # evicts (2, "a"), the least recently used
    assert len(cache) == 2 and cache.get((2, "a"), "s1") is None
    assert cache.get((1, "a"), "s2") is None  # another stamp: stale, dropped
    assert cache.get((1, "a"), "s1") is None
    cache = RankingCache(max_entries=3, max_age_s=60, clock=lambda: now[0])
    cache.put((1, "a"), "s1", ("x",))
    cache.put((1, "b"), "s1", ("x",))
    cache.put((3, "a"), "s1", ("z",))
    cache.invalidate_user(1)
    assert cache.get((3, "a"), "s1") == ("z",) and len(cache) == 1
    now[0] = 61.0
    assert cache.get((3, "a"), "s1") is None  # older than max_age_s
    cache.put((3, "a"), "s1", ("z",))
    cache.invalidate_all()
    assert len(cache) == 0
