"""Search you can trust: hybrid never pads, honest counts, similar papers on a partly
embedded corpus, a failing semantic provider retried, hostile input in every mode."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperwire.domain.records import SourceItem
from paperwire.search.vectors import VectorIndex
from paperwire.services import search as search_module
from paperwire.services.embeddings import embed_missing
from paperwire.services.ingest import ingest
from paperwire.services.search import SearchService
from tests.search.conftest import HashingEmbedder, paper
from tests.search.test_search_service import NASTY

MODES = ("keyword", "semantic", "hybrid")


class WideHashingEmbedder(HashingEmbedder):
    """Feature hashing with so many buckets that unrelated words do not collide."""

    model_id = "test-hashing-65536"
    dim = 65536

    def embed(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                digest = hashlib.md5(word[:5].encode()).digest()
                out[row, int.from_bytes(digest[:2], "big")] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


TOPIC_WORDS = [
    "protein folding structure prediction", "reinforcement learning robot control",
    "speech recognition acoustic models", "graph neural networks molecules",
    "federated learning privacy clients", "code generation language models",
    "time series forecasting", "medical image segmentation", "recommender systems users",
    "question answering retrieval",
]


def _corpus() -> list:
    """60 papers: phrase papers, papers with the words apart, and unrelated topics."""
    out = []
    for i in range(8):  # the README example: "diffusion transformer" author:kim ... has:code
        out.append(paper(
            f"2503.{i:05d}", f"Scaling the diffusion transformer {i}",
            "A diffusion transformer backbone for image synthesis at scale.",
            authors=("Min Kim",) if i < 5 else ("Ana Lopez",),
            published_at=datetime(2025, 3, 1 + i, tzinfo=UTC),
            github_repo="https://github.com/k/dit" if i % 2 == 0 else None,
            source_upvotes=i))
    for i in range(12):  # the words, but never side by side
        out.append(paper(
            f"2504.{i:05d}", f"Transformer models for diffusion of information {i}",
            "We study how a transformer predicts the diffusion of news in social graphs.",
            authors=("Jae Kim",), published_at=datetime(2025, 4, 1 + i, tzinfo=UTC),
            github_repo="https://github.com/k/x", source_upvotes=20 - i))
    for i in range(40):
        topic = TOPIC_WORDS[i % len(TOPIC_WORDS)]
        out.append(paper(
            f"2505.{i:05d}", f"Advances in {topic} {i}",
            f"This work studies {topic} with new methods and benchmarks.",
            authors=("Someone Else",), published_at=datetime(2025, 5, 1 + i % 28, tzinfo=UTC),
            source_upvotes=i % 7))
    return out


@pytest.fixture
def precise(container):
    ingest(container.engine, [SourceItem(p) for p in _corpus()], source="test", parameters={})
    embedder = WideHashingEmbedder()
    embed_missing(container.engine, embedder)
    index = VectorIndex(container.engine, embedder.model_id, embedder.dim, refresh_interval_s=0)
    return SearchService(container.engine, lambda: (embedder, index, None),
                         keyword_index=container.keyword_index)


def test_readme_hybrid_example_returns_only_phrase_matches(precise, container):
    query = '"diffusion transformer" author:kim after:2025-01-01 has:code'
    keyword = precise.search(query, mode="keyword", limit=50)
    hybrid = precise.search(query, mode="hybrid", limit=50)
    expected = {"2503.00000", "2503.00002", "2503.00004"}  # Min Kim, with code
    assert {h.paper_id for h in keyword.hits} == expected and keyword.total == 3
    assert {h.paper_id for h in hybrid.hits} == expected and hybrid.total == 3
    assert hybrid.mode == "hybrid"


def test_junk_query_finds_nothing_in_any_mode(precise):
    for mode in MODES:
        results = precise.search("asdkjhqwe zzqxv", mode=mode, limit=50)
        assert results.mode == mode
        assert results.hits == [] and results.total == 0, mode


def test_semantic_finds_the_topic_and_stops_at_the_floor(precise):
    results = precise.search("protein folding structure", mode="semantic", limit=50)
    assert results.total == len(results.hits) > 0
    assert results.total < 60  # never padded to a fixed size
    assert all("protein" in h.paper_id or h.paper_id.startswith("2505.") for h in results.hits)
    assert results.hits[0].paper_id in {f"2505.{i:05d}" for i in range(0, 40, 10)}


def test_hybrid_counts_are_honest_and_do_not_change_with_the_sort(precise):
    query = "diffusion transformer"
    keyword = precise.search(query, mode="keyword", limit=5)
    assert keyword.total == 20
    totals = {}
    for mode in ("keyword", "hybrid"):
        for sort in ("relevance", "date", "upvotes"):
            results = precise.search(query, mode=mode, sort=sort, limit=7)
            totals[mode, sort] = results.total
            assert len(results.hits) == 7
            if sort == "date":
                days = [h.paper_id for h in results.hits]
                assert days == sorted(days, reverse=True)  # ids follow the dates here
        # every page of every sort is drawn from the same set
        seen = [h.paper_id for off in range(0, 40, 7)
                for h in precise.search(query, mode=mode, sort="date", limit=7,
                                        offset=off).hits]
        assert len(seen) == len(set(seen)) == totals[mode, "date"]
    assert len({totals["keyword", s] for s in ("relevance", "date", "upvotes")}) == 1
    assert len({totals["hybrid", s] for s in ("relevance", "date", "upvotes")}) == 1
    assert totals["hybrid", "relevance"] >= totals["keyword", "relevance"]


def test_similar_papers_on_a_two_percent_embedded_corpus_share_the_key_terms(container):
    nvs = [paper(f"2506.{i:05d}", f"Novel view synthesis with radiance fields {i}",
                 "Novel view synthesis from sparse images with neural radiance fields and "
                 "gaussian splatting renders unseen camera views.",
                 published_at=datetime(2025, 6, 10, tzinfo=UTC)) for i in range(10)]
    other = [paper(f"2608.{i:05d}", f"Advances in {TOPIC_WORDS[i % 10]} {i}",
                   f"This work studies {TOPIC_WORDS[i % 10]} with new views and methods.",
                   published_at=datetime(2026, 8, 1, tzinfo=UTC)) for i in range(90)]
    ingest(container.engine, [SourceItem(p) for p in nvs + other], source="t", parameters={})
    embedder = HashingEmbedder()
    embed_missing(container.engine, embedder, limit=2)  # 2 of 100: the newest, off-topic
    index = VectorIndex(container.engine, embedder.model_id, embedder.dim, refresh_interval_s=0)
    assert index.coverage() == (2, 100)
    service = SearchService(container.engine, lambda: (embedder, index, None),
                            keyword_index=container.keyword_index)
    hits = service.similar("2506.00003", limit=6)
    assert len(hits) == 6 and "2506.00003" not in {h.paper_id for h in hits}
    on_topic = [h for h in hits if h.paper_id.startswith("2506.")]
    assert len(on_topic) >= 5, [h.paper_id for h in hits]


class FlakyProvider:
    def __init__(self) -> None:
        self.calls = 0
        self.embedder = HashingEmbedder()

    def __call__(self):
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("model file missing")
        return self.embedder, self.index, None


def test_a_failing_semantic_provider_is_retried_later(seeded, monkeypatch):
    provider = FlakyProvider()
    embed_missing(seeded.engine, provider.embedder)
    provider.index = VectorIndex(seeded.engine, provider.embedder.model_id,
                                 provider.embedder.dim, refresh_interval_s=0)
    service = SearchService(seeded.engine, provider)
    first = service.search("graph molecules", mode="hybrid")
    assert first.mode == "keyword" and "model file missing" in first.notice
    again = service.search("graph molecules", mode="hybrid")  # within the retry delay
    assert again.mode == "keyword" and provider.calls == 1
    monkeypatch.setattr(search_module, "SEMANTIC_RETRY_S", 0.0)  # the delay has passed
    later = service.search("graph molecules", mode="hybrid")
    assert later.mode == "hybrid" and later.notice is None and provider.calls == 2
    assert service.similar("2502.00002", limit=2)[0].semantic_score is not None


def test_a_model_that_fails_during_a_search_falls_back_and_recovers(seeded, monkeypatch):
    embedder = HashingEmbedder()
    embed_missing(seeded.engine, embedder)
    index = VectorIndex(seeded.engine, embedder.model_id, embedder.dim, refresh_interval_s=0)
    broken = {"on": True}

    class Sometimes:
        model_id, dim = embedder.model_id, embedder.dim

        def embed(self, texts):
            if broken["on"]:
                raise RuntimeError("out of memory")
            return embedder.embed(texts)

    calls = []

    def provider():
        calls.append(1)
        return Sometimes(), index, None

    service = SearchService(seeded.engine, provider)
    failed = service.search("speech", mode="semantic")
    assert failed.mode == "keyword" and "out of memory" in failed.notice
    assert failed.hits and failed.hits[0].paper_id == "2503.00003"
    broken["on"] = False
    monkeypatch.setattr(search_module, "SEMANTIC_RETRY_S", 0.0)
    assert service.search("speech", mode="semantic").mode == "semantic" and len(calls) == 2


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=NASTY, mode=st.sampled_from(MODES))
def test_hostile_queries_with_embeddings_never_raise(precise, query, mode):
    results = precise.search(query, mode=mode, limit=5)
    assert isinstance(results.hits, list) and results.total >= len(results.hits)
    for hit in results.hits:
        if hit.snippet:
            assert not re.search(r"<(?!/?mark>)", hit.snippet)
    np.testing.assert_equal(results.total >= 0, True)


def test_digest_topics_use_the_same_precision_rule(precise, container):
    from sqlalchemy import select

    from paperwire.services.digests.builder import run_search
    from paperwire.store.tables import papers

    with container.engine.connect() as conn:
        window = list(conn.execute(select(papers.c.id)).scalars())
    ids = run_search(precise, "protein folding", paper_ids=window)
    keyword = precise.search("protein folding", mode="keyword", limit=50)
    assert ids and set(ids) == {h.paper_id for h in keyword.hits}  # nothing padded in
    assert run_search(precise, "asdkjhqwe zzqxv", paper_ids=window) == []


def test_semantic_mode_on_a_two_percent_embedded_corpus_finds_the_unembedded_papers(container):
    """While embeddings are partial, semantic mode ranks papers without a vector by their
    keyword score next to the embedded ones above the floor, rather than hiding them."""
    nvs = [paper(f"2506.{i:05d}", f"Novel view synthesis with radiance fields {i}",
                 "Novel view synthesis from sparse images with neural radiance fields renders "
                 "unseen camera poses.", published_at=datetime(2025, 6, 1 + i, tzinfo=UTC))
           for i in range(20)]
    other = [paper(f"2608.{i:05d}", f"Advances in {TOPIC_WORDS[i % 10]} {i}",
                   f"This work studies {TOPIC_WORDS[i % 10]} with new methods.",
                   published_at=datetime(2026, 8, 1 + i % 28, tzinfo=UTC)) for i in range(980)]
    ingest(container.engine, [SourceItem(p) for p in nvs + other], source="t", parameters={})
    embedder = WideHashingEmbedder()
    embed_missing(container.engine, embedder, limit=20)  # 2%: the newest, all off-topic
    index = VectorIndex(container.engine, embedder.model_id, embedder.dim, refresh_interval_s=0)
    assert index.coverage() == (20, 1000)
    assert all(index.vector_for(p.id) is None for p in nvs)
    service = SearchService(container.engine, lambda: (embedder, index, None),
                            keyword_index=container.keyword_index)
    query = "radiance fields view synthesis"
    results = service.search(query, mode="semantic", limit=10)
    assert results.mode == "semantic" and results.notice is None
    assert results.embedding_coverage == (20, 1000)  # the progress, once, for the header
    assert [h.paper_id[:4] for h in results.hits] == ["2506"] * 10
    assert results.total == 20  # every on-topic paper; no off-topic one clears the floor
    assert all(h.keyword_score is not None and h.snippet for h in results.hits)
    # the same set under every sort, page after page
    by_date = [h.paper_id for off in range(0, 30, 10)
               for h in service.search(query, mode="semantic", sort="date", limit=10,
                                       offset=off).hits]
    assert by_date == sorted({p.id for p in nvs}, reverse=True)
    assert service.search(query, mode="semantic", sort="upvotes").total == 20
    # a junk query still finds nothing, and an embedded on-topic paper still counts
    assert service.search("asdkjhqwe zzqxv", mode="semantic").total == 0
    embed_missing(container.engine, embedder)  # now every paper: plain semantic ranking
    index.refresh(force=True)
    full = service.search(query, mode="semantic", limit=10)
    assert full.embedding_coverage == (1000, 1000)
    assert [h.paper_id[:4] for h in full.hits] == ["2506"] * 10
    # every embedded: the date order still pages over the whole set, not its best page
    pages = range(0, full.total, 10)
    relevance = {h.paper_id for off in pages
                 for h in service.search(query, mode="semantic", limit=10, offset=off).hits}
    by_date = [h.paper_id for off in pages
               for h in service.search(query, mode="semantic", sort="date", limit=10,
                                       offset=off).hits]
    assert len(by_date) == full.total > 10 and set(by_date) == relevance


@pytest.fixture
def partial(container):
    """The same 60 papers, half of them embedded: semantic mode's mixed path runs."""
    ingest(container.engine, [SourceItem(p) for p in _corpus()], source="test", parameters={})
    embedder = WideHashingEmbedder()
    embed_missing(container.engine, embedder, limit=30)
    index = VectorIndex(container.engine, embedder.model_id, embedder.dim, refresh_interval_s=0)
    assert index.coverage() == (30, 60)
    return SearchService(container.engine, lambda: (embedder, index, None),
                         keyword_index=container.keyword_index)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=NASTY, mode=st.sampled_from(MODES), with_filter=st.booleans())
def test_hostile_queries_on_partial_embeddings_give_results_or_a_message(
    partial, query, mode, with_filter
):
    from paperwire.search.plan import EMPTY_QUERY_NOTICE, SearchFilters
    from paperwire.search.query_parser import parse_query

    filters = SearchFilters(has_code=True) if with_filter else None
    totals = set()
    for sort in ("relevance", "date", "upvotes"):
        results = partial.search(query, mode=mode, sort=sort, filters=filters, limit=5)
        assert results.mode == mode  # the semantic side took part: nothing fell over
        assert len(results.hits) <= 5 and results.total >= len(results.hits), (query, sort)
        assert results.hits or results.total == 0 or not query.strip()
        parsed = parse_query(query)
        if not (parsed.has_text or parsed.has_filters or with_filter):  # nothing to search for
            assert results.total == 0 and EMPTY_QUERY_NOTICE in results.notice
        for hit in results.hits:
            if hit.snippet:
                assert not re.search(r"<(?!/?mark>)", hit.snippet)
        totals.add(results.total)
    assert len(totals) == 1, totals  # the count never depends on the sort


def test_accented_query_words_match_folded_words(container):
    """The keyword index folds diacritics like FTS5 does: a query typed with accents finds
    the paper (and marks it), under every sort, with the same count."""
    ingest(container.engine, [SourceItem(paper(
        "2507.00001", "Schrödinger bridges for generative modelling",
        "We learn Schrödinger bridges between data distributions.",
        published_at=datetime(2025, 7, 1, tzinfo=UTC)))], source="t", parameters={})
    service = container.search
    for query in ("Schrödinger bridge", "schrodinger bridges", "SCHRÖDINGER"):
        for sort in ("relevance", "date"):
            results = service.search(query, mode="keyword", sort=sort)
            assert [h.paper_id for h in results.hits] == ["2507.00001"], (query, sort)
            assert results.total == 1
    marked = service.search("Schrödinger", mode="keyword").hits[0].snippet
    assert "<mark>Schrödinger</mark>" in marked


def test_a_stopword_only_query_pages_the_same_set_under_every_sort(precise):
    """"the" is searched for anyway (nothing else was typed); sorted by date or upvotes the
    pages come from the same matcher as the count (PostgreSQL's English full-text
    configuration would drop the word and list nothing)."""
    totals = set()
    for sort in ("relevance", "date", "upvotes"):
        seen = [h.paper_id for off in range(0, 42, 7)
                for h in precise.search("the", mode="keyword", sort=sort, limit=7,
                                        offset=off).hits]
        results = precise.search("the", mode="keyword", sort=sort, limit=7)
        assert results.total == len(seen) == len(set(seen)) > 7, sort
        totals.add(results.total)
    assert len(totals) == 1
