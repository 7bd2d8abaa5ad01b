"""The ports: what services need from adapters, as small Protocols.

`wiring.Container` builds one adapter for each, once per process; services and routes
type against these, never against an adapter class, and never guess whether one exists.
Mailer, JobQueue and Embedder are defined next to their adapters and listed here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from paperwire.mail.transport import Mailer  # noqa: F401  (a port)
from paperwire.search.embedder import Embedder  # noqa: F401  (a port)
from paperwire.services.background import JobQueue  # noqa: F401  (a port)

if TYPE_CHECKING:
    import numpy as np

    from paperwire.domain.records import PaperRecord
    from paperwire.search.plan import SearchFilters
    from paperwire.search.text_analysis import Analyzer
    from paperwire.services.search_results import SearchResults

# ids -> records, in the order asked; raises PaperNotFound (a SourceError) for an id the
# source does not know, SourceUnavailable / SourceRefused when it does not answer.
PaperFetcher = Callable[[list[str]], list["PaperRecord"]]


class PaperSearch(Protocol):
    """Keyword / semantic / hybrid search over the papers (services.search.SearchService)."""

    def search(self, query: str, *, mode: str = "hybrid", filters: SearchFilters | None = None,
               sort: str = "relevance", limit: int = 20, offset: int = 0) -> SearchResults: ...


class KeywordIndex(Protocol):
    """The in-memory BM25 ranker (search.bm25.Bm25Index), built in the background."""

    analyzer: Analyzer
    last_error: str | None

    @property
    def ready(self) -> bool: ...

    def start(self) -> None: ...

    def wait_ready(self, timeout: float | None = None) -> bool: ...

    def document_frequencies(self, stems: Iterable[str]) -> tuple[dict[str, int], int]: ...

    def search(self, words: Sequence[str], k: int, *, candidates: Iterable[str] | None = None,
               proximity: bool = True, refresh: bool = True
               ) -> tuple[list[tuple[str, float]], int]: ...

    def describe(self) -> str: ...


class VectorIndex(Protocol):
    """Nearest papers to a vector (search.vectors.VectorIndex, search.pgvector.PgVectorIndex)."""

    model_id: str

    def search(self, query: np.ndarray, k: int, *,
               candidates: Sequence[str] | np.ndarray | None = None
               ) -> list[tuple[str, float]]: ...

    def vector_for(self, paper_id: str) -> np.ndarray | None: ...

    def coverage(self) -> tuple[int, int]: ...

    def describe(self) -> str: ...
