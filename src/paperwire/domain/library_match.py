"""How close each new paper is to a reader's library (pure, numpy): For-you's core.

Features. Each paper is a sparse vector of its words and of its adjacent word pairs
(unigrams and bigrams, as arxiv-sanity-lite's tf-idf: a phrase such as "neural radiance"
says more about a topic than either word), weighted (1 + log tf) * idf ** 1.5 with
idf = log(N / df) over the whole corpus, and L2-normalised; features only one paper holds
are left out (they can link no two papers, only dilute the norm), and so are those more
than half of the papers hold (BM25's idf floors them too). The exponent leans on the rare,
specific terms a research topic is made of (1 would be plain tf-idf).

Two views of the library, fused by reciprocal rank (RRF, k = 60, as hybrid search fuses):
- **nearest neighbours**: a paper's mean cosine to its 3 most similar library papers, so a
  reader with several topics is served on each of them and one odd library paper cannot
  carry a pick alone;
- **the reader's profile** (Rocchio): the library's mean vector minus the candidates' mean
  (what is typical of this reader rather than of this week's papers); a paper scores its
  dot product with it, and its largest shared contributions are the terms shown as reasons.

Everything is a few vectorised passes over the papers' features: one "matrix product" of
candidates against the library instead of one search per library paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

RRF_K = 60.0
NEIGHBOURS = 3
IDF_POWER = 1.5
MIN_DF = 2
MAX_DF_SHARE = 0.5
CHUNK_CELLS = 1 << 22  # bounds the temporary (shared features x library papers) block
CODE_LIMIT = 1 << 62  # featurize's (row, feature) codes stay below this (int64)


@dataclass(frozen=True)
class TermStats:
    """Corpus statistics for the papers' term ids (0 .. n_terms - 1)."""

    n_terms: int
    df: np.ndarray  # term id -> papers holding it
    n_docs: int
    # sorted a * n_terms + b of the pairs seen in two papers or more, and their frequencies
    pair_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pair_df: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


@dataclass(frozen=True)
class Features:
    """CSR rows: row r's features are keys[indptr[r]:indptr[r+1]] (sorted), L2-normalised."""

    indptr: np.ndarray
    keys: np.ndarray
    weights: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    def row(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = int(self.indptr[r]), int(self.indptr[r + 1])
        return self.keys[start:end], self.weights[start:end]


@dataclass(frozen=True)
class LibraryMatch:
    ranked: list[int]  # candidate rows with any shared feature, best first
    score: np.ndarray  # per candidate: the fused RRF score (0 for no evidence)
    nearest: np.ndarray  # per candidate: row of its most similar library paper (-1: none)
    similarity: np.ndarray  # per candidate: cosine to that paper
    drivers: dict[int, list[int]]  # candidate row -> feature keys that drove it, strongest first


def feature_terms(key: int, n_terms: int) -> tuple[int, ...]:
    """The term ids a feature key stands for: one word, or a pair of adjacent words."""
    if key < n_terms:
        return (int(key),)
    pair = int(key) - n_terms
    return (pair // n_terms, pair % n_terms)


def featurize(sequences: Sequence[np.ndarray], stats: TermStats) -> Features:
    """Each paper's unigram + bigram tf-idf vector (see the module docstring)."""
    n = stats.n_terms
    per_call = max(1, CODE_LIMIT // (n + n * n))  # rows whose (row, key) codes fit
    if len(sequences) > per_call:
        return stack_features([featurize(sequences[i:i + per_call], stats)
                               for i in range(0, len(sequences), per_call)])
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    if lengths.sum() == 0:
        return Features(np.zeros(len(sequences) + 1, np.int64), np.zeros(0, np.int64),
                        np.zeros(0, np.float32))
    tokens = np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences])
    owner = np.repeat(np.arange(len(sequences), dtype=np.int64), lengths)
    same = owner[:-1] == owner[1:]
    pairs = n + tokens[:-1][same] * n + tokens[1:][same]
    keys = np.concatenate([tokens, pairs])
    owners = np.concatenate([owner, owner[:-1][same]])
    span = n + n * n
    joint, tf = np.unique(owners * span + keys, return_counts=True)
    row, key = joint // span, joint % span
    idf_terms = np.log(stats.n_docs / np.maximum(stats.df, 1)).astype(np.float32)
    idf_terms = np.maximum(idf_terms, 0.0)
    idf = np.empty(len(key), dtype=np.float32)
    uni = key < n
    idf[uni] = idf_terms[key[uni]]
    pk = key[~uni] - n
    pdf = np.ones(len(pk), dtype=np.int64)
    if len(stats.pair_keys):
        pos = np.minimum(np.searchsorted(stats.pair_keys, pk), len(stats.pair_keys) - 1)
        known = stats.pair_keys[pos] == pk
        pdf[known] = stats.pair_df[pos[known]]
    idf[~uni] = np.maximum(np.log(stats.n_docs / pdf), 0.0)
    df = np.ones(len(key), dtype=np.int64)
    df[uni] = stats.df[key[uni]]
    df[~uni] = pdf
    # A feature no other paper holds links nothing, it only dilutes; one that most papers
    # hold says nothing about a topic (BM25's idf floors such words too).
    keep = (df >= MIN_DF) & (df <= MAX_DF_SHARE * stats.n_docs)
    row, key, tf, idf = row[keep], key[keep], tf[keep], idf[keep]
    weights = (1.0 + np.log(tf)).astype(np.float32) * idf ** IDF_POWER
    indptr = np.zeros(len(sequences) + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=len(sequences)), out=indptr[1:])
    norms = np.sqrt(np.bincount(row, weights=weights.astype(np.float64) ** 2,
                                minlength=len(sequences)))
    norms[norms == 0] = 1.0
    weights = (weights / norms[row]).astype(np.float32)
    return Features(indptr, key, weights)


def stack_features(parts: Sequence[Features]) -> Features:
    """The rows of several Features, one after another."""
    if not parts:
        return Features(np.zeros(1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
    starts = np.cumsum([0] + [len(p.keys) for p in parts[:-1]])
    indptr = np.concatenate([parts[0].indptr[:1]] + [
        p.indptr[1:] + start for p, start in zip(parts, starts, strict=True)])
    return Features(indptr.astype(np.int64), np.concatenate([p.keys for p in parts]),
                    np.concatenate([p.weights for p in parts]))


def features_from_rows(rows: Sequence[tuple[np.ndarray, np.ndarray]]) -> Features:
    """Features whose row r holds rows[r] = (sorted keys, weights), e.g. rows kept aside."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(k) for k, _ in rows], out=indptr[1:])
    if not rows:
        return Features(indptr, np.zeros(0, np.int64), np.zeros(0, np.float32))
    return Features(indptr, np.concatenate([k for k, _ in rows]),
                    np.concatenate([w for _, w in rows]))


@dataclass(frozen=True)
class CandidatePool:
    """Candidates' features with what every library compared against them reuses: the
    distinct feature keys, each entry's row and key column, and the candidates' mean."""

    features: Features
    rows: np.ndarray  # per feature entry: its candidate row
    columns: np.ndarray  # per feature entry: its index in `keys`
    keys: np.ndarray  # the distinct feature keys, sorted
    mean: np.ndarray  # the candidates' mean vector, on `keys`
    typical: np.ndarray  # per candidate: its dot product with `mean`


def candidate_pool(candidates: Features) -> CandidatePool:
    m = candidates.rows
    rows = np.repeat(np.arange(m, dtype=np.int32), np.diff(candidates.indptr))
    keys, columns = np.unique(candidates.keys, return_inverse=True)
    columns = columns.astype(np.int32)  # a pool is kept between readers: half the memory
    mean = np.bincount(columns, weights=candidates.weights, minlength=len(keys)) / max(1, m)
    typical = np.bincount(rows, weights=candidates.weights * mean[columns], minlength=m)
    return CandidatePool(candidates, rows, columns, keys, mean, typical)


def match_library(
    library: Features,
    candidates: Features | CandidatePool,
    *,
    neighbours: int = NEIGHBOURS,
    explain: int = 100,
) -> LibraryMatch:
    """Rank candidate rows by closeness to the library rows (see the module docstring).

    `explain`: how many of the best candidates get their driving feature keys."""
    pool = candidates if isinstance(candidates, CandidatePool) else candidate_pool(candidates)
    cand = pool.features
    m, n = cand.rows, library.rows
    empty = LibraryMatch([], np.zeros(m), np.full(m, -1), np.zeros(m), {})
    if m == 0 or n == 0 or len(library.keys) == 0 or len(cand.keys) == 0:
        return empty
    lib_row = np.repeat(np.arange(n), np.diff(library.indptr))
    lib_keys, lib_pos = np.unique(library.keys, return_inverse=True)
    block = np.zeros((len(lib_keys), n), dtype=np.float32)  # library features x papers
    block[lib_pos, lib_row] = library.weights
    profile = block.sum(axis=1) / n  # the library's mean vector on its own features
    # Each candidate feature's row in `block` (-1: no library paper holds it).
    at = np.minimum(np.searchsorted(pool.keys, lib_keys), len(pool.keys) - 1)
    held = pool.keys[at] == lib_keys
    in_library = np.full(len(pool.keys), -1, dtype=np.int64)
    in_library[at[held]] = np.flatnonzero(held)
    entry_pos = in_library[pool.columns]
    hit = np.flatnonzero(entry_pos >= 0)
    hit_rows, pos, hit_weights = pool.rows[hit], entry_pos[hit], cand.weights[hit]
    rocchio = np.bincount(hit_rows, weights=hit_weights * profile[pos],
                          minlength=m).astype(np.float64)
    rocchio -= pool.typical
    sims = _similarities(hit_rows, pos, hit_weights, block, m)
    k = min(neighbours, n)
    top = sims if k == n else -np.partition(-sims, k - 1, axis=1)[:, :k]
    knn = top.mean(axis=1)
    nearest = np.argmax(sims, axis=1)
    similarity = sims[np.arange(m), nearest]
    evidence = similarity > 0
    nearest = np.where(evidence, nearest, -1)
    fused = _rrf(knn, evidence) + _rrf(rocchio, evidence)
    fused[~evidence] = 0.0
    order = [int(i) for i in np.lexsort((np.arange(m), -fused)) if evidence[i]]
    drivers: dict[int, list[int]] = {}
    contribution = hit_weights * (profile[pos] - pool.mean[pool.columns[hit]])
    hit_keys = cand.keys[hit]
    explained = np.asarray(order[:explain], dtype=np.int64)
    starts = np.searchsorted(hit_rows, explained)
    ends = np.searchsorted(hit_rows, explained, side="right")
    for r, start, end in zip(explained.tolist(), starts.tolist(), ends.tolist(), strict=True):
        c, keys = contribution[start:end], hit_keys[start:end]
        best = np.argsort(-c, kind="stable")
        drivers[r] = [int(keys[i]) for i in best if c[i] > 0][:8]
    return LibraryMatch(order, fused, nearest, similarity, drivers)


def _similarities(rows: np.ndarray, pos: np.ndarray, weights: np.ndarray,
                  block: np.ndarray, m: int) -> np.ndarray:
    """Cosines of every candidate to every library paper, from the shared features only
    (`rows` sorted), in chunks that bound the temporary memory."""
    n = block.shape[1]
    sims = np.zeros((m, n), dtype=np.float32)
    if len(rows) == 0:
        return sims
    step = max(1, CHUNK_CELLS // max(1, n))
    for start in range(0, len(rows), step):
        r, p, w = rows[start:start + step], pos[start:start + step], weights[start:start + step]
        firsts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        sums = np.add.reduceat(block[p] * w[:, None], firsts, axis=0)
        sims[r[firsts]] += sums  # a row split across chunks adds up
    return sims


def _rrf(scores: np.ndarray, evidence: np.ndarray) -> np.ndarray:
    """1 / (k + rank) by descending score among the candidates with evidence."""
    order = np.lexsort((np.arange(len(scores)), -np.where(evidence, scores, -np.inf)))
    rank = np.empty(len(scores), dtype=np.float64)
    rank[order] = np.arange(1, len(scores) + 1)
    return 1.0 / (RRF_K + rank)
