"""Result snippets: the window of an abstract with the most query words, HTML-safe.

Words match the way the keyword index matches them (unicode61 + Porter stems), so
"transformer" marks "Transformers". Pure functions over text; no database involved.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection

from paperwire.search.text_analysis import Analyzer, fold

SNIPPET_WORDS = 32
ELLIPSIS = "…"
_TOKEN = re.compile(r"[^\W_]+")


def highlight(
    text: str | None, stems: Collection[str], analyzer: Analyzer, *, words: int = SNIPPET_WORDS
) -> str | None:
    """About `words` words of `text` around its best cluster of query stems, with <mark>."""
    if not text:
        return None
    ascii_text = text.isascii()
    source = text.lower() if ascii_text else text
    tokens = list(_TOKEN.finditer(source))
    if not tokens:
        return None
    folded = _TOKEN.findall(source) if ascii_text else [fold(t.group()) for t in tokens]
    # Porter keeps a word's first two letters, so only those candidates need stemming.
    prefixes = {s[:2] for s in stems}
    candidates = [i for i, w in enumerate(folded) if w[:2] in prefixes]
    candidate_stems = analyzer.stems([folded[i] for i in candidates])
    stem_of = {i: s for i, s in zip(candidates, candidate_stems, strict=True) if s in stems}
    hits = sorted(stem_of)
    start = _best_start(hits, stem_of, words) if hits else 0
    end = min(len(tokens), start + words)
    lo = tokens[start].start() if start > 0 else 0
    hi = tokens[end].start() if end < len(tokens) else len(text)
    parts = [ELLIPSIS] if start > 0 else []
    cursor = lo
    for i in hits:  # escape the text between marked words in one piece each
        if start <= i < end:
            token = tokens[i]
            parts.append(html.escape(text[cursor : token.start()], quote=True))
            marked = html.escape(text[token.start() : token.end()], quote=True)
            parts.append(f"<mark>{marked}</mark>")
            cursor = token.end()
    parts.append(html.escape(text[cursor:hi].rstrip() if end < len(tokens) else text[cursor:hi],
                             quote=True))
    if end < len(tokens):
        parts.append(ELLIPSIS)
    return " ".join("".join(parts).split())


def _best_start(hits: list[int], token_stems: dict[int, str], words: int) -> int:
    """Start of the window that holds the most distinct query words (then the most hits)."""
    best, best_key = 0, (-1, -1)
    lead = min(3, words // 4)  # a little context before the first marked word
    for n, h in enumerate(hits):
        start = max(0, h - lead)
        inside = [i for i in hits[n:] if i < start + words]
        key = (len({token_stems[i] for i in inside}), len(inside))
        if key > best_key:
            best, best_key = start, key
    return best
