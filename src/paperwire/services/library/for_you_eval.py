"""The `for-you` mode of `paperwire eval-rec`: the For-you ranker fed a reader's library.

The ranker's library view works on the papers' words alone (dense embeddings measured
worse on rec-dev, see docs/library.md), so it needs no embedded corpus.
`for-you-keyword` is the same ranker under its earlier name (not run again by `all`).
"""

from __future__ import annotations

from collections.abc import Sequence

from paperwire.services.library.for_you import rank_by_library


def _rank(library: Sequence[str], candidates: Sequence[str], services, depth: int) -> list[str]:
    picks = rank_by_library(services.container.engine, services.search, library, candidates,
                            limit=depth)
    return [p.paper_id for p in picks]


def register(register_rec_mode) -> None:
    register_rec_mode("for-you", _rank, needs_embeddings=False)
    register_rec_mode("for-you-keyword", _rank, needs_embeddings=False, in_all=False)
