"""Server time of a daily page with 50 papers (target: under 30 ms).

Times the ASGI app from the call until the whole page is sent, in-process, with
the page cache off so that the real work is measured.

    .venv/bin/python benchmarks/bench_daily_page.py [--runs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from paperwire.config import load_settings
from paperwire.domain.records import DailyEntryRecord, PaperRecord, SourceItem
from paperwire.services.ingest import ingest
from paperwire.web.app import create_app
from paperwire.wiring import build_container

DAY = date(2025, 6, 16)


def seed(container) -> None:
    items = [
        SourceItem(
            PaperRecord(
                id=f"2506.{i:05d}",
                title=f"A fairly long paper title number {i} about diffusion models",
                abstract="word " * 250,
                authors=tuple(f"Author {k}" for k in range(8)),
                categories=("cs.CL",),
                published_at=datetime(2025, 6, 13, tzinfo=UTC),
                ai_keywords=("diffusion", "video", "transformers"),
                github_repo="https://github.com/x/y",
                github_stars=i,
                source_upvotes=i,
            ),
            DailyEntryRecord(f"2506.{i:05d}", DAY, "bench", submitted_by="someone"),
        )
        for i in range(1, 51)
    ]
    ingest(container.engine, items, source="bench", parameters={})


async def measure(app, runs: int) -> list[float]:
    timings: list[float] = []

    async def timed(scope, receive, send):
        start = time.perf_counter()
        await app(scope, receive, send)
        timings.append(time.perf_counter() - start)

    transport = httpx.ASGITransport(app=timed)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for _ in range(runs):
            response = await client.get(f"/?date={DAY.isoformat()}")
            assert response.status_code == 200
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), embedder="none", page_cache_ttl_s=0)
        container = build_container(settings)
        container.prepare_database()
        seed(container)
        timings = asyncio.run(measure(create_app(container), args.runs))[5:]  # first few warm up
        container.close()
    ms = sorted(t * 1000 for t in timings)
    print(
        f"daily page, 50 papers, cache off: p50={statistics.median(ms):.1f} ms "
        f"p95={ms[int(len(ms) * 0.95)]:.1f} ms min={ms[0]:.1f} ms n={len(ms)} (target: under 30 ms)"
    )


if __name__ == "__main__":
    main()
