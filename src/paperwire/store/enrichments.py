"""Computed keyphrases and summaries (table paper_enrichments), kept apart from source values.

Hugging Face's `ai_keywords` / `ai_summary` live in `papers` and only sources write them;
the values Paperwire computes live here. So a computed value never overwrites a source
one, and a source value that arrives later wins as soon as it is stored (readers prefer
`papers`' values; the next enrich run also drops the computed field it replaces).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Text, and_, cast, delete, func, or_, select, update

from paperwire.store.bulk_insert import insert_rows
from paperwire.store.tables import paper_enrichments, papers

EXTRACTED = "extracted"
GENERATED = "generated"
SOURCE = "source"

_NO_KEYWORDS = ("[]", "null")


def text_hash(title: str, abstract: str) -> str:
    """What a computed value depends on: the paper's title and abstract."""
    return hashlib.sha1(f"{title}\n{abstract}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PaperText:
    """What enrichment reads of one paper."""

    id: str
    title: str
    abstract: str
    has_source_keywords: bool
    has_source_summary: bool
    stored_hash: str | None  # of the stored enrichment, None without one
    stored_summary_origin: str | None
    stored_summary: str | None
    stored_summary_model: str | None
    stored_has_keywords: bool = False


@dataclass(frozen=True, slots=True)
class Enrichment:
    """One row of paper_enrichments (None fields: the source has that value)."""

    paper_id: str
    content_hash: str
    keywords: tuple[str, ...] | None
    summary: str | None
    summary_origin: str | None = None
    summary_model: str | None = None


def _lacks_source_value():
    return or_(
        papers.c.ai_summary.is_(None),
        papers.c.ai_summary == "",
        cast(papers.c.ai_keywords, Text).in_(_NO_KEYWORDS),
    )


def papers_to_enrich(conn: Connection, *, limit: int | None = None) -> list[str]:
    """Ids of papers missing a source value whose enrichment is absent or older than them."""
    query = (
        select(papers.c.id)
        .select_from(papers.outerjoin(paper_enrichments,
                                      paper_enrichments.c.paper_id == papers.c.id))
        .where(_lacks_source_value())
        .where(or_(paper_enrichments.c.paper_id.is_(None),
                   papers.c.modified_at > paper_enrichments.c.enriched_at))
        .order_by(papers.c.published_at.desc(), papers.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(conn.execute(query).scalars())


def superseded(conn: Connection) -> list[str]:
    """Ids whose enrichment is fully replaced by source values (both arrived later)."""
    query = (
        select(paper_enrichments.c.paper_id)
        .join(papers, papers.c.id == paper_enrichments.c.paper_id)
        .where(~_lacks_source_value())
    )
    return list(conn.execute(query).scalars())


def read_texts(conn: Connection, ids: Sequence[str]) -> list[PaperText]:
    if not ids:
        return []
    query = (
        select(papers.c.id, papers.c.title, papers.c.abstract, papers.c.ai_summary,
               papers.c.ai_keywords, paper_enrichments.c.content_hash,
               paper_enrichments.c.summary_origin, paper_enrichments.c.summary,
               paper_enrichments.c.summary_model, paper_enrichments.c.keywords_origin)
        .select_from(papers.outerjoin(paper_enrichments,
                                      paper_enrichments.c.paper_id == papers.c.id))
        .where(papers.c.id.in_(ids))
    )
    return [
        PaperText(row.id, row.title or "", row.abstract or "", bool(row.ai_keywords),
                  bool(row.ai_summary), row.content_hash, row.summary_origin, row.summary,
                  row.summary_model, row.keywords_origin is not None)
        for row in conn.execute(query)
    ]


def save_enrichments(conn: Connection, rows: Sequence[Enrichment], *, now: datetime) -> None:
    """Replace the enrichments of these papers, in the caller's transaction."""
    if not rows:
        return
    ids = [r.paper_id for r in rows]
    conn.execute(delete(paper_enrichments).where(paper_enrichments.c.paper_id.in_(ids)))
    insert_rows(conn, paper_enrichments, [
        {
            "paper_id": r.paper_id,
            "content_hash": r.content_hash,
            "keywords": list(r.keywords) if r.keywords is not None else None,
            "keywords_origin": EXTRACTED if r.keywords is not None else None,
            "summary": r.summary,
            "summary_origin": (r.summary_origin or EXTRACTED) if r.summary else None,
            "summary_model": r.summary_model if r.summary else None,
            "generation_attempts": 0,
            "generation_retry_at": None,
            "generation_error": None,
            "enriched_at": now,
        }
        for r in rows
    ])


def touch(conn: Connection, ids: Sequence[str], *, now: datetime) -> None:
    """Mark enrichments as checked (the paper changed, but not its title or abstract)."""
    if ids:
        conn.execute(update(paper_enrichments)
                     .where(paper_enrichments.c.paper_id.in_(list(ids)))
                     .values(enriched_at=now))


def drop(conn: Connection, ids: Sequence[str]) -> None:
    if ids:
        conn.execute(delete(paper_enrichments).where(paper_enrichments.c.paper_id.in_(list(ids))))


@dataclass(frozen=True, slots=True)
class GenerationCandidate:
    paper_id: str
    title: str
    abstract: str
    content_hash: str
    attempts: int


def generation_candidates(conn: Connection, *, now: datetime, limit: int,
                          max_attempts: int) -> list[GenerationCandidate]:
    """Papers with an extracted summary (no source one) due for an abstractive attempt."""
    query = (
        select(paper_enrichments.c.paper_id, papers.c.title, papers.c.abstract,
               paper_enrichments.c.content_hash, paper_enrichments.c.generation_attempts)
        .join(papers, papers.c.id == paper_enrichments.c.paper_id)
        .where(paper_enrichments.c.summary_origin == EXTRACTED)
        .where(or_(papers.c.ai_summary.is_(None), papers.c.ai_summary == ""))
        .where(paper_enrichments.c.generation_attempts < max_attempts)
        .where(or_(paper_enrichments.c.generation_retry_at.is_(None),
                   paper_enrichments.c.generation_retry_at <= now))
        .order_by(paper_enrichments.c.generation_attempts, papers.c.published_at.desc())
        .limit(limit)
    )
    return [GenerationCandidate(r.paper_id, r.title or "", r.abstract or "", r.content_hash,
                                r.generation_attempts) for r in conn.execute(query)]


def save_generated(conn: Connection, paper_id: str, content_hash: str, summary: str,
                   model: str, *, now: datetime) -> bool:
    """Store a generated summary if the paper's text is still the one it was made from."""
    result = conn.execute(
        update(paper_enrichments)
        .where(and_(paper_enrichments.c.paper_id == paper_id,
                    paper_enrichments.c.content_hash == content_hash))
        .values(summary=summary, summary_origin=GENERATED, summary_model=model[:200],
                generation_error=None, generation_retry_at=None, enriched_at=now)
    )
    return result.rowcount == 1


def record_failure(conn: Connection, paper_id: str, error: str, *, retry_at: datetime) -> None:
    conn.execute(
        update(paper_enrichments)
        .where(paper_enrichments.c.paper_id == paper_id)
        .values(generation_attempts=paper_enrichments.c.generation_attempts + 1,
                generation_retry_at=retry_at, generation_error=error[:500])
    )


def count_enriched(conn: Connection) -> dict[str, int]:
    """How many papers show keywords and a summary, by origin (for `paperwire enrich`)."""
    total = conn.execute(select(func.count()).select_from(papers)).scalar_one()
    source_summary = conn.execute(select(func.count()).select_from(papers).where(
        papers.c.ai_summary.is_not(None), papers.c.ai_summary != "")).scalar_one()
    source_keywords = conn.execute(select(func.count()).select_from(papers).where(
        cast(papers.c.ai_keywords, Text).not_in(_NO_KEYWORDS))).scalar_one()
    by_origin = dict(conn.execute(
        select(paper_enrichments.c.summary_origin, func.count())
        .where(paper_enrichments.c.summary.is_not(None))
        .group_by(paper_enrichments.c.summary_origin)).all())
    computed_keywords = conn.execute(select(func.count()).select_from(paper_enrichments).where(
        paper_enrichments.c.keywords_origin.is_not(None))).scalar_one()
    return {
        "papers": total,
        "source_summary": source_summary,
        "source_keywords": source_keywords,
        "extracted_summary": by_origin.get(EXTRACTED, 0),
        "generated_summary": by_origin.get(GENERATED, 0),
        "extracted_keywords": computed_keywords,
    }

