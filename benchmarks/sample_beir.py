"""A smaller BEIR folder of the same shape: every judged document plus N others.

    .venv/bin/python benchmarks/sample_beir.py ../shared/relevance/keywords-dev 8000 --newest

`--newest` takes the N others with the highest ids (the papers an `embed` run over the
full corpus reaches first, newest ids first, so their vectors are in the content-hash
cache before the rest); without it they are a seeded random draw. Writes
benchmarks/out/sample-NAME-dN[-newest]-sSEED and prints its path.
"""

from __future__ import annotations

import argparse
import gzip
import random
import shutil
from pathlib import Path

import orjson

from paperwire.search.beir import read_corpus, read_qrels

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "out"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("others", type=int)
    parser.add_argument("--newest", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    judged = {d for rel in read_qrels(args.folder).values() for d in rel}
    docs = list(read_corpus(args.folder))
    others = sorted((d.id for d in docs if d.id not in judged), reverse=True)
    if args.newest:
        keep = set(others[: args.others])
    else:
        keep = set(random.Random(args.seed).sample(others, min(args.others, len(others))))
    keep |= judged
    tag = "-newest" if args.newest else ""
    target = OUT / f"sample-{args.folder.name}-d{args.others}{tag}-s{args.seed}"
    (target / "qrels").mkdir(parents=True, exist_ok=True)
    with gzip.open(target / "corpus.jsonl.gz", "wb") as handle:
        for d in docs:
            if d.id in keep:
                row = {"_id": d.id, "title": d.title, "text": d.text}
                if d.date:
                    row["date"] = d.date
                handle.write(orjson.dumps(row) + b"\n")
    shutil.copy(args.folder / "queries.jsonl", target / "queries.jsonl")
    shutil.copy(args.folder / "qrels" / "test.tsv", target / "qrels" / "test.tsv")
    print(f"{target}: {len(keep)} papers", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
