"""BM25 postings of a set of papers, in CSR arrays (the bm25s layout), plus term order.

Weights are FTS5's bm25() per (term, paper): k1 = 1.2, b = 0.75, the paper's length over
all its fields, and idf log((N - df + 0.5) / (df + 0.5)) floored at 1e-6 applied at query
time, so the scores equal SQLite FTS5's with equal column weights.

Each paper's term ids in text order (`tokens`, `offsets`) let the ranker score adjacent
query-word pairs (term proximity) for its best candidates without re-reading any text.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paperwire.search.text_analysis import Analyzer

K1, B = 1.2, 0.75
IDF_FLOOR = 1e-6  # FTS5's floor for words in more than half of the papers
BUILD_CHUNK = 20_000  # papers analysed per chunk while building (bounds memory)
FEW_PAIRS = 8  # up to this many query-word pairs are matched by comparison, not search


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
    tokens: np.ndarray  # int32 term ids of every paper in text order, papers one after another
    offsets: np.ndarray  # int64 (papers + 1): paper d's terms are tokens[offsets[d]:offsets[d+1]]

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
    sequences: list[np.ndarray] = []
    chunk_terms, chunk_lengths = array("i"), array("i")

    def flush() -> None:
        if not chunk_lengths:
            return
        n = len(chunk_lengths)
        sequences.append(np.frombuffer(chunk_terms, dtype=np.int32).copy())
        terms = sequences[-1].astype(np.int64)
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
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(doc_lengths, out=offsets[1:])
    return Segment(
        ids, vocab, indptr, doc_idx.astype(np.int32), weights, total,
        np.frombuffer(digests, dtype=np.uint32) if digests else np.zeros(0, np.uint32),
        np.concatenate(sequences) if sequences else np.zeros(0, np.int32), offsets,
    )


SEGMENT_ARRAYS = ("indptr", "docs", "weights", "digests", "tokens", "offsets")


def save_segment(segment: Segment, folder: Path) -> None:
    """Write a segment's arrays as .npy files into `folder` (which must exist)."""
    terms = [""] * len(segment.vocab)
    for term, i in segment.vocab.items():
        terms[i] = term
    for name in SEGMENT_ARRAYS:
        np.save(folder / f"{name}.npy", np.ascontiguousarray(getattr(segment, name)))
    np.save(folder / "ids.npy", np.array(segment.ids, dtype=str))
    # One word per line (words never hold whitespace): a fixed-width numpy string array
    # would pad every word to the longest one.
    (folder / "terms.txt").write_text("\n".join(terms), encoding="utf-8")


def load_segment(folder: Path, *, count: int, total_length: int) -> Segment | None:
    """Memory-map a saved segment; None when files are missing or do not fit together."""
    try:
        # np.asarray: plain views of the memory maps (memmap slicing is slow in hot loops)
        arrays = {
            n: np.asarray(np.load(folder / f"{n}.npy", mmap_mode="r")) for n in SEGMENT_ARRAYS
        }
        ids = np.load(folder / "ids.npy").tolist()
        text = (folder / "terms.txt").read_text(encoding="utf-8")
        terms = text.split("\n") if text else []
    except (OSError, ValueError):
        return None
    consistent = (
        len(ids) == count == len(arrays["digests"]) == len(arrays["offsets"]) - 1
        and len(terms) + 1 == len(arrays["indptr"])
        and len(arrays["docs"]) == len(arrays["weights"])
        and arrays["offsets"][-1] == len(arrays["tokens"])
    )
    if not consistent:
        return None
    return Segment(ids, {t: i for i, t in enumerate(terms)}, arrays["indptr"], arrays["docs"],
                   arrays["weights"], total_length, arrays["digests"], arrays["tokens"],
                   arrays["offsets"])


def proximity_bonus(
    segment: Segment, docs: Sequence[int], pair_weights: dict[tuple[str, str], float]
) -> np.ndarray:
    """Term-proximity scores of segment papers `docs` for adjacent query-word pairs.

    Each pair (a, b) found as adjacent words in a paper is scored like one more BM25 term:
    its weight (the caller passes the idf of the rarer word, a lower bound of the pair's
    own idf) times BM25's saturated, length-normalised count of the pair in that paper.
    """
    bonus = np.zeros(len(docs), dtype=np.float32)
    n_terms = len(segment.vocab)
    keyed: dict[int, float] = {}
    for (a, b), weight in pair_weights.items():
        ia, ib = segment.vocab.get(a), segment.vocab.get(b)
        if ia is not None and ib is not None:
            keyed[ia * n_terms + ib] = weight
    if not keyed:
        return bonus
    keys = np.fromiter(keyed, dtype=np.int64, count=len(keyed))
    order = np.argsort(keys)
    keys = keys[order]
    weights = np.fromiter(keyed.values(), dtype=np.float32, count=len(keyed))[order]
    # All candidates' term sequences at once; pairs never span two papers.
    doc_ids = np.asarray(docs, dtype=np.int64)
    starts = segment.offsets[doc_ids]
    lengths = segment.offsets[doc_ids + 1] - starts
    owner = np.repeat(np.arange(len(docs)), lengths)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    seq = segment.tokens[np.arange(owner.size) - first + np.repeat(starts, lengths)]
    seq = seq.astype(np.int64)
    pairs = seq[:-1] * n_terms + seq[1:]
    if keys.size <= FEW_PAIRS:  # a short query: one comparison per pair beats a search
        pos = np.zeros(pairs.size, dtype=np.intp)
        hit = pairs == keys[0]
        for j in range(1, keys.size):
            same = pairs == keys[j]
            pos[same] = j
            hit |= same
        hit &= owner[:-1] == owner[1:]
    else:
        pos = np.minimum(np.searchsorted(keys, pairs), keys.size - 1)
        hit = (keys[pos] == pairs) & (owner[:-1] == owner[1:])
    if not hit.any():
        return bonus
    found, tf = np.unique(owner[:-1][hit] * keys.size + pos[hit], return_counts=True)
    paper, pair = found // keys.size, found % keys.size
    contribution = weights[pair] * saturation(tf, lengths[paper], segment.avgdl)
    np.add.at(bonus, paper, contribution)
    return bonus
