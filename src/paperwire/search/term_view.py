"""Papers' analysed words as term ids of one vocabulary: the raw material of per-reader
term models (For-you's library view).

A `TermView` stands for one state of the keyword index (or for a handful of papers
analysed on the spot): its term ids, document frequencies and adjacent-pair frequencies
stay fixed for as long as the view lives, so whatever is derived from a paper's words
under a view (its weighted features) can be kept and reused until the index moves on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class TermView:
    """Term ids 0 .. len(stems) - 1, their statistics, and each paper's ids in text order."""

    stems: Sequence[str]  # term id -> stem
    df: np.ndarray  # term id -> papers holding it (at least 1)
    n_docs: int
    pair_keys: np.ndarray  # sorted a * len(stems) + b of the adjacent pairs two papers hold
    pair_df: np.ndarray  # papers holding each of those pairs
    sequence_of: Callable[[str], np.ndarray | None]  # paper id -> int64 term ids, or None

    @property
    def n_terms(self) -> int:
        return len(self.stems)

    def sequences(self, paper_ids: Iterable[str]) -> tuple[list[str], list[np.ndarray]]:
        """(the papers the view holds, in the given order; their term ids)."""
        found: list[str] = []
        sequences: list[np.ndarray] = []
        for pid in paper_ids:
            seq = self.sequence_of(pid)
            if seq is not None:
                found.append(pid)
                sequences.append(seq)
        return found, sequences


def view_of_sequences(ids: Sequence[str], sequences: Sequence[np.ndarray],
                      stems: Sequence[str]) -> TermView:
    """A view whose statistics are those of these papers alone (e.g. analysed on the spot
    while the keyword index is still building)."""
    n = len(stems)
    df = np.zeros(n, dtype=np.int64)
    for seq in sequences:
        df[np.unique(seq)] += 1
    per_paper = [np.unique(seq[:-1] * n + seq[1:]) for seq in sequences]
    pair_keys, pair_df = np.unique(
        np.concatenate(per_paper) if per_paper else np.zeros(0, np.int64), return_counts=True)
    rows = dict(zip(ids, sequences, strict=True))
    return TermView(list(stems), np.maximum(df, 1), max(1, len(ids)), pair_keys,
                    pair_df.astype(np.int64), rows.get)
