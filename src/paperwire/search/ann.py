"""Candidate proposers over the index's matrix rows: an int8 scan, or an approximate-
nearest-neighbour graph (usearch HNSW) for very large indexes.

Only used for large indexes (see VectorIndex.ann_min_vectors): the proposer names
candidate rows, and the caller re-scores them exactly with the float32 matrix, so
scores are always true cosines. Keys are matrix row numbers. A proposer that searches use
is never changed: the index updates a `copy()` and swaps it in. Both have the same
methods (`proposer_for` picks one by size).

Up to SCAN_MAX_VECTORS rows the int8 scan is both faster and exact: every row's int8 dot
product in one onnxruntime MatMulInteger (pre-packed weights, one core) costs 6.7-6.9 ms
at 80k x 384, and its best 2k rows re-scored in float32 held the exact best 300 for all of
300 real-vector queries; the HNSW graph took 9.6 ms for 1,200 proposals and still missed
above-floor papers in 132 of them (benchmarks/bench_vector_proposals.py, RESULTS.md). The
scan grows with the rows, the graph about with their logarithm: past SCAN_MAX_VECTORS the
graph is used.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import numpy as np

SCAN_MAX_VECTORS = 150_000


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


def proposer_kind(rows: int) -> str:
    """The kind of proposer for an index of `rows` vectors."""
    return Int8Scan.kind if rows <= SCAN_MAX_VECTORS else HnswGraph.kind


def proposer_for(rows: int, dim: int) -> HnswGraph | Int8Scan:
    """A new, empty proposer for an index of about `rows` vectors."""
    return Int8Scan(dim) if proposer_kind(rows) == Int8Scan.kind else HnswGraph(dim)


def load_proposer(folder: Path, kind: str, dim: int) -> HnswGraph | Int8Scan:
    """The proposer a snapshot saved (`kind`: its `kind`)."""
    if kind == Int8Scan.kind:
        return Int8Scan.load(folder / Int8Scan.file, dim)
    return HnswGraph.load(folder / HnswGraph.file, dim)


class Int8Scan:
    """Every row's int8 dot product with the query, the best `count` rows proposed.

    The rows are stored as int8 (one scale for all, from the first rows added: unit
    vectors' components; later outliers are clipped, which only blurs their proposal
    score) and multiplied with the query's int8 copy by onnxruntime's MatMulInteger (uint8
    x int8, integer sums: exact for these integers). The products are only an order for
    proposing: the caller re-scores the proposals in float32.
    """

    kind = "int8-scan"
    file = "proposer-int8.npz"

    def __init__(self, dim: int, *, rows: np.ndarray | None = None,
                 scale: float | None = None) -> None:
        self.dim = dim
        self._rows = rows if rows is not None else np.zeros((0, dim), dtype=np.int8)
        self._scale = scale
        self._session = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._rows)

    def proposals(self, k: int) -> int:
        """How many rows to propose for the best k."""
        return max(2 * k, 200)

    def _quantised(self, vectors: np.ndarray) -> np.ndarray:
        if self._scale is None:
            self._scale = 127.0 / max(float(np.abs(vectors).max(initial=0.0)), 1e-12)
        return np.clip(np.rint(vectors * self._scale), -127, 127).astype(np.int8)

    def add(self, first_row: int, vectors: np.ndarray, *, threads: int = 0) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if not len(vectors):
            return
        if first_row != len(self._rows):
            raise ValueError(f"rows are added at the end ({len(self._rows)}), not {first_row}")
        self._rows = np.concatenate([self._rows, self._quantised(vectors)])
        self._session = None

    def copy(self) -> Int8Scan:
        """An independent copy (the rows array is never changed in place: shared)."""
        return Int8Scan(self.dim, rows=self._rows, scale=self._scale)

    def replace(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        """New vectors for rows already held."""
        if len(rows):
            updated = self._rows.copy()
            updated[np.asarray(rows, dtype=np.int64)] = self._quantised(
                np.asarray(vectors, dtype=np.float32))
            self._rows = updated
            self._session = None

    def prepare(self) -> None:
        """Build the product for the current rows (else the first search does)."""
        self._product()

    def _product(self):
        session = self._session
        if session is not None:
            return session
        with self._lock:
            if self._session is None:
                self._session = _matmul_integer(self._rows)
            return self._session

    def search(self, query: np.ndarray, count: int) -> np.ndarray:
        """The `count` rows with the largest int8 products, best first."""
        n = len(self._rows)
        count = min(count, n)
        if count <= 0:
            return np.zeros(0, dtype=np.int64)
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        scale = 127.0 / max(float(np.abs(q).max(initial=0.0)), 1e-12)
        q8 = (np.clip(np.rint(q * scale), -127, 127).astype(np.int16) + 128).astype(np.uint8)
        scores = self._product().run(None, {"q": q8[None]})[0][0]
        best = np.argpartition(-scores, count - 1)[:count] if count < n else np.arange(n)
        return best[np.argsort(-scores[best], kind="stable")].astype(np.int64)

    def save(self, path: Path) -> None:
        with path.open("wb") as fh:
            np.savez(fh, rows=self._rows, scale=np.float64(self._scale or 0.0))

    @classmethod
    def load(cls, path: Path, dim: int) -> Int8Scan:
        with np.load(path) as saved:
            rows, scale = saved["rows"], float(saved["scale"])
        if rows.dtype != np.int8 or rows.ndim != 2 or rows.shape[1] != dim:
            raise ValueError(f"bad int8 proposer file {path}")
        scan = cls(dim, rows=rows, scale=scale or None)
        scan.prepare()
        return scan


def _matmul_integer(rows: np.ndarray):
    """An onnxruntime session: uint8 query (zero point 128) x int8 rows^T -> int32 (n)."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    n, dim = rows.shape
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["q", "w", "zero"], ["y"])], "int8_scan",
        [helper.make_tensor_value_info("q", TensorProto.UINT8, [1, dim])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [1, n])],
        [numpy_helper.from_array(np.ascontiguousarray(rows.T), "w"),
         numpy_helper.from_array(np.array(128, dtype=np.uint8), "zero")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # one search, one core (no spinning pool threads)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


class HnswGraph:
    """HNSW over float16 copies of the vectors (cosine)."""

    kind = "hnsw"
    file = "graph.usearch"

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

    def proposals(self, k: int) -> int:
        """How many rows to propose for the best k (float16 graph, re-scored exactly)."""
        return max(4 * k, 200)

    def prepare(self) -> None:
        """Nothing to build before the first search."""

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
