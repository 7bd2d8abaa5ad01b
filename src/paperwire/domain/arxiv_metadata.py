"""arXiv's metadata fields -> PaperRecord: the one mapping every arXiv source uses.

The API's Atom entries, OAI-PMH records (both formats) and the bulk metadata snapshot
name the same fields differently; each source reads its own shape into these keyword
arguments, and this function applies the common rules: the canonical id, normalised
title and abstract, whitespace-collapsed comments and journal reference, the primary
category first among the categories, and code / project links found in the abstract
and comments.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from paperwire.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.domain.links import find_github_repo, find_project_page
from paperwire.domain.records import ARXIV_SOURCE, PaperRecord
from paperwire.domain.text import normalize_abstract, normalize_title

SOURCE = ARXIV_SOURCE
_SOURCES = frozenset({SOURCE})


class BadArxivMetadata(ValueError):
    """The fields cannot make a paper (no valid id, no title); the message says why."""


def arxiv_record(
    *,
    raw_id: str | None,
    title: str | None,
    abstract: str | None = None,
    authors: Iterable[str] = (),
    categories: Iterable[str] = (),
    primary_category: str | None = None,
    version: int | None = None,
    published_at: datetime | None = None,
    updated_at: datetime | None = None,
    comments: str | None = None,
    journal_ref: str | None = None,
    doi: str | None = None,
) -> PaperRecord:
    """Map one arXiv paper's fields to a PaperRecord; raise BadArxivMetadata if impossible.

    `version` defaults to the one in `raw_id` (2401.00001v3); `primary_category` to the
    first category.
    """
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise BadArxivMetadata("the record has no id")
    try:
        arxiv_id = parse_arxiv_id(raw_id)
    except InvalidArxivId as exc:
        raise BadArxivMetadata(str(exc)) from None
    clean_title = normalize_title(title)
    if not clean_title:
        raise BadArxivMetadata(f"paper {arxiv_id.id} has no title")
    clean_abstract = normalize_abstract(abstract)
    clean_comments = _collapsed(comments)
    cats = [c for c in categories if c]
    if primary_category and primary_category not in cats:
        cats.insert(0, primary_category)
    # Link finders are regex scans for http(s) URLs; only texts that hold one need them.
    linked = [text for text in (clean_abstract, clean_comments) if text and "://" in text]
    return PaperRecord(
        id=arxiv_id.id,
        version=version if version is not None else arxiv_id.version,
        title=clean_title,
        abstract=clean_abstract,
        authors=tuple(authors),
        primary_category=primary_category or (cats[0] if cats else None),
        categories=tuple(cats),
        published_at=published_at,
        updated_at=updated_at,
        comments=clean_comments,
        journal_ref=_collapsed(journal_ref),
        doi=(doi or "").strip() or None,
        github_repo=find_github_repo(*linked) if linked else None,
        project_page=find_project_page(*linked) if linked else None,
        sources=_SOURCES,
    )


def _collapsed(text: str | None) -> str | None:
    return " ".join(text.split()) or None if text else None
