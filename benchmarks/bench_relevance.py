"""Relevance of every search mode on a BEIR folder, next to arxiv-sanity-lite's scorer.

    .venv/bin/python benchmarks/bench_relevance.py [BEIR_DIR] [--modes keyword,semantic,hybrid]
        [--database-url URL] [--baseline-queries N]

The product figures come from `paperwire.services.evaluation.evaluate` (the code behind
`paperwire eval`): the corpus is ingested and embedded through the product's own paths
into a temporary database, and every query goes through SearchService.search.
The baseline is measured in the same run over the same corpus and queries.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from arxiv_sanity_scorer import ScanDoc, search_rank  # noqa: E402

from paperwire.config import load_settings  # noqa: E402
from paperwire.search.beir import read_corpus, read_qrels, read_queries  # noqa: E402
from paperwire.search.metrics import format_line, score_run  # noqa: E402
from paperwire.services.evaluation import evaluate  # noqa: E402
from paperwire.wiring import build_container  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_dir = ROOT.parent / "shared/relevance/keywords-dev"
    parser.add_argument("beir", nargs="?", default=str(default_dir))
    parser.add_argument("--modes", default="keyword,semantic,hybrid")
    parser.add_argument("--database-url", default="", help="an EMPTY database")
    parser.add_argument("--baseline-queries", type=int, default=0,
                        help="score the baseline on a random sample of N queries (0 = all)")
    args = parser.parse_args()
    folder = Path(args.beir)
    modes = [m for m in args.modes.split(",") if m]
    user = load_settings()
    with tempfile.TemporaryDirectory(prefix="bench-relevance-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = user.model_copy(update={"data_dir": Path(tmp), "database_url": url})
        container = build_container(settings)
        container.prepare_database()
        started = time.perf_counter()
        report = evaluate(container, folder, modes, cache_dir=user.data_dir / "embedding-cache")
        elapsed = time.perf_counter() - started
        backend = container.engine.dialect.name
        container.close()
    print(f"# {folder.name}: {report.docs} docs, backend {backend}, embedder {user.embedder}, "
          f"{elapsed:.0f} s for indexing + all modes")
    for mode in modes:
        if mode in report.notices:
            print(f"note ({mode}): {report.notices[mode]}")
        print(format_line(mode, report.scores[mode]))

    docs = [ScanDoc(d.id, d.title, d.text, "") for d in read_corpus(folder)]
    queries, qrels = read_queries(folder), read_qrels(folder)
    judged = [q for q in queries if q in qrels]
    if args.baseline_queries and args.baseline_queries < len(judged):
        judged = random.Random(0).sample(judged, args.baseline_queries)
    started = time.perf_counter()
    run = {q: search_rank(docs, queries[q]) for q in judged}
    per_query = (time.perf_counter() - started) / max(1, len(judged))
    scores = score_run(run, {q: qrels[q] for q in judged})
    print(format_line("arxiv-sanity-lite", scores) + f"  ({per_query * 1000:.0f} ms/query)")


if __name__ == "__main__":
    main()
