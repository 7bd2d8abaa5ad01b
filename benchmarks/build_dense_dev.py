"""Build dev sets where dense retrieval should win, as BEIR folders for `paperwire eval`.

keywords-dev (three keyword phrases per known paper) is BM25's home ground; the issue's
held-out query-by-example set (a paper's title and abstract, graded, 4.2k CS papers) is
one where the dense model wins. This script builds two sets of the second kind from the
shared data, over the same corpus:

* `summary` (natural-language paraphrase, known item): the query is a paper's Hugging
  Face `ai_summary`, a one-sentence summary written by a language model in its own
  words; the relevant document is that paper (score 1). A description of what a paper
  does, not the words it uses: the case dense retrieval was built for.
* `qbe` (query-by-example, graded by topic): the query is a held-out paper's title and
  abstract (as the issue's held-out set; the paper itself is not in the corpus); the
  relevant documents are graded by how much they share the query paper's arXiv
  categories, which the authors chose and which no ranker sees: 2 = the same set of
  categories, 1 = Jaccard overlap of at least 0.5. Only query papers with two or more
  categories are drawn (one broad category such as cs.CV alone would make half the
  corpus relevant).

The corpus is the papers that are in both shared data sets and have an `ai_summary`
(arXiv metadata for the categories, Hugging Face for the summary: 3,575 papers, of which
the query-by-example queries are held out), with their text taken verbatim from
`../shared/relevance/keywords-dev` (so the content-hash embedding cache filled by
`paperwire eval` on keywords-dev serves them). `--corpus FOLDER` takes the corpus from
another BEIR folder instead (its papers with arXiv categories; `summary` queries only for
those also on Hugging Face), e.g. a rec-dev sample whose vectors are cached already.

    .venv/bin/python benchmarks/build_dense_dev.py                       # full: 3,475 + 100
    .venv/bin/python benchmarks/build_dense_dev.py --limit 2000 --queries 100   # a sample
    PAPERWIRE_DATA_DIR=/work/cache/evaldata .venv/bin/paperwire eval \\
        benchmarks/out/dense-dev-qbe --mode all

Writes benchmarks/out/dense-dev[-NAME]-summary and ...-qbe (corpus.jsonl.gz,
queries.jsonl, qrels/test.tsv) and prints what it wrote. Deterministic for a seed.
"""

from __future__ import annotations

import argparse
import gzip
import random
from collections.abc import Iterator
from pathlib import Path

import orjson

from paperwire.search.beir import read_corpus

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
OUT = ROOT / "benchmarks" / "out"
ARXIV = SHARED / "data" / "arxiv-cs-2025.jsonl.gz"
HF_DIR = SHARED / "data" / "hf-daily-papers"
KEYWORDS_DEV = SHARED / "relevance" / "keywords-dev"
MIN_QUERY_CATEGORIES = 2
PARTIAL_JACCARD = 0.5


def arxiv_categories(path: Path = ARXIV) -> dict[str, tuple[str, ...]]:
    """arXiv id -> its categories, primary first."""
    out: dict[str, tuple[str, ...]] = {}
    with gzip.open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                row = orjson.loads(line)
                out[str(row["id"])] = tuple(str(row.get("categories") or "").split())
    return out


def hf_items(folder: Path = HF_DIR) -> Iterator[dict]:
    """The paper objects of the raw daily_papers files (repr strings and odd shapes skipped:
    they carry no `ai_summary`)."""
    for path in sorted(folder.glob("*.json")):
        try:
            data = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError:
            continue
        if isinstance(data, dict):
            data = data.get("data") or []
        for item in data if isinstance(data, list) else []:
            paper = item.get("paper") if isinstance(item, dict) else None
            if isinstance(paper, dict) and paper.get("id"):
                yield paper


def ai_fields(folder: Path = HF_DIR) -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """arXiv id -> its Hugging Face `ai_summary`, and -> its `ai_keywords` (case-folded
    phrases), where there are (the last item seen for a paper wins)."""
    summaries: dict[str, str] = {}
    keywords: dict[str, frozenset[str]] = {}
    for paper in hf_items(folder):
        pid = str(paper["id"])
        summary = " ".join(str(paper.get("ai_summary") or "").split())
        if summary:
            summaries[pid] = summary
        phrases = paper.get("ai_keywords")
        if isinstance(phrases, list):
            folded = frozenset(" ".join(str(k).casefold().split()) for k in phrases if k)
            if folded:
                keywords[pid] = folded
    return summaries, keywords


def grade(query: tuple[str, ...], doc: tuple[str, ...]) -> int:
    """2 = the same categories, 1 = Jaccard overlap >= PARTIAL_JACCARD, 0 otherwise."""
    a, b = set(query), set(doc)
    if not a or not b:
        return 0
    if a == b:
        return 2
    return 1 if len(a & b) / len(a | b) >= PARTIAL_JACCARD else 0


def grade_with_concepts(query: tuple[str, ...], doc: tuple[str, ...],
                        query_concepts: frozenset[str], doc_concepts: frozenset[str]) -> int:
    """`grade` by categories, one higher when the two papers also share a Hugging Face
    `ai_keywords` phrase (a concept a language model named for each paper): 3 = the same
    categories and a shared concept, 2 = the same categories or an overlap and a shared
    concept, 1 = an overlap. A shared concept alone (other categories) is not relevant."""
    base = grade(query, doc)
    return base + 1 if base and query_concepts & doc_concepts else base


def build(
    *,
    corpus_folder: Path | None,
    limit: int | None,
    queries: int,
    seed: int,
    name: str,
) -> list[Path]:
    categories = arxiv_categories()
    summaries, concepts = ai_fields()
    source = corpus_folder or KEYWORDS_DEV
    docs = [d for d in read_corpus(source) if categories.get(d.id)]
    if corpus_folder is None:  # the papers in both data sets, with an ai_summary
        docs = [d for d in docs if d.id in summaries]
    docs.sort(key=lambda d: d.id)
    rng = random.Random(seed)
    # Query-by-example queries are held out of the corpus; drawn first.
    eligible = [d for d in docs if len(categories[d.id]) >= MIN_QUERY_CATEGORIES]
    qbe_queries = sorted(rng.sample(eligible, min(queries, len(eligible))), key=lambda d: d.id)
    held_out = {d.id for d in qbe_queries}
    corpus = [d for d in docs if d.id not in held_out]
    if limit is not None and limit < len(corpus):
        corpus = sorted(rng.sample(corpus, limit), key=lambda d: d.id)
    with_summary = [d for d in corpus if d.id in summaries]
    summary_queries = sorted(rng.sample(with_summary, min(queries, len(with_summary))),
                             key=lambda d: d.id)

    suffix = f"-{name}" if name else ""
    written = []
    qbe_qrels, concept_qrels = {}, {}
    none: frozenset[str] = frozenset()
    for q in qbe_queries:
        graded = {d.id: g for d in corpus if (g := grade(categories[q.id], categories[d.id]))}
        if graded:
            qbe_qrels[q.id] = graded
        if q.id not in concepts:
            continue
        finer = {d.id: g for d in corpus if (g := grade_with_concepts(
            categories[q.id], categories[d.id], concepts[q.id], concepts.get(d.id, none)))}
        if finer:
            concept_qrels[q.id] = finer
    qbe_text = {q.id: f"{q.title}\n{q.text}".strip() for q in qbe_queries}
    sets = {
        "summary": ({d.id: summaries[d.id] for d in summary_queries},
                    {d.id: {d.id: 1} for d in summary_queries}),
        "qbe": ({q: t for q, t in qbe_text.items() if q in qbe_qrels}, qbe_qrels),
        "qbe-concepts": ({q: t for q, t in qbe_text.items() if q in concept_qrels},
                         concept_qrels),
    }
    for kind, (texts, qrels) in sets.items():
        target = OUT / f"dense-dev{suffix}-{kind}"
        (target / "qrels").mkdir(parents=True, exist_ok=True)
        with gzip.open(target / "corpus.jsonl.gz", "wb") as handle:
            for d in corpus:
                row = {"_id": d.id, "title": d.title, "text": d.text}
                if d.date:
                    row["date"] = d.date
                handle.write(orjson.dumps(row) + b"\n")
        with (target / "queries.jsonl").open("wb") as handle:
            for qid, text in texts.items():
                handle.write(orjson.dumps({"_id": f"q-{qid}", "text": text}) + b"\n")
        with (target / "qrels" / "test.tsv").open("w", encoding="utf-8") as handle:
            handle.write("query-id\tcorpus-id\tscore\n")
            for qid, rel in qrels.items():
                for pid, score in sorted(rel.items()):
                    handle.write(f"q-{qid}\t{pid}\t{score}\n")
        judged = [len(r) for r in qrels.values()]
        mean = sum(judged) / len(judged) if judged else 0.0
        print(f"{target.relative_to(ROOT)}: {len(corpus)} papers, {len(texts)} queries, "
              f"{mean:.1f} judged per query", flush=True)
        written.append(target)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None,
                        help="take the corpus from this BEIR folder (default: the papers of "
                        "keywords-dev that are in both shared data sets)")
    parser.add_argument("--limit", type=int, default=None,
                        help="at most this many corpus papers (a seeded sample)")
    parser.add_argument("--queries", type=int, default=100, help="queries per set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="", help="folder name part (dense-dev-NAME-KIND)")
    args = parser.parse_args()
    build(corpus_folder=args.corpus, limit=args.limit, queries=args.queries, seed=args.seed,
          name=args.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
