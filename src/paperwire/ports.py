"""The ports: what services need from adapters, as small Protocols.

`wiring.Container` builds one adapter for each, once per process; services and routes
type against these, never against an adapter class, and never guess whether one exists.
Mailer, JobQueue and Embedder are defined next to their adapters and listed here too.
`wiring.Container` annotates its fields with these, so nothing outside wiring.py needs
to know which adapter it got (in-process vectors or pgvector, BM25 or none, SMTP or
the outbox folder).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from paperwire.mail.transport import Mailer  # noqa: F401  (a port)
from paperwire.search.embedder import Embedder  # noqa: F401  (a port)
from paperwire.services.background import JobQueue

if TYPE_CHECKING:
    import numpy as np

    from paperwire.domain.records import PaperRecord
    from paperwire.search.plan import SearchFilters
    from paperwire.search.text_analysis import Analyzer
    from paperwire.services.search_results import SearchHit, SearchResults

# ids -> records, in the order asked; raises PaperNotFound (a SourceError) for an id the
# source does not know, SourceUnavailable / SourceRefused when it does not answer.
PaperFetcher = Callable[[list[str]], list["PaperRecord"]]


class PaperSearch(Protocol):
    """Keyword / semantic / hybrid search over the papers (services.search.SearchService)."""

    def search(self, query: str, *, mode: str = "hybrid", filters: SearchFilters | None = None,
               sort: str = "relevance", limit: int = 20, offset: int = 0,
               snippets: bool = True) -> SearchResults: ...

    def similar(self, paper_id: str, *, limit: int = 10) -> list[SearchHit]:
        """Papers like this one; KeyError for an unknown paper."""
        ...

    def more_like(self, paper_ids: Sequence[str], *, mode: str = "hybrid",
                  candidates: Sequence[str] | None = None, limit: int = 10) -> list[SearchHit]:
        """Papers like these examples (never the examples themselves)."""
        ...


class JobService(JobQueue, Protocol):
    """The job queue and this process's runner of it (services.background.JobRunner)."""

    def start(self) -> None: ...

    def stop(self, timeout_s: float = 30.0) -> None: ...

    def run_pending(self, limit: int = 100) -> int: ...


class KeywordIndex(Protocol):
    """The in-memory BM25 ranker (search.bm25.Bm25Index), built in the background."""

    analyzer: Analyzer
    last_error: str | None

    @property
    def ready(self) -> bool: ...

    def start(self) -> None: ...

    def wait_ready(self, timeout: float | None = None) -> bool: ...

    def document_frequencies(self, stems: Iterable[str]) -> tuple[dict[str, int], int]: ...

    def wait_snapshots(self, timeout: float | None = None) -> bool: ...

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

    def vectors_for(self, paper_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of those papers that have one, read at once."""
        ...

    def coverage(self) -> tuple[int, int]: ...

    def describe(self) -> str: ...

    def refresh(self, *, force: bool = False) -> int:
        """Catch up with the stored vectors now; how many changed."""
        ...

    def build_ann(self, *, wait: bool = True) -> bool:
        """Bring the approximate-neighbour graph up to date; True when one is in use."""
        ...

    def wait_snapshots(self, timeout: float | None = None) -> bool:
        """Until snapshots handed to the writer are on disk (True at once if none)."""
        ...
