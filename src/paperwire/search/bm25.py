"""An in-memory BM25 ranker over the papers' title, abstract and authors.

FTS5 and PostgreSQL's tsvector stay the transactional keyword index (written in the same
transaction as the paper; used for phrases, snippets and while this index loads). They
cannot stop early: an OR query scores every paper that holds any query word ("model" is in
82% of the shared papers). This index keeps the postings in numpy arrays in the style of
bm25s, so a query is a few vectorised adds and one partial sort: milliseconds at 80k papers,
the same on both databases.

It scores exactly as FTS5's `bm25()` with equal column weights (k1 = 1.2, b = 0.75, idf
log((N - df + 0.5) / (df + 0.5)) floored at 1e-6, document length over all three fields),
with the same unicode61 + Porter analysis, so both paths rank alike.

Kept in step with the database like the vector index: a snapshot under
`data_dir/keyword/` is memory-mapped at start-up, papers whose `modified_at` moved are
re-analysed into a small tail segment (their old postings are masked), a paper count that
no longer matches triggers a rebuild, and a large tail is merged by a rebuild in the
background. Until the first build is ready, `ready` is False and callers use FTS.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import time
import unicodedata
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, func, select

from paperwire.store.tables import papers

log = logging.getLogger(__name__)

K1, B = 1.2, 0.75
IDF_FLOOR = 1e-6  # FTS5's floor for words in more than half of the papers
SNAPSHOT_VERSION = 1
ANALYZER = "unicode61-porter-v1"
WATERMARK_MARGIN = timedelta(seconds=120)  # rows committed slightly out of order
FULL_CHECK_INTERVAL_S = 30.0  # count check (deleted papers) and margin re-read
BUILD_CHUNK = 20_000  # papers analysed per chunk while building (bounds memory)
SYNC_BUILD_MAX = 20_000  # up to this many papers the first build runs inline (< 2 s)

_WORD = re.compile(r"[^\W_]+")


class Analyzer:
    """Words as FTS5's `unicode61 remove_diacritics 2` + `porter` tokenizers see them."""

    def __init__(self) -> None:
        import Stemmer  # PyStemmer: Snowball's C implementation of Porter's algorithm

        self._stemmer = Stemmer.Stemmer("porter", 100_000)

    def words(self, text: str) -> list[str]:
        if not text.isascii():
            text = "".join(
                ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
            )
        return _WORD.findall(text.lower())

    def stems(self, words: Sequence[str]) -> list[str]:
        # FTS5's porter tokenizer leaves tokens shorter than 3 characters alone.
        stemmed = self._stemmer.stemWords(words)
        return [w if len(w) < 3 else s for w, s in zip(words, stemmed, strict=True)]

    def analyze(self, text: str) -> list[str]:
        return self.stems(self.words(text))


def document_text(title: str | None, abstract: str | None, authors: str | None) -> str:
    return f"{title or ''}\n{abstract or ''}\n{authors or ''}"


def saturation(tf: np.ndarray, length: np.ndarray, avgdl: float) -> np.ndarray:
    """BM25's term-frequency part: tf (k1 + 1) / (tf + k1 (1 - b + b len / avgdl))."""
    tf = tf.astype(np.float32)
    norm = K1 * (1.0 - B + B * length.astype(np.float32) / np.float32(max(avgdl, 1e-9)))
    return (tf * (K1 + 1.0) / (tf + norm)).astype(np.float32)


def idf(n_docs: int, df: int) -> float:
    df = min(df, n_docs)  # replaced papers still count in the tail until the next merge
    return max(math.log((n_docs - df + 0.5) / (df + 0.5)), IDF_FLOOR)


@dataclass(frozen=True)
class Segment:
    """Immutable postings in CSR form: term t's papers are docs[indptr[t]:indptr[t+1]]."""

    ids: list[str]
    vocab: dict[str, int]
    indptr: np.ndarray  # int64 (terms + 1)
    docs: np.ndarray  # int32
    weights: np.ndarray  # float32, BM25 tf saturation at build time
    total_length: int
    digests: np.ndarray  # uint32 crc32 of each paper's text, to skip unchanged re-reads

    @property
    def avgdl(self) -> float:
        return self.total_length / max(1, len(self.ids))

    def postings(self, stem: str) -> tuple[np.ndarray, np.ndarray] | None:
        t = self.vocab.get(stem)
        if t is None:
            return None
        start, end = int(self.indptr[t]), int(self.indptr[t + 1])
        return self.docs[start:end], self.weights[start:end]


def build_segment(docs: Iterable[tuple[str, str, int]], analyzer: Analyzer) -> Segment:
    """A segment from (paper id, text, crc32 of text) triples."""
    ids: list[str] = []
    digests = array("I")
    vocab: dict[str, int] = {}
    lengths = array("i")
    triples: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    chunk_terms, chunk_lengths = array("i"), array("i")

    def flush() -> None:
        if not chunk_lengths:
            return
        n = len(chunk_lengths)
        terms = np.frombuffer(chunk_terms, dtype=np.int32).astype(np.int64)
        local = np.repeat(np.arange(n, dtype=np.int64), np.frombuffer(chunk_lengths, np.int32))
        keys, tf = np.unique(terms * n + local, return_counts=True)
        base = len(ids) - n
        triples.append(((keys // n).astype(np.int32), (keys % n + base).astype(np.int32),
                        tf.astype(np.int32)))
        del chunk_terms[:], chunk_lengths[:]

    for paper_id, text, digest in docs:
        digests.append(digest)
        stems = analyzer.analyze(text)
        chunk_terms.extend([vocab.setdefault(s, len(vocab)) for s in stems])
        chunk_lengths.append(len(stems))
        lengths.append(len(stems))
        ids.append(paper_id)
        if len(chunk_lengths) >= BUILD_CHUNK:
            flush()
    flush()
    doc_lengths = np.frombuffer(lengths, dtype=np.int32) if lengths else np.zeros(0, np.int32)
    total = int(doc_lengths.sum())
    if triples:
        terms = np.concatenate([t[0] for t in triples])
        doc_idx = np.concatenate([t[1] for t in triples])
        tf = np.concatenate([t[2] for t in triples])
        order = np.argsort(terms, kind="stable")  # chunks are already in paper order
        terms, doc_idx, tf = terms[order], doc_idx[order], tf[order]
    else:
        terms = doc_idx = tf = np.zeros(0, np.int32)
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(np.bincount(terms, minlength=len(vocab)), out=indptr[1:])
    avgdl = total / max(1, len(ids))
    weights = saturation(tf, doc_lengths[doc_idx] if len(doc_idx) else tf, avgdl)
    return Segment(ids, vocab, indptr, doc_idx.astype(np.int32), weights, total,
                   np.frombuffer(digests, dtype=np.uint32) if digests else np.zeros(0, np.uint32))


@dataclass(frozen=True)
class _State:
    """What a search reads; replaced as a whole, never changed in place."""

    segment: Segment
    rows: dict[str, int]  # paper id -> live document number (segment or tail)
    tail_ids: tuple[str, ...] = ()
    tail_postings: dict[str, tuple[tuple[int, float], ...]] = field(default_factory=dict)
    tail_hashes: dict[str, int] = field(default_factory=dict)
    dead: np.ndarray | None = None  # bool per document: replaced or deleted
    live: int = 0

    @property
    def size(self) -> int:
        return len(self.segment.ids) + len(self.tail_ids)

    def paper_id(self, doc: int) -> str:
        n = len(self.segment.ids)
        return self.segment.ids[doc] if doc < n else self.tail_ids[doc - n]


class Bm25Index:
    """Top-k BM25 over all papers, kept in step with the database."""

    def __init__(
        self,
        engine: Engine,
        *,
        snapshot_dir: Path | None = None,
        tail_merge_docs: int = 2_000,
    ) -> None:
        self.engine = engine
        self.snapshot_dir = snapshot_dir
        self.tail_merge_docs = tail_merge_docs
        self.analyzer = Analyzer()
        self._state: _State | None = None
        self._lock = threading.Lock()
        self._build_thread: threading.Thread | None = None
        self._watermark: datetime | None = None
        self._seen_max: datetime | None = None
        self._full_check_at = 0.0
        self.last_error: str | None = None

    # ---- public API -------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._state is not None

    def describe(self) -> str:
        state = self._state
        if state is None:
            return "in-memory BM25 index: building"
        return (
            f"in-memory BM25 index: {state.live} papers, {len(state.segment.vocab)} terms, "
            f"{len(state.segment.docs)} postings"
        )

    def start(self) -> None:
        """Load the snapshot, or build: inline for small databases, else in the background."""
        with self._lock:
            if self._state is not None or self._build_thread is not None:
                return
            if self._load_snapshot():
                return
            with self.engine.connect() as conn:
                n_papers = conn.execute(select(func.count()).select_from(papers)).scalar_one()
            if n_papers <= SYNC_BUILD_MAX:
                state = self._build()
                self._install(state)
                self._write_snapshot(state)
                return
            self._build_thread = threading.Thread(
                target=self._build_in_background, name="bm25-build", daemon=True
            )
            self._build_thread.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        self.start()
        thread = self._build_thread
        if thread is not None:
            thread.join(timeout)
        if self._state is not None:
            self.refresh()
        return self._state is not None

    def search(
        self, words: Sequence[str], k: int, *, candidates: Iterable[str] | None = None
    ) -> tuple[list[tuple[str, float]], int]:
        """The k best (paper id, score) for these query words, and how many papers match.

        Words are query words as the query parser gives them (lower-cased, not stemmed);
        `candidates` restricts the result to these paper ids. Call only when `ready`.
        """
        self.refresh()
        state = self._state
        if state is None:
            raise RuntimeError("the BM25 index is not built yet")
        scores = np.zeros(state.size, dtype=np.float32)
        n_docs = max(1, state.live)
        for stem in self.analyzer.stems(list(words)):
            main = state.segment.postings(stem)
            tail = state.tail_postings.get(stem, ())
            df = (0 if main is None else len(main[0])) + len(tail)
            if df == 0:
                continue
            weight = np.float32(idf(n_docs, df))
            if main is not None:
                scores[main[0]] += weight * main[1]
            for doc, w in tail:
                scores[doc] += weight * w
        if state.dead is not None:
            scores[state.dead] = 0.0
        if candidates is not None:
            allowed = np.zeros(state.size, dtype=bool)
            rows = [r for r in map(state.rows.get, candidates) if r is not None]
            allowed[np.asarray(rows, dtype=np.int64)] = True
            scores[~allowed] = 0.0
        total = int(np.count_nonzero(scores))
        if total == 0 or k <= 0:
            return [], total
        k = min(k, total)
        best = np.argpartition(-scores, k - 1)[:k]
        # Ties break by paper id, descending (newer arXiv ids first), for stable pages.
        best = sorted(best.tolist(), key=state.paper_id, reverse=True)
        best.sort(key=lambda d: -scores[d])  # stable: equal scores stay newest id first
        return [(state.paper_id(d), float(scores[d])) for d in best], total

    def refresh(self) -> int:
        """Catch up with papers added or changed since the last look; returns how many."""
        if self._state is None:
            return 0
        with self.engine.connect() as conn:
            newest = conn.execute(select(func.max(papers.c.modified_at))).scalar()
        now = time.monotonic()
        full_check = now - self._full_check_at >= FULL_CHECK_INTERVAL_S
        if newest == self._seen_max and not full_check:
            return 0
        with self._lock:
            state = self._state
            since = (self._watermark - WATERMARK_MARGIN) if self._watermark else None
            changed = self._apply_changes(state, since, newest)
            if full_check:
                self._full_check_at = now
                with self.engine.connect() as conn:
                    stored = conn.execute(select(func.count()).select_from(papers)).scalar_one()
                if stored != self._state.live:
                    log.info("keyword index out of step (%d vs %d papers): rebuilding",
                             self._state.live, stored)
                    self._schedule_rebuild()
            if len(self._state.tail_ids) > self.tail_merge_docs:
                self._schedule_rebuild()
        return changed

    # ---- building ---------------------------------------------------------------------

    def _read_papers(
        self, since: datetime | None = None
    ) -> Iterator[tuple[str, str, int, datetime]]:
        query = select(
            papers.c.id, papers.c.title, papers.c.abstract, papers.c.authors_text,
            papers.c.modified_at,
        )
        if since is not None:
            query = query.where(papers.c.modified_at >= since)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=5_000).execute(query)
            for pid, title, abstract, authors, modified in result:
                text = document_text(title, abstract, authors)
                yield pid, text, zlib.crc32(text.encode()), modified

    def _build(self) -> _State:
        started = time.perf_counter()
        newest: list[datetime] = []

        def docs() -> Iterator[tuple[str, str, int]]:
            for pid, text, digest, modified in self._read_papers():
                if modified is not None and (not newest or modified > newest[0]):
                    newest[:] = [modified]
                yield pid, text, digest

        segment = build_segment(docs(), self.analyzer)
        state = _State(segment, {pid: i for i, pid in enumerate(segment.ids)},
                       live=len(segment.ids))
        self._watermark = newest[0] if newest else None
        log.info("built the keyword index over %d papers in %.1f s",
                 len(segment.ids), time.perf_counter() - started)
        return state

    def _build_in_background(self) -> None:
        try:
            state = self._build()
            with self._lock:
                self._install(state)
                self._write_snapshot(state)
        except Exception as exc:  # searches keep using FTS; say why once
            self.last_error = str(exc) or type(exc).__name__
            log.exception("could not build the keyword index")
        finally:
            self._build_thread = None

    def _schedule_rebuild(self) -> None:
        """Rebuild in the background; the current state keeps serving (caller holds lock)."""
        if self._build_thread is None:
            self._build_thread = threading.Thread(
                target=self._build_in_background, name="bm25-rebuild", daemon=True
            )
            self._build_thread.start()

    def _install(self, state: _State) -> None:
        self._state = state
        self._seen_max = None  # the next refresh catches up from the new watermark
        self._full_check_at = time.monotonic()

    def _apply_changes(self, state: _State, since: datetime | None, newest) -> int:
        """Re-analyse papers modified since `since` into the tail (caller holds the lock)."""
        rows = dict(state.rows)
        tail_ids = list(state.tail_ids)
        postings = {k: list(v) for k, v in state.tail_postings.items()}
        hashes = dict(state.tail_hashes)
        dead_docs: list[int] = []
        added = 0
        watermark = self._watermark
        avgdl = state.segment.avgdl
        for pid, text, digest, modified in self._read_papers(since):
            if modified is not None and (watermark is None or modified > watermark):
                watermark = modified
            old = rows.get(pid)
            if hashes.get(pid) == digest or (
                pid not in hashes and old is not None and old < len(state.segment.ids)
                and int(state.segment.digests[old]) == digest
            ):
                continue  # re-read inside the margin window, text unchanged
            if old is not None:
                dead_docs.append(old)
            stems = self.analyzer.analyze(text)
            doc = len(state.segment.ids) + len(tail_ids)
            tail_ids.append(pid)
            rows[pid] = doc
            hashes[pid] = digest
            if stems:
                unique, counts = np.unique(np.array(stems), return_counts=True)
                weights = saturation(counts, np.full(len(counts), len(stems)), avgdl)
                for stem, w in zip(unique.tolist(), weights.tolist(), strict=True):
                    postings.setdefault(stem, []).append((doc, w))
            added += 1
        self._watermark = watermark
        self._seen_max = newest
        if not added:
            return 0
        size = len(state.segment.ids) + len(tail_ids)
        dead = np.zeros(size, dtype=bool)
        if state.dead is not None:
            dead[: len(state.dead)] = state.dead
        if dead_docs:
            dead[np.asarray(dead_docs, dtype=np.int64)] = True
        self._state = _State(
            state.segment, rows, tuple(tail_ids),
            {k: tuple(v) for k, v in postings.items()}, hashes,
            dead if dead.any() else None, len(rows),
        )
        return added

    # ---- snapshot ---------------------------------------------------------------------

    def _database_name(self) -> str:
        """Which database a snapshot mirrors (the URL without its password)."""
        return self.engine.url.render_as_string(hide_password=True)

    def _meta_path(self) -> Path:
        assert self.snapshot_dir is not None
        return self.snapshot_dir / "keyword-index.meta.json"

    def _load_snapshot(self) -> bool:
        if self.snapshot_dir is None:
            return False
        try:
            meta = json.loads(self._meta_path().read_text())
            if (
                meta.get("version") != SNAPSHOT_VERSION
                or meta.get("analyzer") != ANALYZER
                or meta.get("database") != self._database_name()
            ):
                return False
            folder = self.snapshot_dir / meta["folder"]
            arrays = {
                name: np.load(folder / f"{name}.npy", mmap_mode="r")
                for name in ("indptr", "docs", "weights", "digests")
            }
            ids = np.load(folder / "ids.npy").tolist()
            terms = np.load(folder / "terms.npy").tolist()
        except (OSError, ValueError, KeyError, TypeError):
            return False
        if len(ids) != meta.get("count") or len(terms) + 1 != len(arrays["indptr"]):
            return False
        segment = Segment(ids, {t: i for i, t in enumerate(terms)}, arrays["indptr"],
                          arrays["docs"], arrays["weights"], int(meta["total_length"]),
                          arrays["digests"])
        watermark = meta.get("watermark")
        self._watermark = datetime.fromisoformat(watermark) if watermark else None
        self._install(_State(segment, {pid: i for i, pid in enumerate(ids)}, live=len(ids)))
        self._full_check_at = 0.0  # verify the count on the first search
        log.info("loaded the keyword index snapshot: %d papers", len(ids))
        return True

    def _write_snapshot(self, state: _State) -> None:
        """Arrays into a fresh folder, then switch the meta file atomically."""
        if self.snapshot_dir is None:
            return
        segment = state.segment
        token = f"{int(time.time() * 1000)}-{os.getpid()}"
        try:
            self.snapshot_dir.mkdir(parents=True, exist_ok=True)
            meta_path = self._meta_path()
            old = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
            folder = self.snapshot_dir / f"keyword.{token}"
            folder.mkdir()
            terms = [""] * len(segment.vocab)
            for term, i in segment.vocab.items():
                terms[i] = term
            for name, values in (
                ("indptr", segment.indptr), ("docs", segment.docs), ("weights", segment.weights),
                ("digests", segment.digests),
                ("ids", np.array(segment.ids, dtype=str)), ("terms", np.array(terms, dtype=str)),
            ):
                np.save(folder / f"{name}.npy", np.ascontiguousarray(values))
            meta = {
                "version": SNAPSHOT_VERSION,
                "analyzer": ANALYZER,
                "database": self._database_name(),
                "folder": folder.name,
                "count": len(segment.ids),
                "total_length": segment.total_length,
                "watermark": self._watermark.isoformat() if self._watermark else None,
            }
            tmp = meta_path.with_name(f"{meta_path.name}.{token}.tmp")
            tmp.write_text(json.dumps(meta))
            os.replace(tmp, meta_path)
            stale = old.get("folder")
            if isinstance(stale, str) and stale != folder.name and "/" not in stale:
                for path in (self.snapshot_dir / stale).glob("*.npy"):
                    path.unlink(missing_ok=True)  # open memory maps stay valid
                (self.snapshot_dir / stale).rmdir()
        except (OSError, ValueError) as exc:  # a read-only data dir only costs start-up time
            log.warning("could not write the keyword index snapshot: %s", exc)
