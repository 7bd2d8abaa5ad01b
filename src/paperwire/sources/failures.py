"""Keep what a live source delivered before it failed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from paperwire.domain.records import Rejected, SourceItem
from paperwire.sources.http_client import SourceError


class FailureAtEnd:
    """Wraps a source stream so that a failure is written down, not lost with its batch.

    ingest() reads its input in batches of `batch_size` and commits each one. When
    the source raises SourceError, this stream yields one Rejected naming the
    failure, then ends the batch in progress (so ingest() commits everything
    fetched so far) and raises the error on the next pull, so the run is logged
    as failed with the failure among its errors. `raise_if_failed()` surfaces
    the error to callers in any case.
    """

    def __init__(self, items: Iterable[SourceItem | Rejected], batch_size: int) -> None:
        self._items: Iterator[SourceItem | Rejected] = iter(items)
        self._batch_size = batch_size
        self._pulled = 0
        self.error: SourceError | None = None
        self._end_batch_first = False

    def __iter__(self) -> FailureAtEnd:
        return self

    def __next__(self) -> SourceItem | Rejected:
        if self.error is not None:
            if self._end_batch_first:
                self._end_batch_first = False
                raise StopIteration
            raise self.error
        try:
            item = next(self._items)
        except SourceError as exc:
            self.error = exc
            item = Rejected("source", str(exc))
        self._pulled += 1
        if self.error is not None:
            # A batch still open must end (and be committed) before the error is raised.
            self._end_batch_first = self._pulled % self._batch_size != 0
        return item

    def raise_if_failed(self) -> None:
        if self.error is not None:
            raise self.error
