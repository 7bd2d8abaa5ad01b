"""Search filters as SQL conditions on `papers`, identical on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import ColumnElement, and_, exists, func, literal, or_, select

from paperwire.store.tables import organizations, paper_authors, paper_embeddings, papers


@dataclass(frozen=True)
class FilterSpec:
    """All active filters, merged from the query string and the caller's filters."""

    after: date | None = None
    before: date | None = None
    categories: tuple[str, ...] = ()
    organization: str | None = None
    authors: tuple[str, ...] = ()
    has_code: bool = False
    # Only these papers (a user's library, say); None: no restriction.
    paper_ids: frozenset[str] | None = None
    # Only papers with no embedding for this model id (semantic mode's keyword side while
    # embeddings are partial); None: no restriction.
    unembedded_for: str | None = None

    @property
    def active(self) -> bool:
        return bool(
            self.after or self.before or self.categories or self.organization
            or self.authors or self.has_code or self.paper_ids is not None
            or self.unembedded_for is not None
        )


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def filter_conditions(spec: FilterSpec) -> list[ColumnElement[bool]]:
    """SQL conditions on the `papers` table; all must hold."""
    conditions: list[ColumnElement[bool]] = []
    if spec.after:
        conditions.append(papers.c.published_at >= _midnight(spec.after))
    if spec.before:
        conditions.append(papers.c.published_at < _midnight(spec.before))
    if spec.categories:
        padded = literal(" ") + func.lower(papers.c.categories) + literal(" ")
        options = []
        for category in spec.categories:
            key = _like_escape(category.strip().lower())
            # "cs.CL" is one category; "cs" means any cs.* category.
            pattern = f"% {key} %" if "." in key else f"% {key}.%"
            options.append(padded.like(pattern, escape="\\"))
        conditions.append(or_(*options))
    if spec.organization:
        name = spec.organization.strip().lower()
        org_ids = select(organizations.c.id).where(
            or_(
                func.lower(organizations.c.name) == name,
                func.lower(organizations.c.fullname) == name,
            )
        )
        conditions.append(papers.c.organization_id.in_(org_ids))
    for author in spec.authors:
        key = " ".join(author.casefold().split())
        conditions.append(
            exists().where(
                and_(
                    paper_authors.c.paper_id == papers.c.id,
                    paper_authors.c.name_key.like(f"%{_like_escape(key)}%", escape="\\"),
                )
            )
        )
    if spec.has_code:
        conditions.append(and_(papers.c.github_repo.is_not(None), papers.c.github_repo != ""))
    if spec.paper_ids is not None:
        conditions.append(papers.c.id.in_(sorted(spec.paper_ids)))
    if spec.unembedded_for is not None:
        conditions.append(~exists().where(
            and_(paper_embeddings.c.paper_id == papers.c.id,
                 paper_embeddings.c.model_id == spec.unembedded_for)))
    return conditions
