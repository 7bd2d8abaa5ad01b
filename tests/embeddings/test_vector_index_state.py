"""The in-process vector index as a derived index: copy-on-write states, a candidate
proposer (HNSW graph, int8 scan for deep searches) that learns about replaced vectors,
searches that never wait for a snapshot write."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from paperwire.domain.records import PaperRecord
from paperwire.search import ann
from paperwire.search.ann import usearch_available
from paperwire.search.vectors import VectorIndex
from paperwire.store.embeddings import EmbeddingRow, save_embeddings
from tests.embeddings.conftest import add_papers
from tests.snapshot_writes import hold_snapshot_writes

MODEL, DIM = "test-model", 32


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _store(engine, ids: list[str], vectors: np.ndarray) -> None:
    with engine.begin() as conn:
        save_embeddings(conn, MODEL, [EmbeddingRow(pid, v, f"h{pid}") for pid, v in
                                      zip(ids, vectors, strict=True)])


@pytest.fixture
def corpus(container):
    """3,000 papers with random unit vectors (clustered, so neighbours are meaningful)."""
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((60, DIM))
    vectors = _unit(centres[rng.integers(0, 60, 3000)] + 0.6 * rng.standard_normal((3000, DIM)))
    ids = [f"2502.{i:05d}" for i in range(3000)]
    add_papers(container.engine, [PaperRecord(id=pid, title=f"Paper {pid}") for pid in ids])
    _store(container.engine, ids, vectors)
    return ids, vectors, rng


def _exact(vectors: np.ndarray, ids: list[str], q: np.ndarray, k: int) -> list[str]:
    return [ids[i] for i in np.argsort(-(vectors @ q), kind="stable")[:k]]


@pytest.mark.skipif(not usearch_available(), reason="usearch is a dependency; import failed")
@pytest.mark.parametrize("kind", ["hnsw+int8-scan", "hnsw"])
def test_proposer_recall_and_replaced_vectors(container, corpus, monkeypatch, kind):
    ids, vectors, rng = corpus
    if kind == "hnsw":  # an index past the scan's size keeps only the graph
        monkeypatch.setattr(ann, "SCAN_MAX_VECTORS", 1000)
    index = VectorIndex(container.engine, MODEL, DIM, ann_min_vectors=1000,
                        refresh_interval_s=3600)
    assert index.build_ann(wait=True) and "HNSW" in index.describe()
    assert ("int8 scan" in index.describe()) == (kind != "hnsw")
    state = index._state
    assert state.graph.kind == kind
    assert state.graph_rows == 3000 and len(state.graph) == 3000
    queries = _unit(vectors[rng.integers(0, 3000, 50)] + 0.3 * rng.standard_normal((50, DIM)))
    shallow, deep = 10, 150
    assert len(state.graph.propose(queries[0], shallow)) == 200 < len(ids)  # the graph's
    deep_proposals = state.graph.propose(queries[0], deep)
    assert len(deep_proposals) == (300 if kind != "hnsw" else 600)  # the scan's: 2k, not 4k
    for k in (shallow, deep):
        found = [[p for p, _ in index.search(q, k)] for q in queries]
        exact = [_exact(vectors, ids, q, k) for q in queries]
        if kind != "hnsw" and k == deep:  # int8 products only order the proposals: exact
            assert found == exact
        recall = np.mean([len(set(f) & set(e)) / k for f, e in zip(found, exact, strict=True)])
        assert recall >= 0.95, (k, recall)

    # Replace 40 vectors: searches see the new ones at once (exactly re-scored), the
    # state searches were reading is not changed, and a graph update takes them in.
    before = index._state
    before_rows = np.array(before.matrix[:40])
    moved = _unit(rng.standard_normal((40, DIM)))
    _store(container.engine, ids[:40], moved)  # a change event: the next search catches up
    for i in (0, 17, 39):
        assert index.search(moved[i], 1)[0][0] == ids[i]
    np.testing.assert_array_equal(before.matrix[:40], before_rows)  # copy-on-write
    assert set(index._state.stale) == set(range(40))
    assert index.build_ann(wait=True)
    after = index._state
    assert after.stale == {} and after.graph is not before.graph
    for i in range(40):  # found through the graph (and the scan) alone now
        assert after.graph.propose(moved[i], 5)[0] == i
        if after.graph.scan is not None:
            assert after.graph.propose(moved[i], 200)[0] == i


def test_a_search_during_a_snapshot_write_is_answered_from_the_new_state(container, corpus):
    ids, vectors, rng = corpus
    folder = container.settings.data_dir / "vectors"
    index = VectorIndex(container.engine, MODEL, DIM, snapshot_dir=folder, ann_min_vectors=None,
                        refresh_interval_s=3600)
    assert len(index) == 3000 and index.wait_snapshots(30)
    snapshots = index._snapshots
    writing, release = hold_snapshot_writes(snapshots)
    moved = _unit(rng.standard_normal((300, DIM)))  # enough to make a snapshot due
    _store(container.engine, ids[:300], moved)
    try:
        assert index.refresh() == 300
        assert writing.wait(30)  # the writer thread holds the snapshot's file lock now
        for i in (0, 150, 299):
            assert index.search(moved[i], 1)[0][0] == ids[i]
        assert index.search(vectors[2999], 1)[0][0] == ids[2999]
    finally:
        release.set()
    assert index.wait_snapshots(30)
    assert len(snapshots.snapshot_folders()) == 1
    fresh = VectorIndex(container.engine, MODEL, DIM, snapshot_dir=folder, ann_min_vectors=None)
    assert fresh._snapshots.load(lambda meta, path: meta["count"]) == 3000
    assert fresh.search(moved[150], 1)[0][0] == ids[150]


def test_two_indexes_sharing_a_snapshot_folder_leave_one_snapshot(container, corpus):
    """Two web processes' indexes (here: two instances) write into one folder; files of
    the previous snapshot layout are removed too."""
    ids, vectors, rng = corpus
    folder = container.settings.data_dir / "vectors"
    folder.mkdir(parents=True)
    legacy = folder / f"{MODEL}.1700000000000-42.vectors.npy"  # snapshot version 1
    legacy.write_bytes(b"old")
    first = VectorIndex(container.engine, MODEL, DIM, snapshot_dir=folder, ann_min_vectors=None)
    second = VectorIndex(container.engine, MODEL, DIM, snapshot_dir=folder,
                         ann_min_vectors=None)
    assert len(first) == len(second) == 3000
    _store(container.engine, ids[:400], _unit(rng.standard_normal((400, DIM))))
    threads = [threading.Thread(target=index.refresh) for index in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert first.wait_snapshots(30) and second.wait_snapshots(30)
    assert len(first._snapshots.snapshot_folders()) == 1 and not legacy.exists()
    fresh = VectorIndex(container.engine, MODEL, DIM, snapshot_dir=folder, ann_min_vectors=None)
    assert fresh._snapshots.load(lambda meta, path: meta["count"]) == 3000
    assert sorted(p.name for p in folder.iterdir() if not p.is_dir()) == [
        f"{MODEL}.lock", f"{MODEL}.meta.json"]


def test_the_proposer_is_saved_and_a_saved_graph_without_a_scan_gets_one(
        container, corpus, tmp_path, monkeypatch):
    """A snapshot saved with only the graph (past the scan's size, or before the scan
    existed) loads its graph and makes the scan from the saved rows; the next snapshot
    holds both, and a proposer past the scan's size is rebuilt without one."""
    ids, vectors, rng = corpus
    folder = tmp_path / "vectors"
    monkeypatch.setattr(ann, "SCAN_MAX_VECTORS", 1000)  # first only a graph is saved
    first = VectorIndex(container.engine, MODEL, DIM, snapshot_dir=folder,
                        ann_min_vectors=1000, refresh_interval_s=3600)
    assert first.build_ann(wait=True) and first.wait_snapshots(30)
    assert first._state.graph.kind == "hnsw"

    assert not list(folder.rglob(ann.Int8Scan.file))
    monkeypatch.setattr(ann, "SCAN_MAX_VECTORS", 150_000)  # this size has a scan now
    second = VectorIndex(container.engine, MODEL, DIM, snapshot_dir=folder,
                         ann_min_vectors=1000, refresh_interval_s=3600)
    assert len(second) == 3000  # loads the snapshot (no build_ann: the graph is loaded)
    state = second._state
    assert state.graph is not None and state.graph.kind == "hnsw+int8-scan"
    assert state.graph_rows == 3000 and len(state.graph.scan) == 3000
    assert second._graph_thread is None
    # The scan it made is saved by the first catch-up, not made again at every start.
    assert second.wait_snapshots(30)
    assert len(list(folder.rglob(ann.Int8Scan.file))) == 1

    third = VectorIndex(container.engine, MODEL, DIM, snapshot_dir=folder,
                        ann_min_vectors=1000, refresh_interval_s=3600)
    assert len(third) == 3000 and third._state.graph.kind == "hnsw+int8-scan"
    for q in vectors[[5, 77]]:
        assert [p for p, _ in third.search(q, 150)] == _exact(vectors, ids, q, 150)

    monkeypatch.setattr(ann, "SCAN_MAX_VECTORS", 1000)  # grown past the scan's size
    assert not third._state.graph.fits(3000)
    assert third.build_ann(wait=True) and third._state.graph.kind == "hnsw"


@pytest.mark.parametrize("dim", [20, 384, 400])
def test_the_int8_scan_proposes_the_best_rows_at_any_dimension(dim, tmp_path):
    """Whole blocks of 128 components (384), a padded last block (400), one small block
    (20): the scan's best rows are the float32 best, and a saved scan loads the same."""
    rng = np.random.default_rng(dim)
    vectors = _unit(rng.standard_normal((2000, dim)))
    scan = ann.Int8Scan(dim)
    scan.add(0, vectors[:1500])
    scan.add(1500, vectors[1500:])
    with pytest.raises(ValueError):
        scan.add(10, vectors[:5])  # rows are only appended
    queries = _unit(vectors[rng.integers(0, 2000, 20)] + 0.5 * rng.standard_normal((20, dim)))
    for q in queries:
        exact = np.argsort(-(vectors @ q), kind="stable")[:10]
        assert set(exact) <= set(scan.search(q, 200).tolist())
    assert scan.search(vectors[7], 1).tolist() == [7]
    path = tmp_path / "scan.npz"
    scan.save(path)
    loaded = ann.Int8Scan.load(path, dim)
    assert loaded.search(queries[0], 50).tolist() == scan.search(queries[0], 50).tolist()
    with pytest.raises(ValueError):
        ann.Int8Scan.load(path, dim + 1)


def test_the_scan_reads_the_rows_leading_principal_axes(tmp_path):
    """Rows whose energy sits mostly on a few axes (as a sentence model's do) are scanned
    on those axes only; deep searches still get every float32 best row among the
    proposals, and the axes are saved with the codes."""
    dim, n = 384, 8000
    rng = np.random.default_rng(11)
    spread = np.exp(-np.arange(dim) / 60.0) ** 0.5  # ~99% of the energy on 256 axes
    axes = np.linalg.qr(rng.standard_normal((dim, dim)))[0]
    def draw(count):
        return (rng.standard_normal((count, dim)) * spread) @ axes.T
    centres = draw(80)
    vectors = _unit(centres[rng.integers(0, 80, n)] + 0.7 * draw(n))
    scan = ann.Int8Scan.over(vectors)
    assert scan.width == 256 and scan.proposals(300) == 1200
    queries = _unit(vectors[rng.integers(0, n, 30)] + 0.5 * draw(30))
    for q in queries:
        exact = np.argsort(-(vectors @ q), kind="stable")[:300]
        assert set(exact) <= set(scan.search(q, scan.proposals(300)).tolist())
    scan.add(n, vectors[:10])  # later rows are turned onto the same axes
    assert scan.search(vectors[3], 2).tolist() in ([3, n + 3], [n + 3, 3])
    path = tmp_path / "scan.npz"
    scan.save(path)
    loaded = ann.Int8Scan.load(path, dim)
    assert loaded.width == 256
    assert loaded.search(queries[0], 500).tolist() == scan.search(queries[0], 500).tolist()
    few = ann.Int8Scan.over(vectors[:1000])  # too few rows to tell the axes: all kept
    assert few.width == dim and few.proposals(300) == 600


def test_a_saved_scan_that_cannot_be_read_is_made_again_and_saved(container, corpus, tmp_path):
    """A snapshot whose scan file is damaged loads its graph, makes the scan from the
    saved rows, and the first catch-up saves a readable one (not made at every start)."""
    ids, vectors, rng = corpus
    folder = tmp_path / "vectors"
    first = VectorIndex(container.engine, MODEL, DIM, snapshot_dir=folder,
                        ann_min_vectors=1000, refresh_interval_s=3600)
    assert first.build_ann(wait=True) and first.wait_snapshots(30)
    [saved] = folder.rglob(ann.Int8Scan.file)
    saved.write_bytes(b"not a scan")
    second = VectorIndex(container.engine, MODEL, DIM, snapshot_dir=folder,
                         ann_min_vectors=1000, refresh_interval_s=3600)
    assert len(second) == 3000 and second._state.graph.kind == "hnsw+int8-scan"
    assert second.wait_snapshots(30)
    [again] = folder.rglob(ann.Int8Scan.file)
    assert len(ann.Int8Scan.load(again, DIM)) == 3000
