"""Candidate proposers over the index's matrix rows: an HNSW graph (usearch), and an int8
scan for deep searches while the index is small enough.

Only used for large indexes (see VectorIndex.ann_min_vectors): the proposer names
candidate rows, and the caller re-scores them exactly with the float32 matrix, so
scores are always true cosines. Keys are matrix row numbers. A proposer that searches use
is never changed: the index updates a `copy()` and swaps it in.

Which proposes depends on the depth (benchmarks/RESULTS.md, issue 13, session 10). For the
best 300 (hybrid search) the int8 scan, every row's int8 dot product on the rows' 256
leading principal axes in one onnxruntime MatMulNBits call (one core, ~4 ms at 80k rows),
is faster than the graph's 1,200 proposals (~9-11 ms) and exact: its 1,200 best rows held
the float32 best 300 for every query tried (session 11), where the graph missed
above-floor papers in 132 of 300 keywords-dev queries. For the best
100 (similar papers) the graph's 400 proposals cost less than the scan (paired: the scan
made similar papers 1.16-1.22x slower). The scan grows with the rows, the graph about with
their logarithm: past SCAN_MAX_VECTORS only the graph is kept.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import numpy as np

from paperwire.search.arrays import top_k

SCAN_MAX_VECTORS = 150_000
# Searches for more papers than this take their candidates from the scan, when there is one.
GRAPH_MAX_K = 100


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


class Proposer:
    """The candidate rows of a search: an HNSW graph, and while the index holds at most
    SCAN_MAX_VECTORS rows also an int8 scan, which proposes for deep searches (more than
    GRAPH_MAX_K papers: hybrid search asks for 300, exact with the scan) while shallow
    ones (similar papers ask for 100) take the graph's fewer, cheaper proposals."""

    def __init__(self, graph: HnswGraph, scan: Int8Scan | None) -> None:
        self.graph = graph
        self.scan = scan

    @classmethod
    def over(cls, vectors: np.ndarray) -> Proposer:
        """A proposer of these rows (the index's first rows)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        graph = HnswGraph(vectors.shape[1])
        graph.add(0, vectors)
        scan = Int8Scan.over(vectors) if len(vectors) <= SCAN_MAX_VECTORS else None
        return cls(graph, scan)

    @property
    def kind(self) -> str:
        return "hnsw+int8-scan" if self.scan is not None else "hnsw"

    def fits(self, rows: int) -> bool:
        """Whether this proposer's parts are the ones an index of `rows` vectors uses."""
        return (self.scan is not None) == (rows <= SCAN_MAX_VECTORS)

    def __len__(self) -> int:
        return len(self.graph)

    def propose(self, query: np.ndarray, k: int) -> np.ndarray:
        """Rows to re-score exactly for the best k (graph keys may be -1: no row)."""
        if self.scan is not None and k > GRAPH_MAX_K:
            return self.scan.search(query, self.scan.proposals(k))
        return self.graph.search(query, max(4 * k, 200))

    def add(self, first_row: int, vectors: np.ndarray) -> None:
        self.graph.add(first_row, vectors)
        if self.scan is not None:
            self.scan.add(first_row, vectors)

    def replace(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        self.graph.replace(rows, vectors)
        if self.scan is not None:
            self.scan.replace(rows, vectors)

    def copy(self) -> Proposer:
        """An independent copy: the proposer a search uses is never changed."""
        return Proposer(self.graph.copy(), self.scan.copy() if self.scan is not None else None)

    def prepare(self) -> None:
        """Build what the first search would otherwise build."""
        if self.scan is not None:
            self.scan.prepare()

    def save(self, folder: Path) -> None:
        self.graph.save(folder / HnswGraph.file)
        if self.scan is not None:
            self.scan.save(folder / Int8Scan.file)

    @classmethod
    def load(cls, folder: Path, dim: int, rows: np.ndarray) -> tuple[Proposer, bool]:
        """The saved proposer, and whether its scan had to be made: `rows` are the vectors
        it was built over (the index's first rows), from which a scan the folder lacks or
        cannot use (an older snapshot) is made in about a second."""
        graph = HnswGraph.load(folder / HnswGraph.file, dim)
        scan, made = None, False
        if len(rows) <= SCAN_MAX_VECTORS:
            try:
                scan = Int8Scan.load(folder / Int8Scan.file, dim)
            except (OSError, ValueError, KeyError):
                scan = None
            if scan is None or len(scan) != len(rows):
                scan, made = Int8Scan.over(rows), True
                scan.prepare()
        return cls(graph, scan), made


class Int8Scan:
    """Every row's int8 dot product with the query, the best `count` rows proposed.

    Rows (and the query) are first turned onto their principal axes, and only the leading
    axes that hold KEPT_ENERGY of the rows' energy are scanned (`principal_basis`: 256 of
    the default model's 384, a third fewer bytes to read). Each row is stored as int8
    codes with one scale per block of up to 128 components (`scan_block`; an outlier row
    or component blurs only its own block), and all rows are multiplied with the query in
    one onnxruntime MatMulNBits call (8-bit weights, int8-quantised query, integer
    products; one core). The products are only an order for proposing: the caller
    re-scores the proposals in float32 (`proposals(k)` of them for the best k).
    """

    file = "proposer-int8-v2.npz"  # v1 (no basis) files are not read: made again from rows

    def __init__(self, dim: int, *, basis: np.ndarray | None = None,
                 codes: np.ndarray | None = None, scales: np.ndarray | None = None) -> None:
        self.dim = dim
        self._basis = basis  # (dim, width) orthonormal columns, or None: every component
        self.width = dim if basis is None else basis.shape[1]
        self._block = scan_block(self.width)
        blocks = -(-self.width // self._block)
        self._codes = codes if codes is not None else np.zeros((0, blocks, self._block),
                                                               dtype=np.uint8)
        self._scales = scales if scales is not None else np.zeros((0, blocks),
                                                                  dtype=np.float32)
        self._session = None
        self._lock = threading.Lock()

    @classmethod
    def over(cls, vectors: np.ndarray) -> Int8Scan:
        """A scan of these rows, on their own principal axes."""
        vectors = np.asarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        scan = cls(dim, basis=principal_basis(vectors, scan_block(dim)))
        scan.add(0, vectors)
        return scan

    def __len__(self) -> int:
        return len(self._codes)

    def proposals(self, k: int) -> int:
        """How many rows to propose for the best k: twice as many, four times when the
        scan reads only the leading axes. At 80k papers the float32 best 300 of every
        query tried lay within the best 321 rows of all components, and within the best
        493 of the leading axes (725 for queries made off the papers' own directions:
        benchmarks/RESULTS.md, session 11)."""
        return max(2 * k, 200) if self._basis is None else max(4 * k, 400)

    def _turned(self, vectors: np.ndarray) -> np.ndarray:
        return vectors if self._basis is None else vectors @ self._basis

    def _quantised(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(codes: int8 + 128 as uint8, per block; scales), zero-padded to whole blocks."""
        n, blocks = len(vectors), self._codes.shape[1]
        padded = np.zeros((n, blocks * self._block), dtype=np.float32)
        padded[:, : self.width] = self._turned(vectors)
        padded = padded.reshape(n, blocks, self._block)
        scales = np.maximum(np.abs(padded).max(axis=2) / 127.0, 1e-12).astype(np.float32)
        codes = np.clip(np.rint(padded / scales[..., None]), -127, 127) + 128
        return codes.astype(np.uint8), scales

    def add(self, first_row: int, vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if not len(vectors):
            return
        if first_row != len(self._codes):
            raise ValueError(f"rows are added at the end ({len(self._codes)}), not {first_row}")
        codes, scales = self._quantised(vectors)
        self._codes = np.concatenate([self._codes, codes])
        self._scales = np.concatenate([self._scales, scales])
        self._session = None

    def copy(self) -> Int8Scan:
        """An independent copy (the arrays are never changed in place: shared)."""
        return Int8Scan(self.dim, basis=self._basis, codes=self._codes, scales=self._scales)

    def replace(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        """New vectors for rows already held."""
        if len(rows):
            at = np.asarray(rows, dtype=np.int64)
            codes, scales = self._codes.copy(), self._scales.copy()
            codes[at], scales[at] = self._quantised(np.asarray(vectors, dtype=np.float32))
            self._codes, self._scales = codes, scales
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
                self._session = _matmul_8bit(self._codes, self._scales, self.width,
                                             self._block)
            return self._session

    def search(self, query: np.ndarray, count: int) -> np.ndarray:
        """The `count` rows with the largest int8 products, best first."""
        count = min(count, len(self._codes))
        if count <= 0:
            return np.zeros(0, dtype=np.int64)
        q = self._turned(np.asarray(query, dtype=np.float32).reshape(1, -1))
        scores = self._product().run(None, {"q": np.ascontiguousarray(q)})[0][0]
        return top_k(scores, count).astype(np.int64)

    def save(self, path: Path) -> None:
        basis = np.zeros((0, 0), np.float32) if self._basis is None else self._basis
        with path.open("wb") as fh:
            np.savez(fh, codes=self._codes, scales=self._scales, dim=np.int64(self.dim),
                     basis=basis)

    @classmethod
    def load(cls, path: Path, dim: int) -> Int8Scan:
        with np.load(path) as saved:
            codes, scales, saved_dim = saved["codes"], saved["scales"], int(saved["dim"])
            basis = saved["basis"]
        basis = None if basis.size == 0 else basis
        width = dim if basis is None else basis.shape[1]
        block = scan_block(width)
        blocks = -(-width // block)
        if (saved_dim != dim or codes.dtype != np.uint8 or codes.shape[1:] != (blocks, block)
                or scales.dtype != np.float32 or scales.shape != (len(codes), blocks)
                or (basis is not None and (basis.dtype != np.float32
                                           or basis.shape != (dim, width)))):
            raise ValueError(f"bad int8 proposer file {path}")
        scan = cls(dim, basis=basis, codes=codes, scales=scales)
        scan.prepare()
        return scan


# The scan keeps the leading principal axes that hold this share of the rows' energy
# (their sum of squares), in whole blocks; fitted on up to BASIS_SAMPLE rows, and only
# from at least BASIS_MIN_ROWS_PER_DIM rows a dimension (fewer keep every component).
KEPT_ENERGY = 0.975
BASIS_SAMPLE = 20_000
BASIS_MIN_ROWS_PER_DIM = 20


def principal_basis(vectors: np.ndarray, block: int) -> np.ndarray | None:
    """The rows' leading principal axes (of their uncentred second moments: the axes of
    their dot products) as (dim, width) orthonormal columns, width the fewest whole
    blocks that hold KEPT_ENERGY of the rows' energy; None when that is every component
    or when there are too few rows to tell."""
    n, dim = vectors.shape
    if n < BASIS_MIN_ROWS_PER_DIM * dim:
        return None
    sample = vectors[:: max(1, n // BASIS_SAMPLE)].astype(np.float64)
    energy, axes = np.linalg.eigh(sample.T @ sample)
    order = np.argsort(energy)[::-1]
    share = np.cumsum(energy[order]) / max(float(energy.sum()), 1e-30)
    needed = int(np.searchsorted(share, KEPT_ENERGY)) + 1
    width = -(-needed // block) * block
    if width >= dim:
        return None
    return np.ascontiguousarray(axes[:, order[:width]], dtype=np.float32)


def scan_block(dim: int) -> int:
    """Components per scale: 128 (MatMulNBits takes powers of two from 16)."""
    return 128 if dim >= 128 else max(16, 1 << (dim - 1).bit_length())


def _matmul_8bit(codes: np.ndarray, scales: np.ndarray, dim: int, block: int):
    """An onnxruntime session: float32 query (1, dim) x the rows' 8-bit codes -> (1, n).

    MatMulNBits with accuracy level 4 quantises the query to int8 per block and sums
    integer products (VNNI/AVX2 kernels); the codes are symmetric around 128.
    """
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    n = len(codes)
    node = helper.make_node("MatMulNBits", ["q", "codes", "scales"], ["y"],
                            domain="com.microsoft", K=dim, N=n, bits=8, block_size=block,
                            accuracy_level=4)
    graph = helper.make_graph(
        [node], "int8_scan",
        [helper.make_tensor_value_info("q", TensorProto.FLOAT, [1, dim])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])],
        [numpy_helper.from_array(codes, "codes"),
         numpy_helper.from_array(scales.reshape(-1), "scales")],
    )
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 9  # readable by every onnxruntime this project allows
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # one search, one core (no spinning pool threads)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options,
                                providers=["CPUExecutionProvider"])


class HnswGraph:
    """HNSW over float16 copies of the vectors (cosine)."""

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
