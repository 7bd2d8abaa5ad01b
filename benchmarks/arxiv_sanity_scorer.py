"""arxiv-sanity-lite's search scorer, re-implemented faithfully as the peer baseline.

karpathy/arxiv-sanity-lite, serve.py `search_rank`: the lower-cased query is split on
spaces; each paper scores 10 per query part found in the author names, 20 per part found
in the title, and up to 3 per occurrence in the abstract; papers scoring 0 are dropped;
everything is a Python substring scan over all papers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScanDoc:
    id: str
    title: str
    summary: str
    authors: str


def search_rank(docs: Sequence[ScanDoc], q: str, limit: int = 100) -> list[str]:
    if not q:
        return []
    qs = q.lower().strip().split()

    def match(s: str) -> int:
        s = s.lower()
        return sum(min(3, s.count(qp)) for qp in qs)

    def matchu(s: str) -> int:
        s = s.lower()
        return sum(int(s.count(qp) > 0) for qp in qs)

    pairs = []
    for p in docs:
        score = 0.0
        score += 10.0 * matchu(p.authors)
        score += 20.0 * matchu(p.title)
        score += 1.0 * match(p.summary)
        if score > 0:
            pairs.append((score, p.id))
    pairs.sort(reverse=True)
    return [pid for _, pid in pairs[:limit]]
