"""The snippet highlighter's rule, checked on real words: every word stems to a stem whose
`stem_prefixes` it begins with.

    .venv/bin/python benchmarks/check_stem_prefixes.py

`search.highlight` stems only the words of an abstract that begin like a query stem (all
but the stem's last two letters, up to four, at least two; a y variant for two-letter stems
ending in i). This reads every distinct word of the keywords-dev corpus and of the arXiv
snapshot (titles and abstracts, as the keyword index analyses them) and prints how many
words there are and any that the rule would miss (there should be none).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

from paperwire.search.beir import read_corpus  # noqa: E402
from paperwire.search.highlight import stem_prefixes  # noqa: E402
from paperwire.search.text_analysis import Analyzer  # noqa: E402


def main() -> None:
    analyzer = Analyzer()
    words: set[str] = set()
    for doc in read_corpus(SHARED / "relevance/keywords-dev"):
        words.update(analyzer.words(f"{doc.title} {doc.text}"))
    with gzip.open(SHARED / "data/arxiv-cs-2025.jsonl.gz", "rt") as lines:
        for line in lines:
            paper = json.loads(line)
            words.update(analyzer.words(f"{paper.get('title', '')} {paper.get('abstract', '')}"))
    ordered = sorted(words)
    missed = [(word, stem) for word, stem in zip(ordered, analyzer.stems(ordered), strict=True)
              if not word.startswith(tuple(stem_prefixes(frozenset([stem]))))]
    print(f"{len(ordered)} distinct words, {len(missed)} not beginning with their stem's "
          f"prefixes{': ' + ', '.join(f'{w} -> {s}' for w, s in missed[:20]) if missed else ''}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
