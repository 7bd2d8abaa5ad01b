"""Bulk import speed and memory: both shared data sets into a fresh SQLite database.

Default mode runs the real command (`paperwire import HF_DIR ARXIV_GZ`) in a child
process on a fresh data dir (all migrations, so the FTS5 keyword index is
maintained in the same transactions; no embeddings), then prints wall time,
papers/s, the child's CPU time and peak RSS, and its summary line.

    .venv/bin/python benchmarks/bench_import.py
    .venv/bin/python benchmarks/bench_import.py --repeat 5    # memory stays flat

`--repeat N` streams the 74.7k arXiv file N times in this process, rewriting the
ids of pass k on the fly (YY -> YY + 10k, so every pass is new papers and no
file is written), and prints RSS every 25,000 records.

Targets: <= 60 s wall for both sets on the 2-core machine (> 1,300 papers/s),
peak RSS < 1 GB, RSS flat across repeats.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAPERWIRE_SHARED_DIR", ROOT.parent / "shared"))
HF_DIR = SHARED / "data" / "hf-daily-papers"
ARXIV = SHARED / "data" / "arxiv-cs-2025.jsonl.gz"
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """Current resident set size of this process, in MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def rss_parts() -> str:
    """RSS split into heap (anonymous) and mapped files (SQLite's mmap of the database)."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status if line.startswith("Rss"))
    anon, mapped = (int(fields[k].split()[0]) / 1024 for k in ("RssAnon", "RssFile"))
    return f"heap {anon:5.0f} MiB + mapped files {mapped:4.0f} MiB"


def run_command(paths: list[Path]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as data_dir:
        env = os.environ | {"PAPERWIRE_DATA_DIR": data_dir, "PAPERWIRE_DATABASE_URL": ""}
        command = [sys.executable, "-c", "from paperwire.cli import main; main()", "import"]
        started = time.perf_counter()
        done = subprocess.run(
            [*command, *map(str, paths)], env=env, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        db_size = sum(p.stat().st_size for p in Path(data_dir).glob("paperwire.db*"))
    if done.returncode != 0:
        sys.exit(f"import failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    summary = done.stdout.splitlines()[0]
    papers = int(summary.split()[1])
    print(f"inputs: {', '.join(str(p) for p in paths)}")
    print(f"wall: {wall:.1f} s   papers/s: {papers / wall:,.0f}")
    cpu = usage.ru_utime + usage.ru_stime
    print(f"cpu: {cpu:.1f} s (user {usage.ru_utime:.1f}, sys {usage.ru_stime:.1f})")
    print(f"peak RSS: {usage.ru_maxrss / 1024:.0f} MiB   database: {db_size / 2**20:.0f} MiB")
    print(f"load average at end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(summary)


def rewritten(arxiv: Path, passes: int, pass_ends: list[float]) -> Iterator[object]:
    """The snapshot's records `passes` times; pass k shifts every id's year by 10k.

    Appends this process's RSS to `pass_ends` as each pass has been read.
    """
    from paperwire.domain.records import SourceItem
    from paperwire.sources.arxiv_snapshot import read_snapshot

    for k in range(passes):
        for item in read_snapshot(arxiv):
            if isinstance(item, SourceItem) and k:
                yy, rest = item.paper.id[:2], item.paper.id[2:]
                new_id = f"{(int(yy) + 10 * k) % 100:02d}{rest}"
                item = SourceItem(replace(item.paper, id=new_id), item.daily_entry)
            yield item
        pass_ends.append(rss_mb())


def run_repeat(arxiv: Path, passes: int) -> None:
    from paperwire.services.ingest import ingest
    from paperwire.sources.prefetch import prefetched
    from paperwire.store.db import create_db_engine
    from paperwire.store.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="bench-import-") as data_dir:
        engine = create_db_engine(f"sqlite:///{data_dir}/paperwire.db")
        upgrade(engine)
        done, next_report, pass_ends = 0, 25_000, []
        started = time.perf_counter()

        def on_progress(count: int) -> None:
            nonlocal done, next_report
            done += count
            if done >= next_report:
                next_report += 25_000
                elapsed = time.perf_counter() - started
                rss = f"RSS {rss_mb():5.0f} MiB = {rss_parts()}"
                print(f"{done:>9,} records {elapsed:6.1f} s  {rss}", flush=True)

        report = ingest(
            engine,
            prefetched(rewritten(arxiv, passes, pass_ends)),  # as `paperwire import` reads
            source="bench",
            parameters={},
            on_progress=on_progress,
        )
        wall = time.perf_counter() - started
        engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"passes: {passes}   wall: {wall:.1f} s   papers/s: {report.papers / wall:,.0f}")
    ends = "  ".join(f"{mb:.0f}" for mb in pass_ends)
    print(f"RSS (MiB) as each pass ends: {ends}   peak: {peak:.0f} MiB")
    print(report.summary_line())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hf", type=Path, default=HF_DIR)
    parser.add_argument("--arxiv", type=Path, default=ARXIV)
    parser.add_argument("--repeat", type=int, default=0, help="stream the arXiv file N times")
    args = parser.parse_args()
    if args.repeat:
        run_repeat(args.arxiv, args.repeat)
    else:
        run_command([args.hf, args.arxiv])


if __name__ == "__main__":
    main()
