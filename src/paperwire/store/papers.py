"""Paper and daily-entry persistence: batched upserts and simple reads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from sqlalchemy import Column, Connection, bindparam, delete, func, select, update
from sqlalchemy.engine import Row

from paperwire.domain.records import (
    DailyEntryRecord,
    OrganizationRecord,
    PaperRecord,
    merge_papers,
)
from paperwire.store.bulk_insert import insert_rows
from paperwire.store.db import aware_utc, insert_ignore, lock_for_write, utcnow
from paperwire.store.events import OrganizationsChanged, PaperPart, PapersChanged
from paperwire.store.events import record as record_event
from paperwire.store.tables import daily_entries, organizations, paper_authors, papers


@dataclass(slots=True)
class UpsertCounts:
    new_ids: list[str] = field(default_factory=list)
    updated_ids: list[str] = field(default_factory=list)
    unchanged_ids: list[str] = field(default_factory=list)
    # (id, content hash before, content hash after) for each updated paper.
    changes: list[tuple[str, int, int]] = field(default_factory=list)


def content_hash(record: PaperRecord) -> int:
    """A hash of what a stored paper row holds (an organization is stored by name only)."""
    if record.organization is not None:
        record = replace(record, organization=OrganizationRecord(record.organization.name))
    return hash(record)


def _same_organization(combined: PaperRecord, old: PaperRecord) -> PaperRecord:
    """Keep the stored organization when only its display fields differ.

    The row stores the organization's id, looked up by name, so a different
    fullname on one item is no change to the paper.
    """
    new_org, old_org = combined.organization, old.organization
    if new_org is not None and old_org is not None and new_org.name == old_org.name:
        return replace(combined, organization=old_org)
    return combined


def author_key(name: str) -> str:
    """The lookup key of an author name: case- and space-insensitive."""
    return " ".join(name.casefold().split())


def ensure_organizations(conn: Connection, orgs: Iterable[OrganizationRecord]) -> dict[str, int]:
    """Insert missing organizations; return name -> id for all given names."""
    wanted = {org.name: org for org in orgs}
    if not wanted:
        return {}
    existing = dict(
        conn.execute(
            select(organizations.c.name, organizations.c.id).where(organizations.c.name.in_(wanted))
        ).all()
    )
    # Sorted, and duplicates skipped: concurrent import writers may add the same new
    # organization; the same lock order keeps them from deadlocking.
    missing = sorted((org for name, org in wanted.items() if name not in existing),
                     key=lambda org: org.name)
    if missing:
        now = utcnow()
        conn.execute(
            insert_ignore(conn, organizations),
            [
                {
                    "name": o.name,
                    "fullname": o.fullname,
                    "avatar_url": o.avatar_url,
                    "created_at": now,
                }
                for o in missing
            ],
        )
        record_event(conn, OrganizationsChanged())
        existing.update(
            conn.execute(
                select(organizations.c.name, organizations.c.id).where(
                    organizations.c.name.in_([o.name for o in missing])
                )
            ).all()
        )
    return existing


def load_papers(conn: Connection, ids: Sequence[str]) -> dict[str, PaperRecord]:
    """Load stored papers as domain records, keyed by id."""
    if not ids:
        return {}
    query = (
        select(
            papers,
            organizations.c.name.label("org_name"),
            organizations.c.fullname.label("org_fullname"),
            organizations.c.avatar_url.label("org_avatar_url"),
        )
        .outerjoin(organizations, papers.c.organization_id == organizations.c.id)
        .where(papers.c.id.in_(ids))
    )
    return {row.id: row_to_record(row) for row in conn.execute(query)}


def row_to_record(row: Row) -> PaperRecord:
    org = None
    if getattr(row, "org_name", None):
        org = OrganizationRecord(row.org_name, row.org_fullname, row.org_avatar_url)
    return PaperRecord(
        id=row.id,
        title=row.title,
        abstract=row.abstract,
        version=row.version,
        authors=tuple(row.authors or ()),
        primary_category=row.primary_category,
        categories=tuple(row.categories.split()) if row.categories else (),
        published_at=aware_utc(row.published_at),
        updated_at=aware_utc(row.updated_at),
        comments=row.comments,
        journal_ref=row.journal_ref,
        doi=row.doi,
        github_repo=row.github_repo,
        project_page=row.project_page,
        github_stars=row.github_stars,
        ai_summary=row.ai_summary,
        ai_keywords=tuple(row.ai_keywords or ()),
        organization=org,
        sources=frozenset(row.sources.split()) if row.sources else frozenset(),
        source_upvotes=row.source_upvotes,
        source_comments=row.source_comments,
    )


def _utc(value: datetime | None) -> datetime | None:
    """Store instants in UTC (SQLite keeps a datetime's wall-clock fields only)."""
    if value is not None and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


def _limit(column: Column) -> int:
    return column.type.length


# Links that do not fit are dropped (a cut URL is a wrong URL); text is cut.
_DROPPED_IF_TOO_LONG = ("github_repo", "project_page", "doi")


def fit_record(record: PaperRecord) -> PaperRecord:
    """Make a record fit the columns' sizes, so PostgreSQL never refuses a batch over it."""
    changes: dict[str, object] = {}
    for name in _DROPPED_IF_TOO_LONG:
        value = getattr(record, name)
        if value is not None and len(value) > _limit(papers.c[name]):
            changes[name] = None
    if record.primary_category and len(record.primary_category) > _limit(papers.c.primary_category):
        changes["primary_category"] = None
    categories = record.categories
    while categories and len(" ".join(categories)) > _limit(papers.c.categories):
        categories = categories[:-1]
    if categories != record.categories:
        changes["categories"] = categories
    name_limit = _limit(paper_authors.c.name)
    if any(len(name) > name_limit for name in record.authors):
        changes["authors"] = tuple(name[:name_limit].strip() for name in record.authors)
    org = record.organization
    if org is not None and (
        len(org.name) > _limit(organizations.c.name)
        or len(org.fullname or "") > _limit(organizations.c.fullname)
        or len(org.avatar_url or "") > _limit(organizations.c.avatar_url)
    ):
        avatar = org.avatar_url
        if avatar is not None and len(avatar) > _limit(organizations.c.avatar_url):
            avatar = None
        changes["organization"] = OrganizationRecord(
            org.name[: _limit(organizations.c.name)],
            org.fullname[: _limit(organizations.c.fullname)] if org.fullname else None,
            avatar,
        )
    return replace(record, **changes) if changes else record


def _record_to_row(record: PaperRecord, org_ids: dict[str, int]) -> dict[str, object]:
    return {
        "id": record.id,
        "version": record.version,
        "title": record.title,
        "abstract": record.abstract,
        "authors": list(record.authors),
        "authors_text": ", ".join(record.authors),
        "primary_category": record.primary_category,
        "categories": " ".join(record.categories),
        "published_at": _utc(record.published_at),
        "updated_at": _utc(record.updated_at),
        "comments": record.comments,
        "journal_ref": record.journal_ref,
        "doi": record.doi,
        "github_repo": record.github_repo,
        "project_page": record.project_page,
        "github_stars": record.github_stars,
        "ai_summary": record.ai_summary,
        "ai_keywords": list(record.ai_keywords),
        "organization_id": org_ids.get(record.organization.name) if record.organization else None,
        "sources": " ".join(sorted(record.sources)),
        "source_upvotes": record.source_upvotes,
        "source_comments": record.source_comments,
    }


def upsert_papers(conn: Connection, records: Iterable[PaperRecord]) -> UpsertCounts:
    """Insert new papers and merge into existing ones, in the caller's transaction.

    Records for the same id within the batch are merged first. A stored paper
    whose merged record is unchanged is not written again. The papers are locked
    for the rest of the transaction before they are read (`lock_for_write`), so
    concurrent writers merge one after the other and never insert the same paper
    twice.
    """
    incoming: dict[str, PaperRecord] = {}
    for record in map(fit_record, records):
        seen = incoming.get(record.id)
        incoming[record.id] = merge_papers(seen, record) if seen else record
    counts = UpsertCounts()
    if not incoming:
        return counts
    lock_for_write(conn, "papers", incoming)
    stored = load_papers(conn, list(incoming))
    merged: dict[str, PaperRecord] = {}
    for paper_id, record in incoming.items():
        old = stored.get(paper_id)
        if old is None:
            merged[paper_id] = record
            counts.new_ids.append(paper_id)
        else:
            combined = _same_organization(merge_papers(old, record), old)
            if combined == old:
                counts.unchanged_ids.append(paper_id)
            else:
                merged[paper_id] = combined
                counts.updated_ids.append(paper_id)
                counts.changes.append((paper_id, content_hash(old), content_hash(combined)))
    if not merged:
        return counts
    org_ids = ensure_organizations(
        conn, [r.organization for r in merged.values() if r.organization is not None]
    )
    now = utcnow()
    new_rows, changed_rows = [], []
    for paper_id, record in merged.items():
        row = _record_to_row(record, org_ids) | {"modified_at": now}
        if paper_id in stored:
            changed_rows.append(row | {"_id": paper_id})
        else:
            new_rows.append(row | {"first_seen_at": now})
    if new_rows:
        insert_rows(conn, papers, new_rows)
    if changed_rows:
        values = {key: bindparam(key) for key in changed_rows[0] if key not in ("_id", "id")}
        statement = update(papers).where(papers.c.id == bindparam("_id")).values(values)
        conn.execute(statement, changed_rows)
        changed_authors = [
            pid
            for pid, rec in merged.items()
            if pid in stored and rec.authors != stored[pid].authors
        ]
        if changed_authors:
            conn.execute(delete(paper_authors).where(paper_authors.c.paper_id.in_(changed_authors)))
        _insert_authors(conn, [merged[pid] for pid in changed_authors])
    _insert_authors(conn, [merged[row["id"]] for row in new_rows])
    record_event(conn, PapersChanged.of(merged))
    return counts


def _insert_authors(conn: Connection, records: Sequence[PaperRecord]) -> None:
    rows = [
        {"paper_id": r.id, "position": i, "name": name, "name_key": author_key(name)}
        for r in records
        for i, name in enumerate(r.authors)
    ]
    insert_rows(conn, paper_authors, rows)


def add_daily_entries(conn: Connection, entries: Iterable[DailyEntryRecord]) -> int:
    """Insert daily entries that are not stored yet; return how many were added."""
    unique: dict[tuple[date, str], DailyEntryRecord] = {}
    for entry in entries:
        unique.setdefault((entry.day, entry.paper_id), entry)
    if not unique:
        return 0
    lock_for_write(conn, "papers", {paper_id for _, paper_id in unique})
    days = {day for day, _ in unique}
    ids = {pid for _, pid in unique}
    existing = {
        (row.day, row.paper_id): row
        for row in conn.execute(
            select(
                daily_entries.c.id, daily_entries.c.day, daily_entries.c.paper_id,
                *(daily_entries.c[name] for name in _SOURCE_ITEM_FIELDS),
            ).where(daily_entries.c.day.in_(days), daily_entries.c.paper_id.in_(ids))
        )
    }
    _fill_source_item_fields(conn, unique, existing)
    now = utcnow()
    by_limit = _limit(daily_entries.c.submitted_by)
    name_limit = _limit(daily_entries.c.submitted_by_name)
    rows = [
        {
            "paper_id": e.paper_id,
            "day": e.day,
            "source": e.source,
            "submitted_by": e.submitted_by[:by_limit] if e.submitted_by else e.submitted_by,
            "submitted_by_name": (
                e.submitted_by_name[:name_limit] if e.submitted_by_name else e.submitted_by_name
            ),
            "submitted_at": e.submitted_at,
            "created_at": now,
            **_source_item_values(e),
        }
        for key, e in unique.items()
        if key not in existing
    ]
    insert_rows(conn, daily_entries, rows)
    if rows:
        record_event(conn, PapersChanged.of((row["paper_id"] for row in rows), PaperPart.DAILY))
    return len(rows)


# Fields of a source item that an entry stored before migration 0008 lacks.
_SOURCE_ITEM_FIELDS = ("thumbnail", "published_at", "submitter", "source_position")


def _source_item_values(entry: DailyEntryRecord) -> dict[str, object]:
    thumbnail = entry.thumbnail
    if thumbnail and len(thumbnail) > _limit(daily_entries.c.thumbnail):
        thumbnail = None  # a cut URL is a wrong URL
    return {
        "thumbnail": thumbnail,
        "published_at": entry.published_at,
        "submitter": dict(entry.submitter) if entry.submitter else None,
        "source_position": entry.source_position,
    }


def _fill_source_item_fields(conn: Connection, unique: dict, existing: dict) -> None:
    """Re-importing a source fills the item fields an existing entry does not have yet
    (entries stored before they were kept); stored values are never overwritten."""
    for key, row in existing.items():
        values = {
            name: value
            for name, value in _source_item_values(unique[key]).items()
            if value is not None and getattr(row, name) is None
        }
        if values:
            conn.execute(update(daily_entries).where(daily_entries.c.id == row.id).values(values))
            record_event(conn, PapersChanged.of([row.paper_id], PaperPart.DAILY))


def get_paper(conn: Connection, paper_id: str) -> PaperRecord | None:
    return load_papers(conn, [paper_id]).get(paper_id)


def count_papers(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(papers)).scalar_one()
