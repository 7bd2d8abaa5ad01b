"""Query-by-example: which words of a paper (or of a reader's papers) form its keyword query.

A whole abstract used as a BM25 query is mostly noise: every common word ("model",
"results", "propose") adds a little score to most of the corpus and flattens the ranking
(the issue measured BM25 on whole-abstract queries below bm25s, which drops English
stopwords). The query drops stopwords, numbers and single letters, weights each word by
how often the example uses it (capped, so one repeated word cannot dominate), and, as
Lucene's MoreLikeThis, keeps at most MAX_EXAMPLE_TERMS words, the most specific first
(tf x idf). On rec-dev fewer words lost: 20 words 0.031, 40 0.038, 64 0.040, all 0.041
nDCG@10 (benchmarks/RESULTS.md), so the bound only matters for long libraries.
Pure functions; the caller supplies the analysis and the document frequencies.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Measured on rec-dev with `paperwire eval-rec --library-size 1 --mode keyword`
# (benchmarks/RESULTS.md, issue 13).
MAX_EXAMPLE_TERMS = 128  # about every content word of an abstract; bounds a long library
TF_CAP = 3


@dataclass(frozen=True, slots=True)
class ExampleTerm:
    word: str  # a surface form (the ranker analyses it again to the same stem)
    stem: str
    weight: int  # query term frequency: how many times the word is put in the query


def count_terms(
    pairs: Iterable[tuple[str, str]], stopwords: frozenset[str]
) -> tuple[Counter[str], dict[str, str]]:
    """(stem -> occurrences, stem -> first surface word) from (word, stem) pairs.

    Stopwords, single characters and bare numbers are left out.
    """
    counts: Counter[str] = Counter()
    surface: dict[str, str] = {}
    for word, stem in pairs:
        if word in stopwords or len(word) < 2 or word.isdigit():
            continue
        counts[stem] += 1
        surface.setdefault(stem, word)
    return counts, surface


def select_terms(
    counts: Mapping[str, int],
    surface: Mapping[str, str],
    df: Mapping[str, int] | None,
    n_docs: int,
    *,
    max_terms: int = MAX_EXAMPLE_TERMS,
) -> list[ExampleTerm]:
    """The example's best `max_terms` terms by tf x idf, best first.

    Without document frequencies (`df` None) terms are ranked by frequency alone. Terms
    no paper holds are dropped (they cannot match).
    """
    def score(stem: str) -> float:
        tf = min(counts[stem], TF_CAP)
        if df is None:
            return float(tf)
        d = df.get(stem, 0)
        return tf * math.log(1 + (n_docs - d + 0.5) / (d + 0.5))

    stems = list(counts)
    if df is not None:
        stems = [s for s in stems if df.get(s, 0) > 0]
    stems.sort(key=lambda s: (-score(s), s))
    return [
        ExampleTerm(surface[s], s, min(counts[s], TF_CAP)) for s in stems[: max(0, max_terms)]
    ]


def query_words(terms: Iterable[ExampleTerm]) -> list[str]:
    """The words to hand the BM25 ranker: each repeated `weight` times (query tf)."""
    return [t.word for t in terms for _ in range(t.weight)]
