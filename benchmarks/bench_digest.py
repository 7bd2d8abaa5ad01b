"""Digest benchmark: N confirmed subscribers with 2 topics each, one whole digest run
delivered to a local aiosmtpd sink (a separate process), timed and split into
building (selection + rendering), sending (SMTP) and database bookkeeping.

    .venv/bin/python benchmarks/bench_digest.py --subscribers 10000
    .venv/bin/python benchmarks/bench_digest.py --subscribers 100000 --senders 2

The papers come from the shared data, loaded once with `paperwire import` into
--data-dir (reused by later runs). Each run replaces the subscribers and deliveries.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAPERWIRE_SHARED_DIR", ROOT.parent / "shared"))
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import delete, insert, select  # noqa: E402

from paperwire.config import load_settings  # noqa: E402
from paperwire.domain.digest_topics import Topic  # noqa: E402
from paperwire.services.digests import (  # noqa: E402
    load_window_papers,
    optional_adapter,
    send_digests,
)
from paperwire.store.digest_tables import (  # noqa: E402
    digest_deliveries,
    sent_papers,
    subscriber_topics,
    subscribers,
)
from paperwire.store.papers import count_papers  # noqa: E402
from paperwire.store.tables import organizations  # noqa: E402
from paperwire.wiring import build_container  # noqa: E402


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_papers(container, env: dict[str, str]) -> None:
    with container.engine.connect() as conn:
        have = count_papers(conn)
    if have:
        print(f"papers: {have} already loaded")
        return
    paths = [SHARED / "data" / "hf-daily-papers", SHARED / "data" / "arxiv-cs-2025.jsonl.gz"]
    print("papers: importing the shared data with `paperwire import` (once)...", flush=True)
    started = time.perf_counter()
    subprocess.run([str(ROOT / ".venv" / "bin" / "paperwire"), "import", *map(str, paths)],
                   env=env, check=True)
    print(f"papers: imported in {time.perf_counter() - started:.0f}s")


def topic_pool(container, digest_date: date, rng: random.Random) -> list[Topic]:
    """Queries from the shared relevance set, plus categories, authors and organizations."""
    queries = []
    with open(SHARED / "relevance" / "keywords-dev" / "queries.jsonl") as handle:
        for line in handle:
            first = json.loads(line)["text"].split(",")[0].strip()
            if first:
                queries.append(first)
    rng.shuffle(queries)
    papers = load_window_papers(container.engine, date.fromordinal(digest_date.toordinal() - 3),
                                digest_date)
    authors = [a for p in papers[:400] for a in p.authors[:1]]
    with container.engine.connect() as conn:
        orgs = list(conn.execute(select(organizations.c.name).limit(30)).scalars())
    categories = ["cs.CV", "cs.CL", "cs.AI", "cs.LG", "cs.RO", "cs.IR", "cs.SD", "cs.CR"]
    pool = ([Topic("query", q) for q in queries[:200]]
            + [Topic("category", c) for c in categories]
            + [Topic("author", a) for a in authors[:80]]
            + [Topic("organization", o) for o in orgs])
    return list(dict.fromkeys(pool))


def reset_subscribers(container, count: int, pool: list[Topic], rng: random.Random) -> int:
    engine = container.engine
    with engine.begin() as conn:
        for table in (sent_papers, digest_deliveries, subscriber_topics, subscribers):
            conn.execute(delete(table))
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for start in range(0, count, 5000):
            conn.execute(insert(subscribers), [
                {"email": f"reader{i:06d}@bench.example.org",
                 "email_key": f"reader{i:06d}@bench.example.org",
                 "confirmed_at": now, "frequency": "daily", "weekdays_only": True,
                 "paper_count": 10, "bounce_count": 0, "status": "active", "created_at": now}
                for i in range(start, min(count, start + 5000))
            ])
        ids = list(conn.execute(select(subscribers.c.id).order_by(subscribers.c.id)).scalars())
        rows, distinct = [], set()
        for sid in ids:
            for topic in rng.sample(pool, 2):
                rows.append({"subscriber_id": sid, "kind": topic.kind, "value": topic.value})
                distinct.add(topic)
        for start in range(0, len(rows), 5000):
            conn.execute(insert(subscriber_topics), rows[start : start + 5000])
    return len(distinct)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--date", default="2025-06-16")
    parser.add_argument("--data-dir", default="/tmp/bench-digest")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--senders", type=int, default=1,
                        help="Parallel `paperwire digest send` processes "
                             "(1: in-process, with the build/send split).")
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()

    digest_date = date.fromisoformat(args.date)
    data_dir = Path(args.data_dir)
    port = free_port()
    smtp_url = f"smtp://127.0.0.1:{port}?starttls=off&timeout=30"
    env = dict(os.environ, PAPERWIRE_DATA_DIR=str(data_dir),
               PAPERWIRE_EMBEDDER=os.environ.get("PAPERWIRE_EMBEDDER", "none"),
               PAPERWIRE_SMTP_URL=smtp_url,
               PAPERWIRE_BASE_URL="https://paperwire.example.org",
               PAPERWIRE_MAIL_FROM="Paperwire <digest@paperwire.example.org>")
    if args.database_url:
        env["PAPERWIRE_DATABASE_URL"] = args.database_url
    settings = load_settings(data_dir=data_dir, database_url=args.database_url,
                             embedder=env["PAPERWIRE_EMBEDDER"], smtp_url=smtp_url,
                             base_url=env["PAPERWIRE_BASE_URL"],
                             mail_from=env["PAPERWIRE_MAIL_FROM"])
    container = build_container(settings)
    container.prepare_database()
    ensure_papers(container, env)
    rng = random.Random(7)
    pool = topic_pool(container, digest_date, rng)
    started = time.perf_counter()
    distinct = reset_subscribers(container, args.subscribers, pool, rng)
    print(f"subscribers: {args.subscribers} with 2 topics each ({distinct} distinct topics "
          f"from a pool of {len(pool)}), set up in {time.perf_counter() - started:.1f}s")

    sink = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "smtp_count_sink.py"),
                             str(port)], stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        if args.senders == 1:
            report = send_digests(container.engine, container.mailer, settings, digest_date,
                                  search=optional_adapter(container, "search"),
                                  vector_index=optional_adapter(container, "vector_index"),
                                  batch_size=args.batch_size)
            container.mailer.close()
            elapsed = time.perf_counter() - started
            print(report.summary_line())
            split = (f"topics {report.topics_s:.1f}s for {report.topics} distinct, "
                     f"build {report.build_s:.1f}s, send {report.send_s:.1f}s, "
                     f"db {report.store_s:.1f}s; sender CPU "
                     f"{time.process_time() - cpu_started:.1f}s")
            sent = report.sent
        else:
            procs = [subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "paperwire"), "digest", "send", "--date",
                 args.date, "--batch-size", str(args.batch_size)],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for _ in range(args.senders)]
            outputs = [proc.communicate()[0] for proc in procs]
            elapsed = time.perf_counter() - started
            for out in outputs:
                print(out.strip().splitlines()[-1])
            split = "per-sender splits above"
            sent = sum(int(line.split(":")[1].split()[0]) for out in outputs
                       for line in out.splitlines() if line.startswith("digest "))
    finally:
        sink.terminate()
        counts = json.loads(sink.communicate(timeout=30)[0].strip().splitlines()[-1])
    print(f"sink: {counts}")
    print(f"RESULT subscribers={args.subscribers} senders={args.senders} sent={sent} "
          f"total={elapsed:.1f}s ({split}); {elapsed / max(1, sent) * 1000:.2f} ms/mail")
    assert counts["duplicates"] == 0 and counts["messages"] == sent
    container.close()


if __name__ == "__main__":
    main()
