"""Text clean-up rules shared by every source."""

from __future__ import annotations

import re

_WS = re.compile(r"\s+")
_PARAGRAPH = re.compile(r"\n\s*\n")


def normalize_title(title: str | None) -> str:
    """Join arXiv's hard-wrapped title lines into one line."""
    return " ".join((title or "").split())


def normalize_abstract(abstract: str | None) -> str:
    """Join hard-wrapped lines while keeping blank-line paragraph breaks.

    Paragraphs are separated by lines that hold only whitespace; each paragraph's
    whitespace runs become single spaces. No regex: the bulk import runs this on
    every abstract.
    """
    text = abstract or ""
    if "\n" not in text:
        return " ".join(text.split())
    paragraphs: list[str] = []
    current: list[str] = []
    for line in text.strip().split("\n"):
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(" ".join(" ".join(current).split()))
            current = []
    if current:
        paragraphs.append(" ".join(" ".join(current).split()))
    return "\n\n".join(paragraphs)


def split_author_list(authors: str | None) -> list[str]:
    """Split arXiv's 'A, B and C' author string into names."""
    text = _WS.sub(" ", authors or "").strip()
    if not text:
        return []
    text = re.sub(r",?\s+and\s+", ", ", text)
    return [name.strip() for name in text.split(",") if name.strip()]
