import math

import pytest

from paperwire.search.metrics import format_line, mrr_at_k, ndcg_at_k, recall_at_k, score_run


def test_ndcg_single_relevant_at_rank_three():
    # DCG = 1/log2(4) = 0.5; ideal DCG = 1.
    assert ndcg_at_k(["a", "b", "c"], {"c": 1}, 10) == pytest.approx(0.5)


def test_ndcg_graded_gains():
    qrels = {"a": 2, "b": 1}
    # ranked b, a: DCG = 1/1 + 3/log2(3); ideal = 3/1 + 1/log2(3)
    expected = (1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3))
    assert ndcg_at_k(["b", "a"], qrels, 10) == pytest.approx(expected)
    assert ndcg_at_k(["a", "b"], qrels, 10) == pytest.approx(1.0)


def test_cutoffs_and_empty():
    assert ndcg_at_k(["x"] * 10 + ["a"], {"a": 1}, 10) == 0.0
    assert ndcg_at_k([], {"a": 1}, 10) == 0.0
    assert mrr_at_k(["x", "a"], {"a": 1}, 10) == 0.5
    assert mrr_at_k(["x", "a"], {"a": 1}, 1) == 0.0
    assert recall_at_k(["a", "x"], {"a": 1, "b": 1, "c": 0}, 100) == 0.5


def test_score_run_and_line_format():
    run = {"q1": ["a"], "q2": ["x", "b"]}
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 0}}
    scores = score_run(run, qrels)
    assert scores["n"] == 2
    assert scores["MRR@10"] == pytest.approx(0.75)
    ndcg = (1 + 1 / math.log2(3)) / 2
    assert format_line("keyword", scores) == (
        f"keyword nDCG@10={ndcg:.3f} nDCG@20={ndcg:.3f} "
        "MRR@10=0.750 R@100=1.000 n=2"
    )
