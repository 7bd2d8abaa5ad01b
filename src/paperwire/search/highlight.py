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
from itertools import islice

from paperwire.search.text_analysis import Analyzer, fold

SNIPPET_WORDS = 32
ELLIPSIS = "…"
_TOKEN = re.compile(r"[^\W_]+")
# Lower-cased ASCII text: [^\W_] is [a-z0-9] there, so every other character separates
# words; mapped to spaces (same length, same positions), `str.split` finds the words.
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(128)
                                   if not chr(c).isalnum()})
_SPACED_WORD = re.compile(r"[^ ]+")


@lru_cache(maxsize=256)
def _starting_with(prefixes: frozenset[str]) -> re.Pattern[str]:
    """The words of a spaced text whose first two letters are one of `prefixes` (a word
    shorter than two letters must equal its prefix)."""
    parts = sorted((re.escape(p) + (r"[^ ]*" if len(p) >= 2 else "") for p in prefixes if p),
                   key=lambda p: (-len(p), p))
    return re.compile(r"(?<![^ ])(?:" + "|".join(parts or ["(?!)"]) + r")(?![^ ])")


def highlight(
    text: str | None, stems: Collection[str], analyzer: Analyzer, *, words: int = SNIPPET_WORDS
) -> str | None:
    """About `words` words of `text` around its best cluster of query stems, with <mark>."""
    if not text:
        return None
    prefixes = frozenset(s[:2] for s in stems)
    if text.isascii():
        spaced = text.lower().translate(_ASCII_SEPARATORS)
        folded = spaced.split()
        if not folded:
            return None
        # Porter keeps a word's first two letters: only words that start like a query stem
        # can match (found by one scan of the text).
        candidates = set(_starting_with(prefixes).findall(spaced))

        def spans(first: int, last: int) -> list[tuple[int, int]]:
            """Where words first..last are (the words before them skipped in C)."""
            return [m.span() for m in islice(_SPACED_WORD.finditer(spaced), first, last + 1)]
    else:
        tokens = list(_TOKEN.finditer(text))
        if not tokens:
            return None
        folded = [fold(t.group()) for t in tokens]
        candidates = {w for w in folded if w[:2] in prefixes}

        def spans(first: int, last: int) -> list[tuple[int, int]]:
            return [t.span() for t in tokens[first : last + 1]]
    n_tokens = len(folded)
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
