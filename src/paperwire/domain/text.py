"""Text clean-up rules shared by every source."""

from __future__ import annotations

import re

_WS = re.compile(r"\s+")
_PARAGRAPH = re.compile(r"\n\s*\n")


def normalize_title(title: str | None) -> str:
    """Join arXiv's hard-wrapped title lines into one line."""
    return _WS.sub(" ", title or "").strip()


def normalize_abstract(abstract: str | None) -> str:
    """Join hard-wrapped lines while keeping blank-line paragraph breaks."""
    text = (abstract or "").strip()
    paragraphs = [_WS.sub(" ", part).strip() for part in _PARAGRAPH.split(text)]
    return "\n\n".join(p for p in paragraphs if p)


def split_author_list(authors: str | None) -> list[str]:
    """Split arXiv's 'A, B and C' author string into names."""
    text = _WS.sub(" ", authors or "").strip()
    if not text:
        return []
    text = re.sub(r",?\s+and\s+", ", ", text)
    return [name.strip() for name in text.split(",") if name.strip()]
