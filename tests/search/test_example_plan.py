"""Query-by-example is a search plan: `build_example_plan` and `SearchService.run`."""

from dataclasses import replace
from datetime import date

import pytest

from paperwire.search.plan import MAX_EXAMPLE_LIMIT, SearchFilters, build_example_plan
from tests.search.test_hybrid_and_eval import _service


def test_example_plan_carries_the_examples_and_leaves_them_out_of_the_candidates():
    plan = build_example_plan(["b", "a", "b", ""], mode="semantic",
                              candidates=["c", "a", "d", "c"], limit=7)
    assert plan.more_like == ("b", "a") and plan.by_example and plan.has_text
    assert plan.candidates == ["c", "d"]  # de-duplicated, no example among them
    assert plan.mode == "semantic" and plan.limit == 7 and plan.pool == 7
    assert not plan.query.has_text  # no typed text: the examples are the query
    assert build_example_plan(["a"], candidates=["a"]).no_candidates
    assert build_example_plan(["a"]).candidates is None


def test_example_plan_rejects_a_bad_mode_or_limit():
    with pytest.raises(ValueError, match="mode"):
        build_example_plan(["a"], mode="fuzzy")
    with pytest.raises(ValueError, match="limit"):
        build_example_plan(["a"], limit=0)
    with pytest.raises(ValueError, match="limit"):
        build_example_plan(["a"], limit=MAX_EXAMPLE_LIMIT + 1)


def test_similar_papers_run_the_example_plan(seeded):
    service = _service(seeded)
    similar = service.similar("2503.00003", limit=3)
    results = service.run(build_example_plan(["2503.00003"], mode="hybrid", limit=3))
    assert results.mode == "hybrid" and results.total >= 3
    assert [h.paper_id for h in results.hits] == [h.paper_id for h in similar]
    assert "2503.00003" not in {h.paper_id for h in results.hits}
    assert all(h.semantic_score is not None for h in results.hits)


def test_example_plan_applies_filters_and_pages(seeded):
    service = _service(seeded)
    everything = service.run(build_example_plan(["2501.00001"], mode="hybrid", limit=10))
    assert {h.paper_id for h in everything.hits} == {
        "2502.00002", "2503.00003", "2504.00004", "2505.00005"}
    after = service.run(build_example_plan(
        ["2501.00001"], mode="hybrid", limit=10, filters=SearchFilters(after=date(2025, 3, 1))))
    assert {h.paper_id for h in after.hits} == {"2503.00003", "2504.00004", "2505.00005"}
    within = service.run(build_example_plan(
        ["2501.00001"], mode="keyword", limit=10, candidates=["2505.00005", "2501.00001"],
        filters=SearchFilters(after=date(2025, 3, 1))))
    assert [h.paper_id for h in within.hits] == ["2505.00005"]
    assert within.mode == "keyword" and within.hits[0].keyword_score is not None
    by_date = service.run(replace(build_example_plan(["2501.00001"], limit=10), sort="date"))
    newest_first = [h.paper_id for h in by_date.hits]  # ids follow the publication dates here
    assert newest_first == sorted(newest_first, reverse=True) and len(newest_first) == 4
    second = service.run(replace(build_example_plan(["2501.00001"], limit=2), offset=2))
    assert [h.paper_id for h in second.hits] == [h.paper_id for h in everything.hits[2:4]]


def test_example_plan_without_vectors_is_keyword_and_unknown_examples_find_nothing(seeded):
    plan = build_example_plan(["2501.00001"], mode="hybrid", limit=5)
    results = seeded.search.run(plan)  # the fixture's container has no embeddings
    assert results.mode == "keyword" and results.hits
    assert all(h.keyword_score is not None for h in results.hits)
    nothing = seeded.search.run(build_example_plan(["9999.99999"], limit=5))
    assert nothing.hits == [] and nothing.total == 0
