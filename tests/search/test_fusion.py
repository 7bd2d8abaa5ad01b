import pytest

from paperwire.domain.fusion import (
    LONG_WEIGHT,
    SHORT_WEIGHT,
    fuse,
    keyword_weight,
    normalize_max,
    normalize_min_max,
)


def test_keyword_weight_falls_with_query_length():
    assert keyword_weight(1) == keyword_weight(6) == SHORT_WEIGHT
    assert keyword_weight(200) == LONG_WEIGHT
    middle = keyword_weight(20)
    assert LONG_WEIGHT < middle < SHORT_WEIGHT
    assert keyword_weight(10) > keyword_weight(30)


def test_normalisers():
    assert normalize_max({"a": 4.0, "b": 1.0}) == {"a": 1.0, "b": 0.25}
    assert normalize_max({"a": 0.0}) == {"a": 0.0}
    assert normalize_min_max({"a": 0.5, "b": 0.3, "c": 0.1}) == pytest.approx(
        {"a": 1.0, "b": 0.5, "c": 0.0}
    )
    assert normalize_min_max({"a": 0.2, "b": 0.2}) == {"a": 1.0, "b": 1.0}
    assert normalize_min_max({}) == {}


def test_fuse_combines_and_breaks_keyword_ties_with_semantics():
    keyword = {"a": 10.0, "b": 10.0, "c": 2.0}
    semantic = {"a": 0.2, "b": 0.8, "d": 0.9}
    fused = fuse(keyword, semantic, keyword_share=0.75)
    order = [f.paper_id for f in fused]
    assert order[0] == "b"  # keyword tie broken by the dense score
    assert set(order) == {"a", "b", "c", "d"}
    top = fused[0]
    assert top.keyword == 10.0 and top.semantic == 0.8
    assert top.score == pytest.approx(0.75 * 1.0 + 0.25 * (0.8 - 0.2) / (0.9 - 0.2))


def test_fuse_extremes_reduce_to_one_ranker():
    keyword = {"a": 3.0, "b": 2.0, "c": 1.0}
    semantic = {"a": 0.1, "b": 0.2, "c": 0.3}
    assert [f.paper_id for f in fuse(keyword, semantic, keyword_share=1.0)] == ["a", "b", "c"]
    assert [f.paper_id for f in fuse(keyword, semantic, keyword_share=0.0)] == ["c", "b", "a"]


def test_paper_without_embedding_keeps_its_keyword_score():
    fused = fuse({"a": 2.0, "b": 1.0}, {"b": 0.9}, keyword_share=0.5)
    by_id = {f.paper_id: f for f in fused}
    assert by_id["a"].score == 1.0 and by_id["a"].semantic is None


def test_fuse_rejects_bad_share():
    with pytest.raises(ValueError):
        fuse({}, {}, keyword_share=1.5)


def test_semantic_floor_is_relative_to_the_background_and_robust():
    import math

    from paperwire.domain.fusion import background, chance_ceiling, semantic_floor

    unrelated = [0.05 + 0.01 * ((i * 37) % 11 - 5) for i in range(500)]
    centre, spread = background(unrelated + [0.9] * 20)  # a few on-topic papers sampled
    assert abs(centre - 0.05) < 0.011 and spread < 0.07
    floor = semantic_floor(centre, spread, 80_000)
    assert max(unrelated) < floor < 0.9
    assert math.isclose(semantic_floor(0.0, 0.1, 80_000), (math.sqrt(2 * math.log(80_000)) + 1)
                        * 0.1)
    assert chance_ceiling([0.3, 0.36, 0.25], [0.05, 0.04, 0.06]) == 0.36 + 0.05
    assert chance_ceiling([], []) == math.inf


def test_example_terms_prefer_specific_words():
    from paperwire.domain.example_query import count_terms, query_words, select_terms

    words = ["the", "model", "splatting", "model", "splatting", "radiance", "model", "of",
             "2024"]
    pairs = [(w, w) for w in words]
    counts, surface = count_terms(pairs, frozenset({"the", "of"}))
    assert "the" not in counts and "2024" not in counts and counts["model"] == 3
    terms = select_terms(counts, surface, {"model": 9000, "splatting": 40, "radiance": 90},
                         10_000, max_terms=2)
    assert [t.word for t in terms] == ["splatting", "radiance"]
    assert query_words(terms) == ["splatting", "splatting", "radiance"]


def test_a_pasted_abstract_leans_on_the_dense_side_and_keywords_still_decide_short_queries():
    # Measured (RESULTS.md, issue 13, dense-dev): for whole abstracts any keyword share
    # above 0.2 fell below semantic alone on the topic-graded sets.
    assert keyword_weight(60) == keyword_weight(500) == LONG_WEIGHT <= 0.2
    assert keyword_weight(8) == SHORT_WEIGHT == 0.9
    keyword = {"a": 10.0, "b": 8.0, "c": 1.0}  # flat BM25, as whole-abstract queries give
    semantic = {"a": 0.40, "b": 0.70, "c": 0.35}
    long_query = [f.paper_id for f in fuse(keyword, semantic, keyword_share=keyword_weight(64))]
    short_query = [f.paper_id for f in fuse(keyword, semantic, keyword_share=keyword_weight(3))]
    assert long_query[0] == "b" and short_query[0] == "a"


def test_query_by_example_share_shrinks_the_dense_side_with_coverage():
    from paperwire.domain.fusion import EXAMPLE_WEIGHT, example_keyword_share

    assert example_keyword_share(1.0) == EXAMPLE_WEIGHT == 0.5
    assert example_keyword_share(0.0) == 1.0
    assert example_keyword_share(0.02) == pytest.approx(0.99)
