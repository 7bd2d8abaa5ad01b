"""Embedders against the sentence-transformers fp32 reference, in one run, on every dev set.

For each config the vectors of every text come from bench_embed's content-hash cache
(filled first; `st-*` configs are filled by the reference venv's Python through
`bench_embed.py fill`), then each set is scored with exact cosine ranking:

* keywords-dev, semantic: the 600 queries against the relevant documents + N distractors
  (`--distractors`); the query embedded as the product's search embeds it (`typed`:
  `ParsedQuery.embed_text`) and as it did before (`words`: the distinct non-stopwords).
* rec-dev, `--library-size 1` (query-by-example, "similar papers"): a seeded sample of
  readers (`--readers`, `--docs`, the same sample as bench_rec.py); the query is the
  newest library paper's stored vector (`doc`, what `more_like` uses) or its title +
  abstract typed as a search query (`typed`, `words` as above: `paperwire eval` on a
  query-by-example set, or a pasted abstract in the search box).

    .venv/bin/python benchmarks/bench_embed_sets.py --ref-python /tmp/refvenv/bin/python \\
        --configs st-fp32-256,default --readers 100 --docs 3000 --distractors 1400

`--speed N` also times each config on N shared abstracts (the reference first and last).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_embed as be  # noqa: E402
from bench_rec import sample_folder  # noqa: E402

from paperwire.search.beir import parse_day, read_corpus, read_qrels, read_users  # noqa: E402
from paperwire.search.metrics import score_run  # noqa: E402
from paperwire.search.query_parser import parse_query  # noqa: E402
from paperwire.services.rec_evaluation import REC_DEPTH, newest_library  # noqa: E402

ROOT = be.ROOT


def embed_text(query: str) -> str:
    """What the product's search embeds for a typed query."""
    return parse_query(query).embed_text


def word_bag(query: str) -> str:
    """What it embedded before issue 13: the distinct non-stopwords (`ParsedQuery.text`)."""
    return parse_query(query).text


def keywords_dev(distractors: int):
    ids, docs = be.load_corpus()
    queries = {}
    with open(be.DEV / "queries.jsonl") as fh:
        for line in fh:
            q = json.loads(line)
            queries[q["_id"]] = q["text"]
    qrels = {q: rel for q, rel in read_qrels(be.DEV).items() if q in queries}
    relevant = {d for rel in qrels.values() for d in rel}
    rest = [i for i, d in enumerate(ids) if d not in relevant]
    picked = set(random.Random(0).sample(rest, distractors)) if distractors else set(rest)
    keep = [i for i, d in enumerate(ids) if d in relevant or i in picked]
    return ([ids[i] for i in keep], [be.paper_text(*docs[i]) for i in keep],
            {q: queries[q] for q in qrels}, qrels)


def rec_dev(folder: Path):
    docs = list(read_corpus(folder))
    days = {d.id: parse_day(d.date) for d in docs}
    qrels = {q: {d: 1 for d, g in rel.items() if g > 0} for q, rel in read_qrels(folder).items()}
    readers = [r for r in read_users(folder) if qrels.get(r.id)]
    texts = {d.id: be.paper_text(d.title, d.text) for d in docs}
    tasks = []  # (reader id, example paper id, candidate ids)
    for r in readers:
        example = newest_library(r.library, days, 1)
        library = set(r.library)
        candidates = [d.id for d in docs if days[d.id] is not None and days[d.id] >= r.cutoff
                      and d.id not in library]
        if example and candidates:
            tasks.append((r.id, example[0], candidates))
    return [d.id for d in docs], texts, tasks, {r.id: qrels[r.id] for r in readers}


def fill(config: str, texts: list[str], args) -> float | None:
    if config.startswith("st-"):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump(texts, fh)
        done = subprocess.run(
            [args.ref_python, str(Path(be.__file__)), "fill", "--config", config,
             "--texts", fh.name, "--threads", str(args.threads), "--cache-dir", args.cache_dir],
            check=True, capture_output=True, text=True)
        Path(fh.name).unlink()
        return json.loads(done.stdout.strip().splitlines()[-1])["rate"]
    return be.fill_cache(config, texts, cache_for(config, args), args.threads)


def model_id_of(config: str) -> str:
    from paperwire.search.embedder import DEFAULT_MAX_TOKENS, DEFAULT_WINDOW, default_model_id

    if config.startswith("st-"):
        return f"ref-{config}"
    if config == "default":
        return default_model_id(DEFAULT_MAX_TOKENS, DEFAULT_WINDOW)
    if config.startswith("int8-"):
        tokens, _, window = config.split("-")[1].partition("w")
        return default_model_id(int(tokens), int(window or tokens))
    return config


def cache_for(config: str, args):
    """The product's eval cache for the product's own model ids (`paperwire eval`/`eval-rec`
    then reuse them: same content hash), bench_embed's cache for the rest."""
    if config == "default" or config.startswith("int8-"):
        from paperwire.services.embeddings import EmbeddingCache

        return EmbeddingCache(Path(args.product_cache))
    return be.VectorCache(Path(args.cache_dir))


def vectors(config: str, texts: list[str], cache) -> np.ndarray:
    mid = model_id_of(config)
    hashes = [be.text_hash(mid, t) for t in texts]
    found = cache.get_many(hashes)
    return np.stack([found[h] for h in hashes])


def rank(matrix: np.ndarray, ids: list[str], query: np.ndarray, rows: np.ndarray | None = None,
         skip: str | None = None) -> list[str]:
    sub = matrix if rows is None else matrix[rows]
    sub_ids = ids if rows is None else [ids[i] for i in rows]
    scores = sub @ query
    top = np.argsort(-scores, kind="stable")[: REC_DEPTH + 1]
    return [sub_ids[i] for i in top if sub_ids[i] != skip][:REC_DEPTH]


def speed(configs: list[str], n: int, args) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {}
    order = [c for c in configs if c.startswith("st-")][:1]
    order = order + [c for c in configs if not c.startswith("st-")] + order
    for config in order:
        if config.startswith("st-"):
            out = subprocess.run([args.ref_python, str(Path(be.__file__)), "speed", "--n", str(n),
                                  "--threads", str(args.threads), "--configs", config],
                                 check=True, capture_output=True, text=True).stdout
        else:
            out = subprocess.run([sys.executable, str(Path(be.__file__)), "speed", "--n", str(n),
                                  "--threads", str(args.threads), "--configs", config],
                                 check=True, capture_output=True, text=True).stdout
        line = out.strip().splitlines()[-1]
        rates.setdefault(config, []).append(float(line.split("wall")[1].split()[0]))
        print(f"# speed {line}", flush=True)
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="st-fp32-256,default")
    parser.add_argument("--ref-python", default="/tmp/refvenv/bin/python")
    parser.add_argument("--rec-folder", type=Path,
                        default=ROOT.parent / "shared" / "relevance" / "rec-dev")
    parser.add_argument("--readers", type=int, default=100)
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--distractors", type=int, default=1400)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--speed", type=int, default=0, help="time N abstracts per config")
    parser.add_argument("--sets", default="keywords-dev,rec-dev")
    parser.add_argument("--cache-dir", default=str(ROOT / "benchmarks" / "out" / "embed-cache"))
    parser.add_argument("--product-cache", default=str(
        Path(os.environ.get("PAPERWIRE_DATA_DIR") or ROOT / "benchmarks" / "out" / "data")
        / "embedding-cache"), help="the eval cache (default: $PAPERWIRE_DATA_DIR/embedding-cache)")
    args = parser.parse_args()
    configs = args.configs.split(",")
    sets = args.sets.split(",")

    texts: list[str] = []
    if "keywords-dev" in sets:
        kw_ids, kw_texts, kw_queries, kw_qrels = keywords_dev(args.distractors)
        kw_q = sorted(kw_queries)
        texts += kw_texts + [f(kw_queries[q]) for f in (embed_text, word_bag) for q in kw_q]
        print(f"# keywords-dev: {len(kw_ids)} docs ({args.distractors} distractors), "
              f"{len(kw_q)} queries", flush=True)
    if "rec-dev" in sets:
        folder = sample_folder(args.rec_folder, args.readers, args.docs, args.seed) \
            if args.readers else args.rec_folder
        rec_ids, rec_texts, tasks, rec_qrels = rec_dev(folder)
        texts += [rec_texts[i] for i in rec_ids]
        texts += [f(rec_texts[t[1]]) for f in (embed_text, word_bag) for t in tasks]
        print(f"# rec-dev: {folder.name}, {len(rec_ids)} docs, {len(tasks)} readers", flush=True)
    for config in configs:
        rate = fill(config, texts, args)
        if rate:
            print(f"# {config}: embedded the missing texts at {rate:.1f}/s", flush=True)

    ref = next((c for c in configs if c.startswith("st-")), None)
    results: dict[str, dict[str, float]] = {}
    for config in configs:
        row = results.setdefault(config, {})
        cache = cache_for(config, args)
        if "keywords-dev" in sets:
            m = vectors(config, kw_texts, cache)
            for how, form in (("typed", embed_text), ("words", word_bag)):
                qv = vectors(config, [form(kw_queries[q]) for q in kw_q], cache)
                run = {q: rank(m, kw_ids, qv[i]) for i, q in enumerate(kw_q)}
                row[f"kw {how} nDCG@10"] = score_run(run, kw_qrels)["nDCG@10"]
        if "rec-dev" in sets:
            m = vectors(config, [rec_texts[i] for i in rec_ids], cache)
            where = {pid: i for i, pid in enumerate(rec_ids)}
            forms = {"typed": embed_text, "words": word_bag}
            for how in ("doc", "typed", "words"):
                qv = vectors(config, [forms[how](rec_texts[t[1]]) for t in tasks], cache) \
                    if how != "doc" else None
                run = {}
                for i, (rid, example, cands) in enumerate(tasks):
                    q = m[where[example]] if qv is None else qv[i]
                    rows = np.fromiter((where[c] for c in cands), dtype=np.int64)
                    run[rid] = rank(m, rec_ids, q, rows, skip=example)
                sc = score_run(run, rec_qrels)
                row[f"rec {how} nDCG@10"] = sc["nDCG@10"]
                row[f"rec {how} MRR@10"] = sc["MRR@10"]
                row[f"rec {how} R@100"] = sc["R@100"]
            if ref:
                r = vectors(ref, [rec_texts[i] for i in rec_ids], cache_for(ref, args))
                row["cos to ref (rec docs)"] = float(np.mean(np.sum(m * r, axis=1)))
    columns = list(next(iter(results.values())))
    print("| config | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for config, row in results.items():
        print(f"| {config} | " + " | ".join(f"{row[c]:.3f}" for c in columns) + " |")
    if args.speed:
        rates = speed(configs, args.speed, args)
        base = float(np.mean(rates[ref])) if ref else None
        for config, values in rates.items():
            ratio = f" ({np.mean(values) / base:.2f}x the reference)" if base else ""
            print(f"speed {config}: {', '.join(f'{v:.1f}' for v in values)} abstracts/s{ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
