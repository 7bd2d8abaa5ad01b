"""Query-by-example / recommendation figures: `paperwire eval-rec` and the peer baseline.

Prints, in one run and in the same line format, the product's modes (through
`paperwire eval-rec`, i.e. a temporary database filled by the product's import) and
arxiv-sanity-lite's recommender (karpathy/arxiv-sanity-lite, compute.py + serve.py):
tf-idf of 1-2-grams (20k features, min_df 5, max_df 0.1, sublinear tf, English stopwords)
fitted on the corpus, one linear SVM per reader (C=0.01, balanced classes, the library's
papers positive, every other paper negative), scored on the same candidates.

    # the full figure (rec-dev, all 300 readers, every mode; embeds the corpus once)
    .venv/bin/python benchmarks/bench_rec.py ../shared/relevance/rec-dev --library-size 1
    # cheap: keyword only
    .venv/bin/python benchmarks/bench_rec.py ../shared/relevance/rec-dev -k 1 --modes keyword
    # a stated subsample: R readers, their libraries and later papers + D other papers
    .venv/bin/python benchmarks/bench_rec.py ../shared/relevance/rec-dev -k 1 \\
        --readers 100 --docs 5000
    # For-you against the SVM on the FULL corpus (all 74,728 papers compete) for a reader
    # sample: --docs above the corpus size keeps every paper
    .venv/bin/python benchmarks/bench_rec.py ../shared/relevance/rec-dev -k 0 \\
        --readers 50 --docs 100000 --modes for-you

The SVM costs ~1.5 s of one core per reader on the full corpus (~10 min for 300 readers):
`--svm-cache` keeps its rankings in benchmarks/out (one line per reader, resumable).

Needs scikit-learn (`uv pip install -e '.[bench]'`); the package does not.
The embedding cache is PAPERWIRE_DATA_DIR/embedding-cache, shared with `paperwire eval`.
"""

from __future__ import annotations

import argparse
import gzip
import random
import subprocess
import sys
import time
from pathlib import Path

import orjson

from paperwire.search.beir import parse_day, read_corpus, read_qrels, read_users
from paperwire.search.metrics import format_rec_line, score_run
from paperwire.services.rec_evaluation import REC_DEPTH, newest_library

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"


def sample_folder(folder: Path, readers: int, docs: int, seed: int) -> Path:
    """A folder of the same shape: `readers` readers (a seeded sample), every paper of
    their libraries and qrels, and `docs` other corpus papers drawn at random."""
    target = OUT / f"rec-sample-{folder.name}-r{readers}-d{docs}-s{seed}"
    if (target / "users.jsonl").is_file():
        return target
    rng = random.Random(seed)
    users = read_users(folder)
    chosen = sorted(rng.sample(users, min(readers, len(users))), key=lambda r: r.id)
    qrels = read_qrels(folder)
    keep = {pid for r in chosen for pid in r.library}
    keep |= {pid for r in chosen for pid in qrels.get(r.id, {})}
    corpus = list(read_corpus(folder))
    others = [d.id for d in corpus if d.id not in keep]
    keep |= set(rng.sample(others, min(docs, len(others))))
    (target / "qrels").mkdir(parents=True, exist_ok=True)
    with gzip.open(target / "corpus.jsonl.gz", "wb") as handle:
        for d in corpus:
            if d.id in keep:
                handle.write(orjson.dumps({"_id": d.id, "title": d.title, "text": d.text,
                                           "date": d.date}) + b"\n")
    with (target / "qrels" / "test.tsv").open("w") as handle:
        handle.write("query-id\tcorpus-id\tscore\n")
        for r in chosen:
            for pid, grade in qrels.get(r.id, {}).items():
                handle.write(f"{r.id}\t{pid}\t{grade}\n")
    (target / "users.jsonl").write_bytes(b"".join(
        orjson.dumps({"_id": r.id, "cutoff": r.cutoff.isoformat(), "library": list(r.library)})
        + b"\n" for r in chosen))
    return target


def svm_cache_path(folder: Path, library_size: int | None) -> Path:
    """Where `--svm-cache` keeps the SVM's per-reader rankings: one JSON line per reader,
    keyed by the folder's files (names and contents: a copy of the same files reuses it)
    and the library size."""
    import hashlib

    digest_of = hashlib.sha1()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            digest_of.update(f"{p.relative_to(folder)}\0".encode())
            digest_of.update(hashlib.sha1(p.read_bytes()).digest())
    digest = digest_of.hexdigest()[:12]
    return OUT / f"svm-run-{folder.name}-k{library_size or 0}-{digest}.jsonl"


def svm_baseline(folder: Path, library_size: int | None, *,
                 cache: Path | None = None) -> dict[str, float]:
    """arxiv-sanity-lite's per-reader SVM over tf-idf, scored like eval-rec.

    With `cache`, readers already ranked there are read back and new ones appended (the
    full set takes ~10 min on one core: ~1.5 s per reader), so an interrupted run resumes."""
    import numpy as np
    from sklearn import svm
    from sklearn.feature_extraction.text import TfidfVectorizer

    qrels = {q: {d: 1 for d, g in rel.items() if g > 0} for q, rel in read_qrels(folder).items()}
    judged = [r for r in read_users(folder) if qrels.get(r.id)]
    run: dict[str, list[str]] = {}
    if cache is not None and cache.is_file():
        for line in cache.read_bytes().splitlines():
            if line.strip():
                entry = orjson.loads(line)
                run[entry["reader"]] = entry["ranked"]
    todo = [r for r in judged if r.id not in run]
    if todo:
        corpus = list(read_corpus(folder))
        ids = [d.id for d in corpus]
        row = {pid: i for i, pid in enumerate(ids)}
        days = {d.id: parse_day(d.date) for d in corpus}
        # arxiv-sanity-lite compute.py: title + " | " + authors + " | " + summary (no
        # authors here)
        texts = [f"{d.title} | {d.text}" for d in corpus]
        vectorizer = TfidfVectorizer(input="content", encoding="utf-8",
                                     decode_error="replace", strip_accents="unicode",
                                     lowercase=True, analyzer="word", stop_words="english",
                                     token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
                                     ngram_range=(1, 2), max_features=20000, norm="l2",
                                     use_idf=True, smooth_idf=True, sublinear_tf=True,
                                     max_df=0.1, min_df=5)
        x = vectorizer.fit_transform(texts)
        del texts, corpus
        handle = cache.open("ab") if cache is not None else None
        try:
            for reader in todo:
                library = newest_library(reader.library, days, library_size)
                everything = set(reader.library)
                candidates = [i for i, pid in enumerate(ids)
                              if days[pid] is not None and days[pid] >= reader.cutoff
                              and pid not in everything]
                ranked: list[str] = []
                if library and candidates:
                    y = np.zeros(len(ids), dtype=np.float32)
                    y[[row[pid] for pid in library]] = 1
                    # serve.py's call; dual=True is the solver its scikit-learn ran
                    # (today's "auto" picks the primal here: the same top 100 on the
                    # readers checked, 2-4x the CPU).
                    clf = svm.LinearSVC(class_weight="balanced", verbose=False,
                                        max_iter=10000, tol=1e-6, C=0.01, dual=True)
                    clf.fit(x, y)
                    scores = clf.decision_function(x[candidates])
                    best = np.argsort(-scores, kind="stable")[:REC_DEPTH]
                    ranked = [ids[candidates[i]] for i in best]
                run[reader.id] = ranked
                if handle is not None:
                    handle.write(orjson.dumps({"reader": reader.id, "ranked": ranked}) + b"\n")
                    handle.flush()
        finally:
            if handle is not None:
                handle.close()
    return score_run(run, {r.id: qrels[r.id] for r in judged})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?",
                        default=ROOT.parent / "shared" / "relevance" / "rec-dev")
    parser.add_argument("--library-size", "-k", type=int, default=1)
    parser.add_argument("--modes", default="keyword,semantic,hybrid",
                        help="comma-separated eval-rec modes ('' for the baseline only)")
    parser.add_argument("--readers", type=int, default=0, help="sample this many readers")
    parser.add_argument("--docs", type=int, default=5000,
                        help="with --readers: other papers kept in the sample")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-svm", action="store_true")
    parser.add_argument("--svm-cache", action="store_true",
                        help="read/append the SVM's rankings in benchmarks/out (resumable; "
                             "a recorded figure should be a run without it)")
    args = parser.parse_args()
    folder = args.folder
    if args.readers:
        folder = sample_folder(folder, args.readers, args.docs, args.seed)
        print(f"# sample: {folder}", flush=True)
    k = args.library_size or None
    for mode in [m for m in args.modes.split(",") if m]:
        started = time.perf_counter()
        done = subprocess.run(
            [str(Path(sys.executable).with_name("paperwire")), "eval-rec", str(folder),
             "--library-size", str(args.library_size), "--mode", mode],
            capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr.strip() or done.stdout.strip(), file=sys.stderr)
            return done.returncode
        print(done.stdout.strip(), f"# {time.perf_counter() - started:.0f} s", flush=True)
    if not args.no_svm:
        started = time.perf_counter()
        cache = svm_cache_path(folder, k) if args.svm_cache else None
        if cache is not None:
            OUT.mkdir(parents=True, exist_ok=True)
            print(f"# svm cache: {cache}", flush=True)
        scores = svm_baseline(folder, k, cache=cache)
        print(format_rec_line("arxiv-sanity-svm", scores),
              f"# {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
