"""The For-you feed: ranking with explanations, cold start, keywords, private feed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import feedparser

from paperwire.domain.for_you import Candidate, Interests, rank_for_you
from paperwire.domain.records import DailyEntryRecord, PaperRecord
from paperwire.store.papers import add_daily_entries, upsert_papers
from tests.accounts.conftest import new_client

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=60)


def _paper(pid, title, abstract, authors=None, published=None, cats=("cs.LG",)):
    authors = authors or (f"Author {pid[-2:]}",)  # nobody shares an author unless told
    return PaperRecord(id=pid, title=title, abstract=abstract, authors=tuple(authors),
                       categories=cats, primary_category=cats[0],
                       published_at=published or NOW - timedelta(days=1),
                       sources=frozenset({"test"}))


def _seed(container):
    records = [
        # the reader's library (older)
        _paper("2501.00001", "Denoising diffusion probabilistic models for image synthesis",
               "We train denoising diffusion models with a variational bound.", published=OLD),
        _paper("2501.00002", "Score-based diffusion sampling with fewer steps",
               "Faster samplers for score based diffusion models.", published=OLD),
        _paper("2501.00003", "Latent diffusion for high resolution images",
               "Diffusion in a learned latent space of an autoencoder.", published=OLD),
        # new papers
        _paper("2512.00010", "Consistency distillation of diffusion samplers",
               "We distil score based diffusion samplers into one step models."),
        _paper("2512.00011", "Protein folding with graph networks",
               "A graph network predicts protein structure.", authors=("Grace Hopper",)),
        _paper("2512.00012", "Quantum error correction codes",
               "Surface codes for quantum computers."),
        _paper("2512.00013", "Diffusion models for text generation",
               "Discrete diffusion models generate text."),
        _paper("2512.00014", "Video diffusion with temporal attention",
               "We extend latent diffusion models to video."),
        _paper("2512.00015", "Image diffusion for medical scans",
               "Diffusion models denoise MRI images."),
    ]
    with container.engine.begin() as conn:
        upsert_papers(conn, records)
        add_daily_entries(conn, [DailyEntryRecord(r.id, date.today(), "test") for r in records[3:]])


def _ids(feed):
    return [p["id"] for p in feed["papers"]]


def test_cold_start_says_what_to_do_and_shows_trending(alice, container):
    _seed(container)
    feed = alice.client.get("/for-you?format=json").json()
    assert feed["coldStart"] is True and "save at least 3" in feed["advice"]
    assert feed["trending"] and not feed["papers"]
    html = alice.client.get("/for-you").text
    assert "Trending meanwhile" in html and "These are my papers" in html


def test_ranked_and_explained(alice, container):
    _seed(container)
    for pid in ("2501.00001", "2501.00002", "2501.00003"):
        alice.api("POST", f"/api/library/papers/{pid}")
    alice.api("POST", "/api/me/follows", json={"kind": "author", "value": "Grace Hopper"})
    alice.api("POST", "/api/me/follows", json={"kind": "search", "value": "quantum codes"})
    alice.api("POST", "/api/library/papers/2512.00015/marks/not_interested")
    alice.api("POST", "/api/library/papers/2512.00013/marks/read")
    alice.api("PUT", "/api/me/feed-settings", json={"excludeKeywords": ["video"]})
    feed = alice.client.get("/for-you?format=json").json()
    assert feed["coldStart"] is False
    ids = _ids(feed)
    assert ids[0] == "2512.00010"  # closest to the library
    assert "2512.00015" not in ids and "2512.00013" not in ids  # not interested, read
    assert "2512.00014" not in ids  # excluded keyword
    assert not set(ids) & {"2501.00001", "2501.00002", "2501.00003"}  # library papers
    reasons = {p["id"]: p["reasons"] for p in feed["papers"]}
    assert any(r.startswith("close to “Score-based diffusion") or
               r.startswith("close to “Denoising") for r in reasons["2512.00010"])
    assert "by Grace Hopper (you follow)" in reasons["2512.00011"]
    assert any("matches your saved search “quantum codes”" in r for r in reasons["2512.00012"])
    html = alice.client.get("/for-you").text
    assert "by Grace Hopper (you follow)" in html and 'class="pick-reasons"' in html
    # Not interested from the feed: gone next time (and the library paper stays).
    alice.post("/papers/2512.00010/mark", {"kind": "not_interested", "next": "/for-you"})
    assert "2512.00010" not in _ids(alice.client.get("/for-you?format=json").json())


def test_keywords_are_saved_with_the_account(alice, bob, container):
    _seed(container)
    alice.post("/for-you/keywords", {"include": "protein, graph", "exclude": "quantum"})
    settings = alice.client.get("/api/me/feed-settings").json()
    assert settings["includeKeywords"] == ["protein", "graph"]
    assert settings["excludeKeywords"] == ["quantum"]
    assert bob.client.get("/api/me/feed-settings").json()["includeKeywords"] == []
    feed = alice.client.get("/for-you?format=json").json()
    reasons = {p["id"]: p["reasons"] for p in feed["papers"]}
    assert "mentions protein, graph" in reasons["2512.00011"]
    assert "2512.00012" not in reasons
    too_many = alice.api("PUT", "/api/me/feed-settings",
                         json={"includeKeywords": [f"k{i}" for i in range(51)]})
    assert too_many.status_code == 400


def test_these_are_my_papers(alice, container):
    _seed(container)
    with container.engine.begin() as conn:
        upsert_papers(conn, [_paper("2502.00001", "My first paper", "Mine.", ("Alice Liddell",),
                                    OLD),
                             _paper("2502.00002", "My second paper", "Mine too.",
                                    ("Bob", "alice  liddell"), OLD)])
    page = alice.post("/for-you/my-papers", {"author": "Alice Liddell"})
    assert page.status_code == 200 and "Found 2 papers by Alice Liddell; 2 added" in page.text
    none = alice.post("/for-you/my-papers", {"author": "Nobody Here"})
    assert "No papers here list an author named" in none.text
    saved = alice.client.get("/library?format=json").json()["papers"]
    assert sorted(p["id"] for p in saved) == ["2502.00001", "2502.00002"]


def test_private_feed_token_is_secret_and_revocable(alice, bob, container):
    _seed(container)
    for pid in ("2501.00001", "2501.00002", "2501.00003"):
        alice.api("POST", f"/api/library/papers/{pid}")
    page = alice.post("/for-you/feed-token").text
    start = page.index("/for-you/feed/fy_")
    token = page[start + len("/for-you/feed/"):page.index(".xml", start)]
    anonymous = new_client(container)
    rss = anonymous.get(f"/for-you/feed/{token}.xml")
    assert rss.status_code == 200 and rss.headers["cache-control"] == "private, no-store"
    parsed = feedparser.parse(rss.content)
    first = _ids(alice.client.get("/for-you?format=json").json())[0]
    assert first in {"2512.00010", "2512.00015"}  # the two diffusion papers closest to it
    assert parsed.entries[0].link.endswith(f"/papers/{first}")
    assert anonymous.get(f"/for-you/feed/{token}.atom").status_code == 200
    assert anonymous.get("/for-you/feed/fy_guess.xml").status_code == 404
    assert anonymous.get(f"/for-you/feed/{token}.html").status_code == 404
    # Bob's own token shows Bob's (empty) feed, never Alice's.
    bob_page = bob.post("/for-you/feed-token").text
    bob_start = bob_page.index("/for-you/feed/fy_")
    bob_token = bob_page[bob_start + 14:bob_page.index(".xml", bob_start)]
    assert feedparser.parse(anonymous.get(f"/for-you/feed/{bob_token}.xml").content).entries == []
    # Replacing the token kills the old one; revoking kills the new one.
    alice.post("/for-you/feed-token")
    assert anonymous.get(f"/for-you/feed/{token}.xml").status_code == 404
    assert "fy_" not in alice.client.get("/for-you").text  # the secret shows only once
    alice.post("/for-you/feed-token/delete")
    assert alice.client.get("/api/me/feed-settings").json()["privateFeed"] is False


def test_since_is_checked(alice):
    assert alice.client.get("/for-you?format=json&since=yesterday").status_code == 400
    assert alice.client.get("/for-you?format=json&since=2001-01-01").status_code == 400
    assert new_client(alice.client.app.state.container).get(
        "/for-you?format=json").status_code == 401


def _term_stats(texts: dict[str, str]):
    """Analysed word ids and corpus statistics of these texts (the index's job in the app)."""
    import numpy as np

    from paperwire.search.term_view import view_of_sequences
    from paperwire.search.text_analysis import Analyzer
    from paperwire.services.library.features import term_stats
    from paperwire.services.library.for_you import stop_stems

    analyzer, vocab = Analyzer(), {}
    stop = stop_stems(analyzer)  # as the service leaves stopwords out
    seqs = {pid: np.array([vocab.setdefault(w, len(vocab)) for w in analyzer.analyze(t)
                           if w not in stop], dtype=np.int64) for pid, t in texts.items()}
    view = view_of_sequences(list(seqs), list(seqs.values()), list(vocab))
    return seqs, term_stats(view), list(view.stems), view


LIBRARY = {
    "lib-nerf": "Neural radiance fields for novel view synthesis of indoor scenes",
    "lib-nerf2": "Faster neural radiance fields with hash grids for view synthesis",
    "lib-protein": "Protein structure prediction with equivariant graph networks",
}
NEW = {
    "new-nerf": "Dynamic neural radiance fields for novel view synthesis of moving people",
    "new-protein": "Equivariant graph networks for protein structure and docking",
    "new-quantum": "Surface codes for fault tolerant quantum computers",
    "new-speech": "Speech recognition with transformers for low resource languages",
    "new-weak": "A survey of synthesis methods for images",
}


def test_library_match_ranks_each_topic_of_the_library_first_and_explains_it():
    from paperwire.domain.library_match import feature_terms, featurize, match_library

    seqs, stats, stems, _ = _term_stats({**LIBRARY, **NEW})
    lib, new = list(LIBRARY), list(NEW)
    match = match_library(featurize([seqs[p] for p in lib], stats),
                          featurize([seqs[p] for p in new], stats))
    ranked = [new[r] for r in match.ranked]
    # Both topics of a two-topic reader come first; papers sharing nothing are not ranked.
    assert set(ranked[:2]) == {"new-nerf", "new-protein"}
    assert "new-quantum" not in ranked and "new-speech" not in ranked
    assert ranked.index("new-weak") == 2  # shares one word only
    # Each pick's nearest library paper is the one on its topic.
    assert lib[match.nearest[new.index("new-protein")]] == "lib-protein"
    assert lib[match.nearest[new.index("new-nerf")]] in {"lib-nerf", "lib-nerf2"}
    assert match.nearest[new.index("new-quantum")] == -1
    # What drove the NeRF pick: the library's phrases, pairs of words included.
    words = [" ".join(stems[t] for t in feature_terms(k, stats.n_terms))
             for k in match.drivers[new.index("new-nerf")]]
    assert "radianc field" in words or "neural radianc" in words


def test_library_match_with_nothing_to_compare():
    import numpy as np

    from paperwire.domain.library_match import featurize, match_library

    seqs, stats, _, _ = _term_stats({**LIBRARY, **NEW})
    empty = featurize([np.zeros(0, np.int64)], stats)
    assert match_library(empty, featurize([seqs["new-nerf"]], stats)).ranked == []
    assert match_library(featurize([seqs["lib-nerf"]], stats), featurize([], stats)).ranked == []


def test_features_split_into_calls_and_kept_rows_equal_features_computed_at_once(monkeypatch):
    import numpy as np

    import paperwire.domain.library_match as library_match
    from paperwire.domain.library_match import candidate_pool, featurize, match_library
    from paperwire.services.library.features import FeatureCache, features_of

    seqs, stats, _, view = _term_stats({**LIBRARY, **NEW})
    ids = [*LIBRARY, *NEW]
    whole = featurize([seqs[p] for p in ids], stats)

    def same(a, b) -> None:
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.keys, b.keys)
        assert np.array_equal(a.weights, b.weights)

    # Rows whose codes would not fit are featurised a few at a time, with the same result.
    n = stats.n_terms
    monkeypatch.setattr(library_match, "CODE_LIMIT", 3 * (n + n * n))
    same(featurize([seqs[p] for p in ids], stats), whole)
    monkeypatch.undo()
    # Kept rows (in any order, for papers asked again) are the rows computed now.
    cache = FeatureCache(max_papers=4)
    cache.features(view, ["new-nerf", "lib-nerf", "2699.99999"])
    found, kept = cache.features(view, [*reversed(ids), "2699.99999"])
    assert found == list(reversed(ids))
    same(kept, features_of(view, list(reversed(ids)))[1])
    assert len(cache._rows) == 4  # bounded: the least recently used rows were dropped
    # A new view (the index moved on) drops every kept row.
    _, _, _, other = _term_stats({**LIBRARY, **NEW})
    cache.features(other, ["new-nerf"])
    assert list(cache._rows) == ["new-nerf"]
    # One candidate pool serves every library alike.
    new = [seqs[p] for p in NEW]
    pool = candidate_pool(featurize(new, stats))
    for library in (["lib-nerf"], ["lib-protein", "lib-nerf2"]):
        lib = featurize([seqs[p] for p in library], stats)
        a, b = match_library(lib, pool), match_library(lib, featurize(new, stats))
        assert a.ranked == b.ranked and a.drivers == b.drivers
        assert np.array_equal(a.score, b.score)
    assert cache.pool(view, list(NEW))[1] is cache.pool(view, list(NEW))[1]


def test_ranker_explains_picks_and_never_returns_excluded_papers():
    candidates = [Candidate("a", "A", "alpha"), Candidate("b", "B", "beta"),
                  Candidate("c", "C", "gamma", authors=("Ada Lovelace",),
                            author_keys=("ada lovelace",))]
    interests = Interests(
        similar=["b", "a"],
        nearest={"a": "s1", "b": "s2"},
        shared_terms={"b": ["neural radiance", "view synthesis"]},
        seed_titles={"s1": "Seed one", "s2": "Seed two"},
        followed_authors={"ada lovelace": "Ada Lovelace"},
    )
    picks = rank_for_you(candidates, interests)
    assert [p.paper_id for p in picks] == ["b", "a", "c"]  # library rank, then the follow
    by_id = {p.paper_id: p for p in picks}
    assert by_id["b"].reasons == ("close to “Seed two” in your library",
                                  "shares your library's terms: neural radiance, view synthesis")
    assert by_id["a"].reasons == ("close to “Seed one” in your library",)
    assert by_id["c"].reasons == ("by Ada Lovelace (you follow)",)
    excluded = rank_for_you(candidates, Interests(similar=["a", "b"], excluded=frozenset({"a"}),
                                                   exclude_keywords=["beta"]))
    assert excluded == []
