"""A paper as one Markdown document (GET /papers/{id}.md, `hf papers read`, the MCP tool).

Pure: the caller passes the paper's fields and what is known about its full text.
Text from sources is untrusted: anything that looks like an HTML tag is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")

FulltextState = Literal["stored", "pending", "failed", "off"]


@dataclass(frozen=True, slots=True)
class PaperFacts:
    id: str
    title: str
    authors: Sequence[str]
    abstract: str
    abs_url: str
    pdf_url: str
    page_url: str
    published_at: datetime | None = None
    updated_at: datetime | None = None
    categories: Sequence[str] = ()
    github_repo: str | None = None
    project_page: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    organization: str | None = None
    upvotes: int = 0
    num_comments: int = 0
    feed_days: Sequence[date] = ()
    ai_summary: str | None = None
    ai_keywords: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class FulltextNote:
    """The full text (when stored) and a sentence on where it came from or why it is absent."""

    state: FulltextState
    markdown: str | None = None
    source_url: str | None = None
    fetched_at: datetime | None = None
    reason: str | None = None  # why the last fetch failed


def safe_text(text: str) -> str:
    """Source text for Markdown: one line's whitespace, tag starts escaped."""
    return _TAG_START.sub("&lt;", text)


def _line(text: str) -> str:
    return safe_text(" ".join(text.split()))


def render_paper_markdown(paper: PaperFacts, fulltext: FulltextNote) -> str:
    lines = [f"# {_line(paper.title)}", ""]
    facts = [
        f"- **arXiv:** [{paper.id}]({paper.abs_url}) · [PDF]({paper.pdf_url})",
        f"- **Authors:** {_line(', '.join(paper.authors))}" if paper.authors else None,
        f"- **Published:** {_day(paper.published_at)}" if paper.published_at else None,
        f"- **Updated:** {_day(paper.updated_at)}" if paper.updated_at else None,
        f"- **Categories:** {_line(', '.join(paper.categories))}" if paper.categories else None,
        f"- **Organization:** {_line(paper.organization)}" if paper.organization else None,
        f"- **Code:** {_line(paper.github_repo)}" if paper.github_repo else None,
        f"- **Project page:** {_line(paper.project_page)}" if paper.project_page else None,
        f"- **DOI:** {_line(paper.doi)}" if paper.doi else None,
        f"- **Journal reference:** {_line(paper.journal_ref)}" if paper.journal_ref else None,
        f"- **Upvotes:** {paper.upvotes} · **Comments:** {paper.num_comments}",
        (
            "- **On the daily feed:** " + ", ".join(d.isoformat() for d in paper.feed_days)
            if paper.feed_days
            else None
        ),
        f"- **Page:** {paper.page_url}",
    ]
    lines += [fact for fact in facts if fact]
    if paper.ai_summary or paper.ai_keywords:
        lines += ["", "## AI summary", ""]
        if paper.ai_summary:
            lines.append(_line(paper.ai_summary))
        if paper.ai_keywords:
            if paper.ai_summary:
                lines.append("")
            lines.append(f"**Keywords:** {_line(', '.join(paper.ai_keywords))}")
    lines += ["", "## Abstract", "", _line(paper.abstract) or "_No abstract._", ""]
    lines += ["## Full text", "", f"> {fulltext_sentence(fulltext)}", ""]
    if fulltext.markdown:
        lines += [fulltext.markdown.strip(), ""]
    return "\n".join(lines)


def fulltext_sentence(note: FulltextNote) -> str:
    """One sentence saying where the full text comes from, or why it is not here."""
    if note.markdown:
        when = f" on {_day(note.fetched_at)}" if note.fetched_at else ""
        stale = (
            f" The latest refresh failed ({_line(note.reason)}); this is the stored copy."
            if note.state == "failed" and note.reason
            else ""
        )
        return f"Converted from arXiv's HTML rendering ({note.source_url}), fetched{when}.{stale}"
    if note.state == "pending":
        return (
            "The full text is being fetched from arXiv's HTML rendering; ask again in a "
            "minute. This document has the abstract only."
        )
    if note.state == "off":
        return (
            "Full text is not stored on this server and fetching it is switched off "
            "(PAPERWIRE_FULLTEXT_FETCH); this document has the abstract only."
        )
    reason = f" ({_line(note.reason)})" if note.reason else ""
    return (
        f"The full text could not be fetched from arXiv's HTML rendering{reason}; it will be "
        "tried again later. This document has the abstract only."
    )


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else ""
