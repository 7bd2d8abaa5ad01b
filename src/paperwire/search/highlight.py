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
_OPEN, _CLOSE = "\ue000", "\ue001"  # the marks, while an ASCII window is escaped


# Porter stemming keeps a word's beginning: it rewrites only the stem's last letter (y to
# i, an e added) and what follows, so a word can match a stem only if it starts with the
# stem's first letters (all but its last two, at most PREFIX_LETTERS, at least two; checked
# on the 131k distinct words of both shared corpora).
PREFIX_LETTERS = 4


@lru_cache(maxsize=256)
def stem_prefixes(stems: frozenset[str]) -> frozenset[str]:
    """The beginnings a word must have to stem to one of `stems` (cached: a page's
    snippets share their query's stems)."""
    out = set()
    for stem in stems:
        prefix = stem[: max(2, min(len(stem) - 2, PREFIX_LETTERS))]
        out.add(prefix)
        if prefix == stem and len(stem) == 2 and stem[-1] == "i":  # "ays" is "ai"
            out.add(stem[0] + "y")
    return frozenset(out)


@lru_cache(maxsize=256)
def _starting_with(prefixes: frozenset[str]) -> re.Pattern[str]:
    """A space and the word after it, for the words of a spaced text (with a space in
    front) that start with one of `prefixes` (a word shorter than two letters must equal
    its prefix). Starting with a literal space, the scan stops only at word starts."""
    parts = sorted((re.escape(p) + (r"[^ ]*" if len(p) >= 2 else r"(?![^ ])")
                    for p in prefixes if p), key=lambda p: (-len(p), p))
    return re.compile(r" (?:" + "|".join(parts or ["(?!)"]) + r")")


def highlight(
    text: str | None, stems: Collection[str], analyzer: Analyzer, *, words: int = SNIPPET_WORDS
) -> str | None:
    """About `words` words of `text` around its best cluster of query stems, with <mark>."""
    if not text:
        return None
    prefixes = stem_prefixes(frozenset(stems))
    if text.isascii():
        return _ascii_highlight(text, stems, prefixes, analyzer, words)
    tokens = list(_TOKEN.finditer(text))
    if not tokens:
        return None
    folded = [fold(t.group()) for t in tokens]
    n_tokens = len(folded)
    beginnings = tuple(p for p in prefixes if p)
    candidates = {w for w in folded if w.startswith(beginnings)}
    stem_of: dict[int, str] = {}
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
    window = [t.span() for t in tokens[start : min(end, n_tokens - 1) + 1]]
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


def _ascii_highlight(
    text: str, stems: Collection[str], prefixes: frozenset[str], analyzer: Analyzer, words: int
) -> str | None:
    """`highlight` for an ASCII text (almost every abstract), the same output faster.

    The words are the runs of ASCII letters and digits, as the keyword index reads them:
    their starts come from one numpy pass over the text with every other byte made a
    space. Only words that start like a query stem can match (`stem_prefixes`), found by
    one scan of the text. The window is escaped once, with two private-use characters
    (never in ASCII text) standing for the marks meanwhile.
    """
    spaced = text.encode("ascii").lower().translate(_ASCII_SEPARATORS)
    is_word = np.frombuffer(spaced, dtype=np.uint8) != _SPACE
    begins = is_word.copy()
    begins[1:] &= ~is_word[:-1]
    starts: list[int] = np.flatnonzero(begins).tolist()
    n_tokens = len(starts)
    if not n_tokens:
        return None
    found = [(m.start(), m.group()[1:])
             for m in _starting_with(prefixes).finditer(" " + spaced.decode("ascii"))]
    stem_of: dict[int, str] = {}  # word number -> stem, in text order
    length: dict[int, int] = {}
    if found:
        distinct = sorted({word for _, word in found})
        stem_by_word = {w: s for w, s in zip(distinct, analyzer.cached_stems(distinct),
                                             strict=True) if s in stems}
        for at, word in found:
            if (stem := stem_by_word.get(word)) is not None:
                i = bisect_left(starts, at)
                stem_of[i] = stem
                length[i] = len(word)
    hits = list(stem_of)
    start = _best_start(hits, stem_of, words) if hits else 0
    end = min(n_tokens, start + words)
    cursor = starts[start] if start > 0 else 0
    hi = starts[end] if end < n_tokens else len(text)
    pieces = []
    for i in hits:
        if start <= i < end:
            word_start = starts[i]
            word_end = word_start + length[i]
            pieces += (text[cursor:word_start], _OPEN, text[word_start:word_end], _CLOSE)
            cursor = word_end
    pieces.append(text[cursor:hi].rstrip() if end < n_tokens else text[cursor:hi])
    body = html.escape("".join(pieces), quote=True)
    body = body.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")
    return " ".join(((ELLIPSIS if start > 0 else "") + body
                     + (ELLIPSIS if end < n_tokens else "")).split())


def _best_start(hits: list[int], token_stems: dict[int, str], words: int) -> int:
    """Start of the window that holds the most distinct query words (then the most hits):
    the first of the best, trying a window that starts a little before each hit."""
    lead = min(3, words // 4)  # a little context before the first marked word
    if words < 2:
        return _best_start_scan(hits, token_stems, words, lead)
    best, best_key = 0, (-1, -1)
    counts: dict[str, int] = {}  # the stems of hits[n:after], counted
    after, n_hits = 0, len(hits)
    for n, h in enumerate(hits):
        start = h - lead if h > lead else 0
        limit = start + words  # > h: hits[n] is inside
        while after < n_hits and hits[after] < limit:
            stem = token_stems[hits[after]]
            counts[stem] = counts.get(stem, 0) + 1
            after += 1
        key = (len(counts), after - n)
        if key > best_key:
            best, best_key = start, key
        stem = token_stems[h]
        if counts[stem] == 1:
            del counts[stem]
        else:
            counts[stem] -= 1
    return best


def _best_start_scan(hits: list[int], token_stems: dict[int, str], words: int,
                     lead: int) -> int:
    """`_best_start` by looking at each window afresh (tiny windows)."""
    best, best_key = 0, (-1, -1)
    for n, h in enumerate(hits):
        start = max(0, h - lead)
        inside = hits[n:bisect_left(hits, start + words, n)]
        key = (len({token_stems[i] for i in inside}), len(inside))
        if key > best_key:
            best, best_key = start, key
    return best
