from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text, update

from paperwire.domain.records import SourceItem
from paperwire.search.plan import SearchFilters
from paperwire.services.ingest import ingest
from paperwire.services.search import SearchService
from paperwire.store.db import is_sqlite
from paperwire.store.papers import upsert_papers
from paperwire.store.tables import papers
from tests.search.conftest import paper


def ids(results):
    return [h.paper_id for h in results.hits]


def test_keyword_search_ranks_title_matches_and_marks_snippets(seeded):
    results = seeded.search.search("conformers speech", mode="keyword")
    assert results.mode == "keyword"
    assert ids(results)[0] == "2503.00003"
    assert results.total == len(results.hits) == 1
    hit = results.hits[0]
    assert hit.keyword_score and hit.keyword_score > 0 and hit.semantic_score is None
    assert "<mark>" in hit.snippet and "speech" in hit.snippet.lower()


def test_or_semantics_and_stemming(seeded):
    # "transformer" matches "transformers" (stemming); any word may match.
    results = seeded.search.search("transformer molecules", mode="keyword")
    assert {"2501.00001", "2502.00002", "2503.00003", "2505.00005"} <= set(ids(results))


def test_phrase_requires_adjacent_words(seeded):
    assert ids(seeded.search.search('"language models"', mode="keyword")) == ["2505.00005"]
    assert ids(seeded.search.search('"models language"', mode="keyword")) == []


def test_snippets_are_html_safe(seeded):
    results = seeded.search.search("diffusion bold claims", mode="keyword")
    hit = next(h for h in results.hits if h.paper_id == "2504.00004")
    assert "<script>" not in hit.snippet and "<b>" not in hit.snippet
    assert "&amp;" in hit.snippet  # escaped (PostgreSQL's ts_headline also drops tags)
    assert "<mark>" in hit.snippet
    stripped = hit.snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped and ">" not in stripped


@pytest.mark.parametrize(
    ("query", "filters", "expected"),
    [
        ("transformers author:zhang", None, {"2501.00001", "2503.00003"}),
        ('transformers author:"alice zhang"', None, {"2501.00001", "2503.00003"}),
        ("transformers", SearchFilters(author="Dan Brown"), {"2503.00003"}),
        ("transformers cat:cs.CL", None, {"2503.00003", "2505.00005"}),
        ("transformers cat:eess", None, {"2503.00003"}),
        ("transformers", SearchFilters(category="cs.cv"), {"2501.00001"}),
        ("transformers after:2025-03-01", None, {"2503.00003", "2504.00004", "2505.00005"}),
        ("transformers before:2025-03-10", None, {"2501.00001"}),
        ("transformers", SearchFilters(after=date(2025, 3, 1), before=date(2025, 5, 1)),
         {"2503.00003", "2504.00004"}),
        ("transformers has:code", None, {"2501.00001", "2505.00005"}),
        ("transformers", SearchFilters(has_code=True, category="cs.CL"), {"2505.00005"}),
        ("transformers", SearchFilters(organization="NVIDIA"), {"2501.00001"}),
        ("transformers", SearchFilters(organization="google"), {"2503.00003"}),
        ("transformers", SearchFilters(organization="nobody"), set()),
    ],
)
def test_filters(seeded, query, filters, expected):
    results = seeded.search.search(query, mode="keyword", filters=filters)
    assert set(ids(results)) == expected
    assert results.total == len(expected)


def test_filter_only_query_lists_newest_first(seeded):
    results = seeded.search.search("author:zhang", mode="hybrid")
    assert ids(results) == ["2503.00003", "2501.00001"] and results.total == 2


def test_sort_by_date_and_upvotes(seeded):
    by_date = seeded.search.search("transformers", mode="keyword", sort="date")
    assert ids(by_date) == ["2505.00005", "2504.00004", "2503.00003", "2501.00001"]
    by_votes = seeded.search.search("transformers", mode="keyword", sort="upvotes")
    assert ids(by_votes)[:3] == ["2505.00005", "2501.00001", "2503.00003"]


def test_paging(seeded):
    everything = ids(seeded.search.search("transformers", mode="keyword", limit=10))
    first = seeded.search.search("transformers", mode="keyword", limit=2)
    second = seeded.search.search("transformers", mode="keyword", limit=2, offset=2)
    assert ids(first) + ids(second) == everything
    assert first.total == 4


def test_empty_query_gives_a_notice(seeded):
    results = seeded.search.search("   ")
    assert results.hits == [] and results.total == 0 and results.notice


def test_invalid_arguments_raise_value_error(seeded):
    with pytest.raises(ValueError, match="mode"):
        seeded.search.search("x", mode="fuzzy")
    with pytest.raises(ValueError, match="sort"):
        seeded.search.search("x", sort="random")
    with pytest.raises(ValueError, match="limit"):
        seeded.search.search("x", limit=0)


def test_hybrid_without_embeddings_falls_back_with_notice(seeded):
    results = seeded.search.search("graph molecules")
    assert results.mode == "keyword" and ids(results)[0] == "2502.00002"
    assert "semantic search unavailable" in results.notice


def test_similar_without_embeddings_uses_title_words(seeded):
    hits = seeded.search.similar("2501.00001")
    assert hits and all(h.paper_id != "2501.00001" for h in hits)
    with pytest.raises(KeyError):
        seeded.search.similar("9999.99999")


def _fts_rows(conn, query):
    if is_sqlite(conn.engine):
        return conn.execute(
            text("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH :q"), {"q": query}
        ).scalar_one()
    return conn.execute(
        text("SELECT count(*) FROM papers WHERE search_vector @@ plainto_tsquery('english', :q)"),
        {"q": query},
    ).scalar_one()


def test_index_follows_the_paper_in_the_same_transaction(container):
    engine = container.engine
    with pytest.raises(RuntimeError), engine.begin() as conn:
        upsert_papers(conn, [paper("2506.00006", "Quasicrystal lattices", "Aperiodic tilings.")])
        assert _fts_rows(conn, "quasicrystal") == 1  # visible inside the transaction
        raise RuntimeError("roll back")
    with engine.connect() as conn:
        assert _fts_rows(conn, "quasicrystal") == 0
        assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == 0
    ingest(engine, [SourceItem(paper("2506.00006", "Quasicrystal lattices", "Tilings."))],
           source="test", parameters={})
    assert ids(container.search.search("quasicrystal", mode="keyword")) == ["2506.00006"]
    with engine.begin() as conn:  # every writer of paper text moves modified_at, as upsert does
        conn.execute(
            update(papers).where(papers.c.id == "2506.00006")
            .values(title="Penrose tiles", modified_at=datetime.now(UTC))
        )
        assert _fts_rows(conn, "penrose") == 1
    assert ids(container.search.search("quasicrystal", mode="keyword")) == []
    assert ids(container.search.search("penrose", mode="keyword")) == ["2506.00006"]
    with engine.begin() as conn:
        conn.execute(delete(papers).where(papers.c.id == "2506.00006"))
        assert _fts_rows(conn, "penrose") == 0


NASTY = st.one_of(
    st.text(max_size=300),
    st.sampled_from([
        "", " ", '"', '""', '"unbalanced', "NEAR(a b", "NEAR(", "*", "-", "AND", "OR NOT",
        "a AND OR b", "title:x", "^start", "{col}: x", "'; DROP TABLE papers; --",
        "1' OR '1'='1", "\x00\x01\x1f", "😀🚀", "مرحبا بالعالم", "author:", "cat:\"",
        "before:9999-99-99",
        "x" * 10_000, "word " * 2_500, "a:b:c", "\\", "%_", "&<>", "transformers -diffusion",
    ]),
    st.lists(st.sampled_from(['"', "NEAR(", "*", "-", "AND", "OR", "(", ")", ":", "author:",
                              "has:code", "transformers", "😀", "\u202e", "'"]), max_size=20)
    .map(" ".join),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=NASTY, mode=st.sampled_from(["keyword", "semantic", "hybrid"]))
def test_hostile_queries_never_raise(seeded, query, mode):
    results = seeded.search.search(query, mode=mode, limit=5)
    assert isinstance(results.hits, list) and results.total >= 0
    for hit in results.hits:
        if hit.snippet:
            stripped = hit.snippet.replace("<mark>", "").replace("</mark>", "")
            assert "<" not in stripped


def test_service_has_the_public_api(container):
    assert isinstance(container.search, SearchService)


def _filler(n: int) -> str:
    """n distinct words no paper contains."""
    letters = "bcdfghjklmnp"
    return " ".join(f"zq{letters[i // 12]}{letters[i % 12]}" for i in range(n))


def test_a_long_pasted_query_uses_every_word_and_says_nothing_was_dropped(seeded):
    # The paper's only matching word comes after the 80th distinct word.
    results = seeded.search.search(f"{_filler(80)} conformers", mode="keyword")
    assert ids(results) == ["2503.00003"]
    assert not results.notice


def test_a_long_query_with_a_phrase_says_which_words_were_used(seeded):
    results = seeded.search.search(f'"speech recognition" {_filler(80)}', mode="keyword")
    assert ids(results) == ["2503.00003"]
    assert results.notice and "first 64 words" in results.notice
