"""Result snippets: the window of an abstract with the most query words, HTML-safe.

Words match the way the keyword index matches them (unicode61 + Porter stems), so
"transformer" marks "Transformers". Pure functions over text; no database involved.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Collection
from contextlib import suppress
from functools import lru_cache

import numpy as np

from paperwire.search.text_analysis import Analyzer, fold

SNIPPET_WORDS = 32
ELLIPSIS = "…"
_TOKEN = re.compile(r"[^\W_]+")
# Lower-cased ASCII text: [^\W_] is [a-z0-9] there, so every other byte separates words;
# mapped to spaces (same length, same positions), the words are the runs of non-spaces.
_ASCII_SEPARATORS = bytes(c if chr(c).isalnum() else 32 for c in range(256))
_SPACE = 32


@lru_cache(maxsize=256)
def _starting_with(prefixes: frozenset[str]) -> re.Pattern[str]:
    """A space and the word after it, for the words of a spaced text (with a space in
    front) whose first two letters are one of `prefixes` (a word shorter than two letters
    must equal its prefix). Starting with a literal space, the scan stops only at word
    starts."""
    parts = sorted((re.escape(p) + (r"[^ ]*" if len(p) >= 2 else r"(?![^ ])")
                    for p in prefixes if p), key=lambda p: (-len(p), p))
    return re.compile(r" (?:" + "|".join(parts or ["(?!)"]) + r")")


def highlight(
    text: str | None, stems: Collection[str], analyzer: Analyzer, *, words: int = SNIPPET_WORDS
) -> str | None:
    """About `words` words of `text` around its best cluster of query stems, with <mark>."""
    if not text:
        return None
    prefixes = frozenset(s[:2] for s in stems)
    if text.isascii():
        found = _ascii_words(text, stems, prefixes, analyzer)
        if found is None:
            return None
        starts, marked = found
        n_tokens = len(starts)
        hits = sorted(marked)
        stem_of = {i: marked[i][0] for i in hits}

        def spans(first: int, last: int) -> list[tuple[int, int]]:
            """Where words first..last are (only their starts are needed, and the ends
            of the marked words)."""
            return [(starts[i], starts[i] + marked[i][1] if i in marked else -1)
                    for i in range(first, last + 1)]
    else:
        tokens = list(_TOKEN.finditer(text))
        if not tokens:
            return None
        folded = [fold(t.group()) for t in tokens]
        candidates = {w for w in folded if w[:2] in prefixes}

        def spans(first: int, last: int) -> list[tuple[int, int]]:
            return [t.span() for t in tokens[first : last + 1]]
        n_tokens = len(folded)
        stem_of = {}
        words_found = sorted(candidates)
        for word, stem in zip(words_found, analyzer.cached_stems(words_found), strict=True):
            if stem in stems:
                at = -1
                with suppress(ValueError):
                    while True:
                        at = folded.index(word, at + 1)
                        stem_of[at] = stem
        hits = sorted(stem_of)
    start = _best_start(hits, stem_of, words) if hits else 0
    end = min(n_tokens, start + words)
    window = spans(start, min(end, n_tokens - 1))  # word i is window[i - start]
    lo = window[0][0] if start > 0 else 0
    hi = window[end - start][0] if end < n_tokens else len(text)
    parts = [ELLIPSIS] if start > 0 else []
    cursor = lo
    for i in hits:  # escape the text between marked words in one piece each
        if start <= i < end:
            word_start, word_end = window[i - start]
            parts.append(html.escape(text[cursor:word_start], quote=True))
            parts.append(f"<mark>{html.escape(text[word_start:word_end], quote=True)}</mark>")
            cursor = word_end
    parts.append(html.escape(text[cursor:hi].rstrip() if end < n_tokens else text[cursor:hi],
                             quote=True))
    if end < n_tokens:
        parts.append(ELLIPSIS)
    return " ".join("".join(parts).split())


def _ascii_words(
    text: str, stems: Collection[str], prefixes: frozenset[str], analyzer: Analyzer
) -> tuple[list[int], dict[int, tuple[str, int]]] | None:
    """An ASCII text's word starts (character offsets), and its words whose stem is a
    query stem: word number -> (stem, length). None when the text has no word.

    The words are the runs of ASCII letters and digits, as the keyword index reads them.
    Porter keeps a word's first two letters: only words that start like a query stem can
    match, found by one scan of the text."""
    spaced = text.encode("ascii").lower().translate(_ASCII_SEPARATORS)
    is_word = np.frombuffer(spaced, dtype=np.uint8) != _SPACE
    begins = is_word.copy()
    begins[1:] &= ~is_word[:-1]
    starts = np.flatnonzero(begins)
    if not len(starts):
        return None
    found = [(m.start(), m.group()[1:])
             for m in _starting_with(prefixes).finditer(" " + spaced.decode("ascii"))]
    if not found:
        return starts.tolist(), {}
    distinct = sorted({word for _, word in found})
    stem_by_word = {w: s for w, s in zip(distinct, analyzer.cached_stems(distinct), strict=True)
                    if s in stems}
    kept = [(at, word) for at, word in found if word in stem_by_word]
    if not kept:
        return starts.tolist(), {}
    numbers = np.searchsorted(starts, [at for at, _ in kept]).tolist()
    return starts.tolist(), {i: (stem_by_word[word], len(word))
                             for i, (_, word) in zip(numbers, kept, strict=True)}


def _best_start(hits: list[int], token_stems: dict[int, str], words: int) -> int:
    """Start of the window that holds the most distinct query words (then the most hits)."""
    best, best_key = 0, (-1, -1)
    lead = min(3, words // 4)  # a little context before the first marked word
    for n, h in enumerate(hits):
        start = max(0, h - lead)
        inside = hits[n:bisect_left(hits, start + words, n)]
        key = (len({token_stems[i] for i in inside}), len(inside))
        if key > best_key:
            best, best_key = start, key
    return best
