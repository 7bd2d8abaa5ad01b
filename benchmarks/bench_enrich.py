"""Keyphrases and one-line summaries against Hugging Face's `ai_keywords` / `ai_summary`.

    .venv/bin/python benchmarks/bench_enrich.py --limit 2000 --baseline-limit 300

The extractor sees a paper's title and abstract only, never its Hugging Face values.
Corpus IDF comes from the keywords-dev corpus (the union of the shared data sets; the
same words the keyword index counts), cached under --cache-dir.

Keyphrases, over the top 5 of each method against all of Hugging Face's keywords:
- exact F1@5: a phrase matches when its set of Porter stems equals a gold phrase's;
- partial F1@5: a phrase matches when it shares a content word (stemmed) with a gold one.
Baselines in the same run (needs `pip install -e '.[bench]'` and torch): YAKE (n=3,
English) and KeyBERT (1-3-grams, English stopwords) with the bundled MiniLM embedder as
its backend, on the first --baseline-limit papers of the sample (KeyBERT is slow).
Summaries: ROUGE-L F1 (Porter-stemmed tokens) and the cosine of the bundled embedder's
vectors, for the extractive default and the abstract's first sentence (lead-1).
Speed: papers per second of keyphrases + summary on one core, IDF lookups included.
"""

from __future__ import annotations

import argparse
import gzip
import json
import pickle
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from paperwire.domain.keyphrases import extract_keyphrases, idf_from_frequencies  # noqa: E402
from paperwire.domain.summaries import extractive_summary, lead_sentence  # noqa: E402
from paperwire.search.text_analysis import Analyzer  # noqa: E402
from paperwire.sources.hf_daily import parse_daily_response  # noqa: E402

SHARED = ROOT.parent / "shared"
_WORD = re.compile(r"[^\W_]+")
_ENGLISH_STOP = frozenset(str.split("""
a an and are as at be by for from has have in into is it its of on or that the their this to
was were which with we our using based via
"""))


def load_hf_papers(folder: Path) -> list:
    papers = {}
    for path in sorted(folder.glob("*.json")):
        try:
            payload = json.loads(path.read_bytes())
        except ValueError:
            continue
        for item in parse_daily_response(payload, fetched_for=None, origin=path.name):
            paper = getattr(item, "paper", None)
            if paper is not None:
                papers[paper.id] = paper
    return [papers[k] for k in sorted(papers)]


def document_frequencies(corpus: Path, cache_dir: Path, analyzer: Analyzer) -> tuple[int, dict]:
    cache = cache_dir / "bench_enrich_df.pickle"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    df: Counter = Counter()
    n = 0
    with gzip.open(corpus, "rt", encoding="utf-8") as handle:
        for line in handle:
            doc = json.loads(line)
            df.update(set(analyzer.analyze(f"{doc.get('title', '')} {doc.get('text', '')}")))
            n += 1
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps((n, dict(df))))
    return n, dict(df)


class Matcher:
    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    def stems(self, phrase: str) -> frozenset[str]:
        return frozenset(self.analyzer.analyze(phrase))

    def content(self, phrase: str) -> set[str]:
        words = [w for w in _WORD.findall(phrase.lower()) if w not in _ENGLISH_STOP and len(w) > 2]
        return set(self.analyzer.stems(words))

    def f1_at_5(self, predicted: list[str], gold: list[str]) -> tuple[float, float]:
        predicted = predicted[:5]
        if not predicted or not gold:
            return 0.0, 0.0
        pred_keys = [self.stems(p) for p in predicted]
        gold_keys = {self.stems(g) for g in gold}
        precision = sum(k in gold_keys for k in pred_keys) / len(pred_keys)
        recall = len(gold_keys & set(pred_keys)) / len(gold_keys)
        exact = _f1(precision, recall)
        pred_words = [self.content(p) for p in predicted]
        gold_words = [self.content(g) for g in gold]
        precision = sum(any(p & g for g in gold_words) for p in pred_words) / len(pred_words)
        recall = sum(any(p & g for p in pred_words) for g in gold_words) / len(gold_words)
        return exact, _f1(precision, recall)


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def rouge_l(candidate: str, reference: str, analyzer: Analyzer) -> float:
    x, y = analyzer.analyze(candidate), analyzer.analyze(reference)
    if not x or not y:
        return 0.0
    previous = [0] * (len(y) + 1)
    for a in x:
        current = [0]
        for j, b in enumerate(y):
            current.append(previous[j] + 1 if a == b else max(previous[j + 1], current[j]))
        previous = current
    lcs = previous[-1]
    return _f1(lcs / len(x), lcs / len(y)) if lcs else 0.0


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def keyphrase_scores(name, method, papers, matcher) -> tuple[float, float, float]:
    exact, partial = [], []
    started = time.perf_counter()
    for paper in papers:
        predicted = method(paper.title, paper.abstract)
        e, p = matcher.f1_at_5(predicted, list(paper.ai_keywords))
        exact.append(e)
        partial.append(p)
    rate = len(papers) / max(time.perf_counter() - started, 1e-9)
    print(f"  {name:<22} exact F1@5 {mean(exact):.4f}  partial F1@5 {mean(partial):.4f}  "
          f"({rate:,.1f} papers/s, n={len(papers)})")
    return mean(exact), mean(partial), rate


def baselines(embedder):
    import yake
    from keybert import KeyBERT
    from keybert.backend import BaseEmbedder

    class BundledMiniLM(BaseEmbedder):
        def embed(self, documents, verbose=False):
            return embedder.embed(list(documents))

    yake_extractor = yake.KeywordExtractor(lan="en", n=3, top=5)
    keybert = KeyBERT(model=BundledMiniLM())

    def run_yake(title, abstract):
        return [k for k, _ in yake_extractor.extract_keywords(f"{title}. {abstract}")]

    def run_keybert(title, abstract):
        found = keybert.extract_keywords(f"{title}. {abstract}", keyphrase_ngram_range=(1, 3),
                                         stop_words="english", top_n=5)
        return [k for k, _ in found]

    return {"YAKE (n=3)": run_yake, "KeyBERT (MiniLM)": run_keybert}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=2000, help="papers sampled per measure")
    parser.add_argument("--baseline-limit", type=int, default=300,
                        help="papers of the sample the baselines run on (0: no baselines)")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/paperwire-bench"))
    args = parser.parse_args()

    analyzer = Analyzer()
    papers = load_hf_papers(SHARED / "data" / "hf-daily-papers")
    n_docs, df = document_frequencies(
        SHARED / "relevance" / "keywords-dev" / "corpus.jsonl.gz", args.cache_dir, analyzer)
    idf = idf_from_frequencies(lambda term: df.get(term, 0), n_docs, analyze=analyzer.analyze)
    rng = random.Random(args.seed)
    with_keywords = [p for p in papers if p.ai_keywords and p.abstract]
    with_summary = [p for p in papers if p.ai_summary and p.abstract]
    rng.shuffle(with_keywords)
    rng.shuffle(with_summary)
    kw_sample, sum_sample = with_keywords[: args.limit], with_summary[: args.limit]
    print(f"{len(papers)} Hugging Face papers; {len(with_keywords)} with ai_keywords, "
          f"{len(with_summary)} with ai_summary; corpus IDF over {n_docs} documents")

    def ours(title, abstract):
        return extract_keyphrases(title, abstract, idf=idf)

    matcher = Matcher(analyzer)
    print(f"\nKeyphrases, whole sample (n={len(kw_sample)}):")
    keyphrase_scores("Paperwire default", ours, kw_sample, matcher)

    from paperwire.search.embedder import default_embedder

    embedder = default_embedder()
    if args.baseline_limit:
        subset = kw_sample[: args.baseline_limit]
        print(f"\nKeyphrases, baseline subset (first {len(subset)} of the sample):")
        mine = keyphrase_scores("Paperwire default", ours, subset, matcher)
        results = {name: keyphrase_scores(name, method, subset, matcher)
                   for name, method in baselines(embedder).items()}
        best_exact = max(r[0] for r in results.values())
        best_partial = max(r[1] for r in results.values())
        print(f"  relative gain over the better baseline: exact "
              f"{(mine[0] / best_exact - 1) * 100:+.1f}%, partial "
              f"{(mine[1] / best_partial - 1) * 100:+.1f}% (target: +10% on both)")

    print(f"\nSummaries (n={len(sum_sample)}):")
    refs = [p.ai_summary for p in sum_sample]
    ref_vectors = embedder.embed(refs)
    for name, method in (("extractive default", extractive_summary),
                         ("lead-1", lambda t, a: lead_sentence(a))):
        outputs = [method(p.title, p.abstract) or "" for p in sum_sample]
        rouge = mean([rouge_l(o, r, analyzer) for o, r in zip(outputs, refs, strict=True)])
        vectors = embedder.embed(outputs)
        cosine = float((vectors * ref_vectors).sum(axis=1).mean())
        words = mean([len(o.split()) for o in outputs])
        print(f"  {name:<22} ROUGE-L F1 {rouge:.4f}  cosine {cosine:.4f}  ({words:.1f} words)")

    print("\nSpeed (keyphrases + summary, one process, IDF lookups included):")
    sample = papers[: max(args.limit, 500)]
    cold_idf = idf_from_frequencies(lambda term: df.get(term, 0), n_docs,
                                    analyze=analyzer.analyze)  # no cached lookups
    started, cpu_started = time.perf_counter(), time.process_time()
    for paper in sample:
        extract_keyphrases(paper.title, paper.abstract, idf=cold_idf)
        extractive_summary(paper.title, paper.abstract)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    print(f"  {len(sample) / elapsed:,.0f} papers/s wall clock ({len(sample)} papers, "
          f"{elapsed:.2f} s; 80k papers in {80_000 / (len(sample) / elapsed) / 60:.1f} min)")
    print(f"  {len(sample) / cpu:,.0f} papers per CPU-second of one core ({cpu:.2f} CPU s; "
          "wall clock is lower when other work shares the cores)")


if __name__ == "__main__":
    main()
