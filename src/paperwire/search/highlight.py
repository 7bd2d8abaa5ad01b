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
    tokens = list(_TOKEN.finditer(text.lower() if ascii_text else text))
    if not tokens:
        return None
    folded = [t.group() if ascii_text else fold(t.group()) for t in tokens]
    # Porter keeps a word's first two letters, so only those candidates need stemming.
    prefixes = {s[:2] for s in stems}
    candidates = [i for i, w in enumerate(folded) if w[:2] in prefixes]
    candidate_stems = analyzer.stems([folded[i] for i in candidates])
    stem_of = {i: s for i, s in zip(candidates, candidate_stems, strict=True) if s in stems}
    hits = sorted(stem_of)
    start = _best_start(hits, stem_of, words) if hits else 0
    end = min(len(tokens), start + words)
    marked = set(hits)
    parts = [ELLIPSIS] if start > 0 else []
    cursor = tokens[start].start() if start > 0 else 0
    for i in range(start, end):
        token = tokens[i]
        parts.append(html.escape(text[cursor : token.start()], quote=True))
        word = html.escape(text[token.start() : token.end()], quote=True)
        parts.append(f"<mark>{word}</mark>" if i in marked else word)
        cursor = token.end()
    if end < len(tokens):
        parts.append(html.escape(text[cursor : tokens[end].start()].rstrip(), quote=True))
        parts.append(ELLIPSIS)
    else:
        parts.append(html.escape(text[cursor:], quote=True))
    return " ".join("".join(parts).split())


def _best_start(hits: list[int], token_stems: dict[int, str], words: int) -> int:
    """Start of the window that holds the most distinct query words (then the most hits)."""
    best, best_key = 0, (-1, -1)
    lead = min(3, words // 4)  # a little context before the first marked word
    for h in hits:
        start = max(0, h - lead)
        inside = [i for i in hits if start <= i < start + words]
        key = (len({token_stems[i] for i in inside}), len(inside))
        if key > best_key:
            best, best_key = start, key
    return best
