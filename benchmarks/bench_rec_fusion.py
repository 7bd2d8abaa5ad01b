"""Query-by-example fusion on an eval-rec folder, one import: modes, naive RRF, weights.

    PAPERWIRE_DATA_DIR=benchmarks/out/data .venv/bin/python benchmarks/bench_rec_fusion.py \\
        benchmarks/out/rec-sample-rec-dev-r100-d3000-s0 1
"""
import sys
from pathlib import Path

from paperwire.cli.search import _eval_container
from paperwire.domain import fusion
from paperwire.search.metrics import format_rec_line
from paperwire.services import evaluation
from paperwire.services import rec_evaluation as rec

folder = Path(sys.argv[1])
k_size = int(sys.argv[2]) if len(sys.argv) > 2 else 1


def rrf(library, candidates, services, depth):
    s = services.search
    lists = [s.more_like(library, mode=m, candidates=candidates, limit=100)
             for m in ("keyword", "semantic")]
    score = {}
    for hits in lists:
        for r, h in enumerate(hits):
            score[h.paper_id] = score.get(h.paper_id, 0.0) + 1.0 / (60 + r + 1)
    return sorted(score, key=lambda p: -score[p])[:depth]


rec.register_rec_mode("naive-rrf", rrf)
with _eval_container("") as (container, cache):
    import os
    cache = Path(os.environ["PAPERWIRE_DATA_DIR"]) / "embedding-cache"
    report = rec.evaluate_rec(container, folder, ["keyword", "semantic", "hybrid", "naive-rrf"],
                              library_size=k_size, cache_dir=cache)
    for m, sc in report.scores.items():
        print(format_rec_line(m, sc), flush=True)
    evaluation.ingest = lambda *a, **k: None
    for w in (0.3, 0.4, 0.6, 0.7):
        fusion.EXAMPLE_WEIGHT = w
        report = rec.evaluate_rec(container, folder, ["hybrid"], library_size=k_size,
                                  cache_dir=None)
        print(format_rec_line(f"hybrid-w{w}", report.scores["hybrid"]), flush=True)
