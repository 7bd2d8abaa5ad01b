"""The best k of a score array: exact at every size, also with many equal scores."""

import numpy as np
import pytest

from paperwire.search.arrays import top_k


@pytest.mark.parametrize("n", [1, 50, 20_000, 80_000])
@pytest.mark.parametrize("kind", ["distinct", "mostly zero", "few values"])
def test_top_k_is_the_k_best_best_first(n, kind):
    rng = np.random.default_rng(n)
    scores = rng.standard_normal(n).astype(np.float32)
    if kind == "mostly zero":  # BM25 scores: most papers match no query word
        scores = np.where(rng.random(n) < 0.95, 0.0, np.abs(scores)).astype(np.float32)
    elif kind == "few values":
        scores = np.round(scores, 1)
    for k in sorted({1, 7, 300, 1200, n - 1, n, n + 5}):
        if k <= 0:
            continue
        got = top_k(scores, k)
        assert len(got) == min(k, n) and len(set(got.tolist())) == len(got)
        assert np.array_equal(scores[got], np.sort(scores)[::-1][: len(got)])
        ordered = [(-scores[i], i) for i in got.tolist()]
        assert ordered == sorted(ordered)  # best first, equal scores in index order
        if kind == "distinct":
            assert np.array_equal(got, np.argsort(-scores, kind="stable")[:k])


def test_top_k_of_nothing():
    assert top_k(np.zeros(10, dtype=np.float32), 0).size == 0
    assert top_k(np.zeros(0, dtype=np.float32), 5).size == 0
