"""Text analysis shared by the keyword ranker and the snippet highlighter.

Words are split and folded the way SQLite FTS5's `unicode61 remove_diacritics 2`
tokenizer does, then Porter-stemmed as FTS5's `porter` tokenizer does, so in-memory
ranking, highlighting and the database's own full-text index agree on what matches.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

ANALYZER = "unicode61-porter-v1"  # bump when the analysis changes (snapshots are rebuilt)

_WORD = re.compile(r"[^\W_]+")
# Words whose stems `Analyzer.cached_stems` remembers; the cache starts over when full.
STEM_CACHE_WORDS = 200_000


def fold(word: str) -> str:
    """Lower-case and strip diacritics."""
    word = word.lower()
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


class Analyzer:
    """Words as FTS5's `unicode61 remove_diacritics 2` + `porter` tokenizers see them."""

    def __init__(self) -> None:
        import Stemmer  # PyStemmer: Snowball's C implementation of Porter's algorithm

        self._stemmer = Stemmer.Stemmer("porter", 100_000)
        self._stem_cache: dict[str, str] = {}

    def words(self, text: str) -> list[str]:
        return _WORD.findall(fold(text))

    def stems(self, words: Sequence[str]) -> list[str]:
        # FTS5's porter tokenizer leaves tokens shorter than 3 characters alone.
        stemmed = self._stemmer.stemWords(words)
        return [w if len(w) < 3 else s for w, s in zip(words, stemmed, strict=True)]

    def cached_stems(self, words: Sequence[str]) -> list[str]:
        """`stems`, remembering each word's stem: a dictionary look-up instead of a call into
        the stemmer for the words a snippet tests again and again (threads may share it)."""
        cache = self._stem_cache
        out = [cache.get(w) for w in words]
        missing = [w for w, s in zip(words, out, strict=True) if s is None]
        if not missing:
            return out  # type: ignore[return-value]
        if len(cache) + len(missing) > STEM_CACHE_WORDS:
            cache = self._stem_cache = {}
        cache.update(zip(missing, self.stems(missing), strict=True))
        return [s if s is not None else cache[w] for w, s in zip(words, out, strict=True)]

    def analyze(self, text: str) -> list[str]:
        return self.stems(self.words(text))


def document_text(title: str | None, abstract: str | None, authors: str | None) -> str:
    return f"{title or ''}\n{abstract or ''}\n{authors or ''}"
