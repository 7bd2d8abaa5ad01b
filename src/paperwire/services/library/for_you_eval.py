"""The `for-you` modes of `paperwire eval-rec`: the For-you ranker fed a reader's library.

`for-you` uses hybrid query-by-example (it needs the corpus embedded); `for-you-keyword`
uses keyword query-by-example only, so it runs on a machine that cannot embed the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence

from paperwire.services.library.for_you import rank_by_library


def _ranker(mode: str):
    def rank(library: Sequence[str], candidates: Sequence[str], services, depth: int) -> list[str]:
        picks = rank_by_library(services.container.engine, services.search, library,
                                candidates, limit=depth, mode=mode)
        return [p.paper_id for p in picks]

    return rank


def register(register_rec_mode) -> None:
    register_rec_mode("for-you", _ranker("hybrid"))
    register_rec_mode("for-you-keyword", _ranker("keyword"), needs_embeddings=False)
