"""Search latency, warm and in-process: keyword, hybrid (with query embedding), similar.

    .venv/bin/python benchmarks/bench_search_latency.py [--db benchmarks/out/latency.db]
        [--scale 1000000] [--baseline-queries 20] [--no-embed] [--synthetic-vectors]
    .venv/bin/python benchmarks/bench_search_latency.py --no-embed --synthetic-vectors \
        --baseline-queries 0 --queries 200 --compare /tmp/old-checkout/src --rounds 3

The database is built once from the keywords-dev corpus through the product's ingest
and embedding paths (embeddings come from the content-hash cache when present) and kept
under benchmarks/out/. `--scale N` grows a copy of it to N papers with synthetic copies
(rewritten ids, same text and vectors) before measuring, and states the memory used.
The 600 dev queries are run once each per mode; arxiv-sanity-lite's scorer is timed in
the same run on a sample of them (it takes about a second per query).

`--synthetic-vectors` stores a random unit vector (seeded) for every paper that has none,
under the configured embedder's model id: latency only, never quality (no paper clears the
semantic floor with them; the query is still embedded by the real model). `--compare SRC`
measures another checkout's code (its `src/`, on PYTHONPATH) and this one alternately,
`--rounds` times each, on the same database, in child processes, and prints the p50 of
each and their ratio (this / other): on a shared, noisy machine the ratio is the figure.
Each side keeps its own copy of the index snapshots (`<snapshots>-this`, `-other`).
`--cached-only` builds a new `--db` from only the corpus papers whose vector the
content-hash cache (`--embed-cache`) holds: real vectors, no model run (a subset while the
cache is still being filled; the whole corpus once it is).
`--check SRC` writes every measured result (ids, totals, scores to 4 decimals, snippets,
in every mode, and the similar-papers lists) of this checkout and of another, in child
processes on the same database, and reports any query whose results differ: a speed-up
must not change them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from arxiv_sanity_scorer import ScanDoc, search_rank  # noqa: E402
from sqlalchemy import text  # noqa: E402

from paperwire.config import load_settings  # noqa: E402
from paperwire.domain.records import PaperRecord, SourceItem  # noqa: E402
from paperwire.search.beir import read_corpus, read_queries  # noqa: E402
from paperwire.services.ingest import ingest  # noqa: E402
from paperwire.wiring import build_container  # noqa: E402

DEV = ROOT.parent / "shared/relevance/keywords-dev"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def grow(db: Path, target: int) -> Path:
    """A copy of `db` with synthetic copies of its papers (and vectors) up to `target`."""
    scaled = db.with_name(f"{db.stem}-{target}.db")
    if scaled.exists():
        return scaled
    tmp = scaled.with_suffix(".tmp")
    shutil.copyfile(db, tmp)
    import sqlite3

    conn = sqlite3.connect(tmp)
    def count() -> int:
        return conn.execute("SELECT count(*) FROM papers").fetchone()[0]

    cols = [r[1] for r in conn.execute("PRAGMA table_info(papers)") if r[1] != "id"]
    copy = 1
    while (need := target - count()) > 0:
        col_list = ", ".join(cols)
        conn.execute(
            f"INSERT INTO papers (id, {col_list}) SELECT id || '-c{copy}', {col_list} FROM papers "
            f"WHERE id NOT LIKE '%-c%' ORDER BY rowid LIMIT {need}"
        )
        conn.execute(
            "INSERT INTO paper_embeddings "
            "(paper_id, model_id, dim, vector, content_hash, created_at) "
            f"SELECT paper_id || '-c{copy}', model_id, dim, vector, content_hash, created_at "
            f"FROM paper_embeddings WHERE paper_id || '-c{copy}' IN (SELECT id FROM papers)"
            " AND paper_id NOT LIKE '%-c%'"
        )
        conn.commit()
        print(f"  grown to {count()} papers", flush=True)
        copy += 1
    conn.close()
    tmp.rename(scaled)
    return scaled


def data_dir_for(db: Path) -> Path:
    """The index snapshots of one database (the default database keeps its old folder)."""
    return db.parent / ("latency-data" if db.name == "latency.db" else f"{db.stem}-data")


def build(db: Path, embed: bool, cache_dir: Path, cached_only: bool = False) -> None:
    settings = load_settings(database_url=f"sqlite:///{db}", data_dir=data_dir_for(db))
    container = build_container(settings)
    container.prepare_database()
    with container.engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM papers")).scalar_one()
    if not have:
        docs = read_corpus(DEV)
        if cached_only:
            docs = cached_papers(docs, container.embedder.model_id, cache_dir)
        items = (SourceItem(PaperRecord(id=d.id, title=d.title, abstract=d.text,
                                        sources=frozenset({"beir"}))) for d in docs)
        print(ingest(container.engine, items, source="beir", parameters={}).summary_line())
        if cached_only:
            drop_uncached(container.engine, container.embedder.model_id, cache_dir)
    if embed and container.embedder is not None:
        from paperwire.services.embeddings import embed_missing

        n = embed_missing(container.engine, container.embedder, cache_dir=cache_dir)
        print(f"embedded {n} papers")
    container.close()


def cached_papers(docs, model_id: str, cache_dir: Path) -> list:
    """The corpus papers whose embedding the content-hash cache holds (real vectors)."""
    from paperwire.search.embedder import paper_text
    from paperwire.services.embeddings import EmbeddingCache
    from paperwire.store.embeddings import content_hash

    docs = list(docs)
    cache = EmbeddingCache(cache_dir)
    hashes = [content_hash(paper_text(d.title, d.text), model_id) for d in docs]
    found: set[str] = set()
    for start in range(0, len(hashes), 5000):
        found |= set(cache.get_many(hashes[start : start + 5000]))
    cache.close()
    kept = [d for d, h in zip(docs, hashes, strict=True) if h in found]
    print(f"# {len(kept)} of {len(docs)} papers have a cached embedding ({cache_dir})")
    return kept


def drop_uncached(engine, model_id: str, cache_dir: Path) -> None:
    """Papers whose stored text has no cached vector are removed (none should be): the
    embedding step then reads every vector from the cache and runs no model."""
    from paperwire.search.embedder import paper_text
    from paperwire.services.embeddings import EmbeddingCache
    from paperwire.store.embeddings import content_hash

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, title, abstract FROM papers")).all()
    hashes = {pid: content_hash(paper_text(title, abstract), model_id)
              for pid, title, abstract in rows}
    cache = EmbeddingCache(cache_dir)
    values = list(hashes.values())
    found: set[str] = set()
    for start in range(0, len(values), 5000):
        found |= set(cache.get_many(values[start : start + 5000]))
    cache.close()
    gone = [pid for pid, h in hashes.items() if h not in found]
    if gone:
        with engine.begin() as conn:
            for start in range(0, len(gone), 500):
                part = gone[start : start + 500]
                marks = ",".join(f":p{i}" for i in range(len(part)))
                conn.execute(text(f"DELETE FROM papers WHERE id IN ({marks})"),
                             {f"p{i}": pid for i, pid in enumerate(part)})
    print(f"# dropped {len(gone)} papers whose stored text has no cached vector")


def synthetic_vectors(db: Path, data_dir: Path) -> None:
    """Random unit vectors for the papers without one (latency only; see the docstring)."""
    import numpy as np

    from paperwire.store.embeddings import EmbeddingRow, save_embeddings

    settings = load_settings(database_url=f"sqlite:///{db}", data_dir=data_dir)
    container = build_container(settings)
    embedder = container.embedder
    with container.engine.connect() as conn:
        missing = [r[0] for r in conn.execute(text(
            "SELECT id FROM papers WHERE id NOT IN (SELECT paper_id FROM paper_embeddings "
            "WHERE model_id = :m) ORDER BY id"), {"m": embedder.model_id})]
    rng = np.random.default_rng(0)
    for start in range(0, len(missing), 5000):
        part = missing[start : start + 5000]
        vectors = rng.standard_normal((len(part), embedder.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        with container.engine.begin() as conn:
            save_embeddings(conn, embedder.model_id, [
                EmbeddingRow(pid, v, "synthetic") for pid, v in zip(part, vectors, strict=True)])
    if missing:
        print(f"# stored {len(missing)} synthetic (random) vectors for {embedder.model_id}")
    container.close()


def index_dir(args: argparse.Namespace) -> Path:
    """The index snapshots of the measured database (the grown copy's with --scale)."""
    db = Path(args.db)
    if args.scale:
        grown = db.with_name(f"{db.stem}-{args.scale}.db")
        return grown.parent / f"{grown.stem}-data"
    return data_dir_for(db)


def side_dir(args: argparse.Namespace, name: str) -> Path:
    """Each checkout's own copy of the index snapshots: one whose vector proposer differs
    (an int8 scan, an HNSW graph) would otherwise rebuild and re-save the other's."""
    shared = index_dir(args)
    own = shared.with_name(f"{shared.name}-{name}")
    if not own.exists() and shared.exists():
        shutil.copytree(shared, own)
    return own


def compare(args: argparse.Namespace) -> None:
    """This checkout and another, alternately, in child processes on the same database."""
    others = {"this": str(ROOT / "src"), "other": str(Path(args.compare).resolve())}
    runs: dict[str, dict[str, list[float]]] = {name: {} for name in others}
    base = [sys.executable, __file__, "--db", args.db, "--baseline-queries", "0",
            "--queries", str(args.queries), "--no-embed", "--json"]
    if args.scale:
        base += ["--scale", str(args.scale)]
    for round_no in range(args.rounds):
        for name, src in (others.items() if round_no % 2 == 0
                          else reversed(list(others.items()))):
            env = dict(os.environ, PYTHONPATH=src)
            done = subprocess.run([*base, "--data-dir", str(side_dir(args, name))], env=env,
                                  check=True, capture_output=True, text=True)
            line = [x for x in done.stdout.splitlines() if x.startswith("{")][-1]
            for mode, p50 in json.loads(line).items():
                runs[name].setdefault(mode, []).append(p50)
            print(f"# round {round_no + 1} {name}: {line}", flush=True)
    print(f"p50 (and p95) per round (ms); ratio = this / other (median of rounds); code: "
          f"this={others['this']} other={others['other']}")
    for mode in runs["this"]:
        mine, theirs = runs["this"][mode], runs["other"].get(mode, [])
        ratios = [a / b for a, b in zip(mine, theirs, strict=False) if b]
        ratio = statistics.median(ratios) if ratios else float("nan")
        print(f"{mode:18s} this={statistics.median(mine):7.1f} ms  "
              f"other={statistics.median(theirs):7.1f} ms  ratio={ratio:.2f}  "
              f"(rounds: {' '.join(f'{r:.2f}' for r in ratios)})")


def dump_results(service, queries: list[str], ids: list[str]) -> list[dict]:
    """Every result the benchmark times, as plain data (scores to 4 decimals)."""
    def page(results) -> dict:
        return {"total": results.total, "mode": results.mode,
                "hits": [(h.paper_id, round(h.score, 4), h.snippet) for h in results.hits]}

    out = []
    for q in queries:
        out.append({"query": q, **{
            name: page(service.search(q, mode=mode, sort=sort, limit=20))
            for name, mode, sort in (("keyword", "keyword", "relevance"),
                                     ("hybrid", "hybrid", "relevance"),
                                     ("keyword-date", "keyword", "date"),
                                     ("hybrid-date", "hybrid", "date"))}})
    for pid in ids:
        out.append({"similar": pid, "hits": [(h.paper_id, round(h.score, 4))
                                             for h in service.similar(pid, limit=10)]})
    return out


def check(args: argparse.Namespace) -> None:
    """This checkout's results and another's, on the same database: any difference?"""
    dumps = {}
    for name, src in (("this", str(ROOT / "src")), ("other", str(Path(args.check).resolve()))):
        out = ROOT / f"benchmarks/out/check-{name}.json"
        cmd = [sys.executable, __file__, "--db", args.db, "--baseline-queries", "0",
               "--queries", str(args.queries), "--no-embed", "--json", "--dump", str(out),
               "--data-dir", str(side_dir(args, name))]
        subprocess.run(cmd, env=dict(os.environ, PYTHONPATH=src), check=True,
                       capture_output=True, text=True)
        dumps[name] = json.loads(out.read_text())
    differ = [a for a, b in zip(dumps["this"], dumps["other"], strict=True) if a != b]
    print(f"result check against {args.check}: {len(dumps['this'])} queries and similar "
          f"lists, {len(differ)} differ")
    for item in differ[:5]:
        print("  differs:", item.get("query") or item.get("similar"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "benchmarks/out/latency.db"))
    parser.add_argument("--scale", type=int, default=0)
    parser.add_argument("--baseline-queries", type=int, default=20)
    parser.add_argument("--no-embed", action="store_true")
    parser.add_argument("--queries", type=int, default=0, help="use only the first N queries")
    parser.add_argument("--synthetic-vectors", action="store_true",
                        help="random vectors for the papers without one (latency only)")
    parser.add_argument("--compare", metavar="SRC",
                        help="another checkout's src/ to measure alternately with this one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)  # a side's own snapshots
    parser.add_argument("--check", metavar="SRC",
                        help="compare every result with another checkout's src/ (no timing)")
    parser.add_argument("--embed-cache",
                        default=str(ROOT / "benchmarks/out/evaldata/embedding-cache"),
                        help="content-hash embedding cache (the one `paperwire eval` fills)")
    parser.add_argument("--cached-only", action="store_true",
                        help="build --db from only the corpus papers whose vector the cache "
                             "holds: real vectors, a subset while the cache fills")
    args = parser.parse_args()
    db = Path(args.db)
    db.parent.mkdir(parents=True, exist_ok=True)
    if args.compare and not args.json:
        build(db, embed=not args.no_embed, cache_dir=Path(args.embed_cache),
              cached_only=args.cached_only)
        if args.synthetic_vectors:
            synthetic_vectors(db, data_dir_for(db))
        if args.scale:
            grow(db, args.scale)
        return compare(args)
    if args.check and not args.json:
        build(db, embed=not args.no_embed, cache_dir=Path(args.embed_cache),
              cached_only=args.cached_only)
        if args.synthetic_vectors:
            synthetic_vectors(db, data_dir_for(db))
        return check(args)
    if not args.json:
        build(db, embed=not args.no_embed, cache_dir=Path(args.embed_cache),
              cached_only=args.cached_only)
    if args.synthetic_vectors:
        synthetic_vectors(db, data_dir_for(db))
    if args.scale:
        db = grow(db, args.scale)
    data_dir = Path(args.data_dir) if args.data_dir else index_dir(args)
    settings = load_settings(database_url=f"sqlite:///{db}", data_dir=data_dir)
    container = build_container(settings)
    service = container.search
    queries = list(read_queries(DEV).values())
    if args.queries:
        queries = queries[: args.queries]
    with container.engine.connect() as conn:
        n_papers = conn.execute(text("SELECT count(*) FROM papers")).scalar_one()
        every = [r[0] for r in conn.execute(text("SELECT id FROM papers ORDER BY id"))]
        ids = random.Random(0).sample(every, min(600, len(every)))  # the same in every run
    # Warm up: page cache, model, vector index, keyword index (not counted).
    started = time.perf_counter()
    if container.keyword_index is not None:
        container.keyword_index.wait_ready()
        print(f"# keyword index ready in {time.perf_counter() - started:.1f} s: "
              f"{container.keyword_index.describe()}")
    if container.vector_index is not None and hasattr(container.vector_index, "build_ann"):
        started = time.perf_counter()
        used = container.vector_index.build_ann(wait=True)
        print(f"# vector index ready in {time.perf_counter() - started:.1f} s: "
              f"{container.vector_index.describe()} (HNSW {'on' if used else 'off'})")
    for q in queries[:20]:
        service.search(q, mode="hybrid")
    service._query_vectors.clear()
    # A snapshot written now (an index rebuilt at start-up) must not overlap the timings.
    for index in (container.keyword_index, container.vector_index):
        if index is not None and hasattr(index, "wait_snapshots"):
            index.wait_snapshots(600)
    if args.dump:
        Path(args.dump).write_text(json.dumps(dump_results(service, queries,
                                                           ids[: len(queries)])))
        container.close()
        return
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results = {
        "keyword": timed(lambda q: service.search(q, mode="keyword", limit=20), queries),
        "hybrid": timed(lambda q: service.search(q, mode="hybrid", limit=20), queries),
        "similar": timed(lambda pid: service.similar(pid, limit=10), ids[: len(queries)]),
        # date order: the keyword matches in SQL order (an ordered full-text query)
        "keyword-date": timed(lambda q: service.search(q, mode="keyword", sort="date",
                                                       limit=20), queries),
        "hybrid-date": timed(lambda q: service.search(q, mode="hybrid", sort="date",
                                                      limit=20), queries),
    }
    if args.json:
        p50 = {name: round(percentile(v, .5), 2) for name, v in results.items()}
        p95 = {f"{name} p95": round(percentile(v, .95), 2) for name, v in results.items()}
        print(json.dumps(p50 | p95))
        container.close()
        return
    probe = service.search(queries[0], mode="hybrid")
    index = container.vector_index
    coverage = index.coverage() if index is not None else (0, n_papers)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# {n_papers} papers, embeddings {coverage[0]}/{coverage[1]}, hybrid ran as "
          f"'{probe.mode}', {len(queries)} queries, peak RSS {rss:.0f} MiB "
          f"(after warm-up {rss_before:.0f} MiB), db {db.stat().st_size / 2**20:.0f} MiB")
    for name, values in results.items():
        p50, p95 = percentile(values, .5), percentile(values, .95)
        print(f"{name:8s} p50={p50:7.1f} ms  p95={p95:7.1f} ms"
              f"  mean={sum(values) / len(values):7.1f} ms  n={len(values)}")
    if args.baseline_queries:
        docs = [ScanDoc(d.id, d.title, d.text, "") for d in read_corpus(DEV)]
        if args.scale and args.scale > len(docs):
            docs = (docs * (args.scale // len(docs) + 1))[: args.scale]
        sample = random.Random(0).sample(queries, min(args.baseline_queries, len(queries)))
        base = timed(lambda q: search_rank(docs, q), sample)
        p50 = percentile(base, .5)
        print(f"arxiv-sanity-lite scorer p50={p50:7.1f} ms over {len(sample)} queries; "
              f"keyword is {p50 / percentile(results['keyword'], .5):.0f}x faster, "
              f"hybrid {p50 / percentile(results['hybrid'], .5):.0f}x faster")
    container.close()


if __name__ == "__main__":
    main()
