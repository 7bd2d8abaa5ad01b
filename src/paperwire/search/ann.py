"""An approximate-nearest-neighbour graph (usearch HNSW) over the index's matrix rows.

Only used for large indexes (see VectorIndex.ann_min_vectors): the graph proposes
candidate rows, and the caller re-scores them exactly with the float32 matrix, so
scores are always true cosines. Keys are matrix row numbers. A graph that searches use
is never changed: the index updates a `copy()` and swaps it in.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np


def _import_usearch():
    """Import usearch, loading onnxruntime's native library first.

    Loading usearch's extension before onnxruntime's crashes the process
    (segmentation fault) when onnxruntime is imported afterwards; the other
    order is safe. Every usearch import goes through here.
    """
    with contextlib.suppress(ImportError):
        import onnxruntime  # noqa: F401
    import usearch.index

    return usearch.index


def usearch_available() -> bool:
    try:
        _import_usearch()
    except ImportError:
        return False
    return True


class HnswGraph:
    """HNSW over float16 copies of the vectors (cosine)."""

    def __init__(self, dim: int, *, index=None) -> None:
        Index = _import_usearch().Index

        self.dim = dim
        self._index = index or Index(
            ndim=dim,
            metric="cos",
            dtype="f16",
            connectivity=16,
            expansion_add=96,
            expansion_search=400,
        )

    def __len__(self) -> int:
        return len(self._index)

    def add(self, first_row: int, vectors: np.ndarray, *, threads: int = 0) -> None:
        if len(vectors):
            keys = np.arange(first_row, first_row + len(vectors), dtype=np.uint64)
            self._index.add(keys, np.ascontiguousarray(vectors, dtype=np.float32), threads=threads)

    def copy(self) -> HnswGraph:
        """An independent copy: the graph a search uses is never changed (copy, update,
        swap)."""
        return HnswGraph(self.dim, index=self._index.copy())

    def replace(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        """New vectors for rows already in the graph."""
        if len(rows):
            keys = np.asarray(rows, dtype=np.uint64)
            self._index.remove(keys)
            self._index.add(keys, np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, query: np.ndarray, count: int) -> np.ndarray:
        matches = self._index.search(np.asarray(query, dtype=np.float32), count)
        return np.asarray(matches.keys, dtype=np.int64)

    def save(self, path: Path) -> None:
        self._index.save(str(path))

    @classmethod
    def load(cls, path: Path, dim: int) -> HnswGraph:
        Index = _import_usearch().Index

        index = Index.restore(str(path), view=False)
        if index is None or index.ndim != dim:
            raise ValueError(f"bad ANN graph file {path}")
        return cls(dim, index=index)
