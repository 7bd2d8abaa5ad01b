"""For-you page server time and BibTeX import time (issue 14 figures).

Seeds N papers (a week of them new), a user with a LIBRARY-paper library and FOLLOWS
follows, then times `/for-you?format=json` warm (in-process ASGI, keyword
query-by-example: no embedder) and a BibTeX import of ENTRIES entries (matched by
arXiv id, DOI and title; no network).

    # the full figure (80k papers, 200-paper library, 20 follows, 2,000-entry import)
    .venv/bin/python benchmarks/bench_library.py --papers 80000 --library 200 \\
        --follows 20 --entries 2000 --runs 30
    # small
    .venv/bin/python benchmarks/bench_library.py --papers 5000 --library 50 --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from paperwire.config import load_settings
from paperwire.domain.records import PaperRecord
from paperwire.services import accounts, library
from paperwire.services.library import transfer
from paperwire.store.papers import upsert_papers
from paperwire.web.app import create_app
from paperwire.wiring import build_container

WORDS = [
    "diffusion", "transformer", "graph", "protein", "speech", "retrieval", "language",
    "vision", "robot", "policy", "reinforcement", "quantum", "codec", "agent", "benchmark",
    "alignment", "sparse", "attention", "kernel", "molecule", "segmentation", "tracking",
    "planning", "reasoning", "tokenizer", "federated", "privacy",
]


def seed(container, n: int, rng: random.Random) -> list[str]:
    now = datetime.now(UTC)
    ids, batch = [], []
    for i in range(n):
        pid = f"{2400 + i // 90000:04d}.{i % 90000:05d}"
        words = rng.sample(WORDS, 6)
        age = rng.uniform(0, 7) if i % 50 == 0 else rng.uniform(8, 365)
        batch.append(PaperRecord(
            id=pid, title=" ".join(words[:4]).title(), abstract=" ".join(words * 8),
            authors=tuple(f"Author {rng.randrange(5000)}" for _ in range(4)),
            categories=("cs.LG",), primary_category="cs.LG",
            published_at=now - timedelta(days=age), doi=f"10.1234/p{i}",
            sources=frozenset({"bench"})))
        ids.append(pid)
        if len(batch) == 2000:
            with container.engine.begin() as conn:
                upsert_papers(conn, batch)
            batch = []
    if batch:
        with container.engine.begin() as conn:
            upsert_papers(conn, batch)
    return ids


def bibtex(ids: list[str], n: int, rng: random.Random, container) -> bytes:
    from sqlalchemy import select

    from paperwire.store.tables import papers

    chosen = rng.sample(ids, min(n, len(ids)))
    with container.engine.connect() as conn:
        titles = dict(conn.execute(select(papers.c.id, papers.c.title)
                                   .where(papers.c.id.in_(chosen[: n // 3]))).all())
    out = []
    for i, pid in enumerate(chosen):
        if i % 3 == 0:
            out.append(f"@article{{e{i}, title={{X}}, eprint={{{pid}}}, archivePrefix={{arXiv}}}}")
        elif i % 3 == 1:
            out.append(f"@article{{e{i}, title={{Y}}, doi={{10.1234/p{ids.index(pid)}}}}}")
        else:
            out.append(f"@article{{e{i}, title={{{titles.get(chosen[i - 2], 'Nothing')}}}}}")
    return "\n".join(out).encode()


async def time_page(app, cookie: dict, runs: int, before=None) -> list[float]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                 cookies=cookie) as client:
        first = await client.get("/for-you?format=json")
        assert first.status_code == 200, first.text
        times = []
        for _ in range(runs):
            if before is not None:
                before()  # outside the timed part
            start = time.perf_counter()
            r = await client.get("/for-you?format=json")
            times.append((time.perf_counter() - start) * 1000)
            assert r.status_code == 200
        return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=5000)
    parser.add_argument("--library", type=int, default=50)
    parser.add_argument("--follows", type=int, default=20)
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), embedder="none", rate_limits_enabled=False,
                                 library_import_fetch=False, page_cache_ttl_s=0)
        container = build_container(settings)
        container.prepare_database()
        started = time.perf_counter()
        ids = seed(container, args.papers, rng)
        print(f"# seeded {len(ids)} papers in {time.perf_counter() - started:.0f} s", flush=True)
        user = accounts.create_user(container.engine, username="bench", email="b@example.org",
                                    password="benchmark-pass", verified=True)
        data = bibtex(ids, args.entries, rng, container)
        started = time.perf_counter()
        report = transfer.import_references(container.engine, user, data, filename="b.bib")
        took = time.perf_counter() - started
        print(f"import {args.entries} BibTeX entries: {took:.2f} s ({report.summary_line()})")
        with container.engine.begin() as conn:  # the library: LIBRARY papers
            library.save_papers(conn, user.id, rng.sample(ids, args.library))
        from paperwire.store.library_tables import library_items

        with container.engine.begin() as conn:
            keep = set(rng.sample(ids, args.library))
            conn.execute(library_items.delete().where(library_items.c.user_id == user.id,
                                                      library_items.c.paper_id.not_in(keep)))
            library.save_papers(conn, user.id, keep)
        for i in range(args.follows):
            kind = "author" if i % 2 == 0 else "search"
            value = f"Author {rng.randrange(5000)}" if kind == "author" else rng.choice(WORDS)
            library.follow(container.engine, user, kind, value)
        session = accounts.create_session(container.engine, settings, user.id)
        app = create_app(container)
        cookie = {"pw_session": session}
        cold = asyncio.run(time_page(app, cookie, args.runs,
                                     before=container.for_you_cache.invalidate_all))
        times = asyncio.run(time_page(app, cookie, args.runs))
        for label, t in (("ranking recomputed", cold), ("ranking cached", times)):
            print(f"for-you page ({args.papers} papers, {args.library}-paper library, "
                  f"{args.follows} follows, {label}): p50 {statistics.median(t):.0f} ms, "
                  f"max {max(t):.0f} ms over {args.runs} runs")
        container.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
