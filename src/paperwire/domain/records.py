"""Domain records that every source produces and every store accepts."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime

from paperwire.domain.urls import safe_url


@dataclass(frozen=True, slots=True)
class OrganizationRecord:
    name: str  # the slug, e.g. "nvidia"
    fullname: str | None = None
    avatar_url: str | None = None


@dataclass(frozen=True, slots=True)
class PaperRecord:
    """One paper, keyed by its version-less arXiv id."""

    id: str
    title: str
    abstract: str = ""
    version: int | None = None
    authors: tuple[str, ...] = ()
    primary_category: str | None = None
    categories: tuple[str, ...] = ()
    published_at: datetime | None = None
    updated_at: datetime | None = None
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    github_repo: str | None = None
    project_page: str | None = None
    github_stars: int | None = None
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = ()
    organization: OrganizationRecord | None = None
    sources: frozenset[str] = field(default_factory=frozenset)
    source_upvotes: int = 0
    source_comments: int = 0


@dataclass(frozen=True, slots=True)
class DailyEntryRecord:
    """A paper shown on the daily page of `day` (the day it was added to the feed)."""

    paper_id: str
    day: date
    source: str
    submitted_by: str | None = None
    submitted_by_name: str | None = None
    submitted_at: datetime | None = None
    # What a Hugging Face item carries besides the paper (None where the source had none).
    thumbnail: str | None = None
    published_at: datetime | None = None  # the item-level publishedAt, not the paper's
    submitter: dict[str, str | int | bool] | None = None  # sanitised submitter fields
    source_position: int | None = None  # place in the source response, 1 = first


@dataclass(frozen=True, slots=True)
class SourceItem:
    """What a source yields for one good input record."""

    paper: PaperRecord
    daily_entry: DailyEntryRecord | None = None
    links_dropped: int = 0  # links the source refused (see domain.urls.safe_url)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A bad input record: where it was and why it was refused."""

    where: str
    reason: str


ARXIV_SOURCE = "arxiv"
# Text that belongs to one arXiv version: the record with the higher version wins.
_VERSIONED_TEXT = ("title", "abstract", "authors", "comments", "journal_ref", "doi")
# Counts and timestamps with a natural order, so merging never depends on input order.
_LARGEST = ("source_upvotes", "source_comments", "github_stars", "updated_at")
_EARLIEST = ("published_at",)
# Record fields that hold a link, checked on every record.
PAPER_LINK_FIELDS = ("github_repo", "project_page")


def merge_papers(old: PaperRecord, new: PaperRecord) -> PaperRecord:
    """Combine two records of the same paper from any sources.

    The rules make re-imports stable: merging a record that was merged before
    changes nothing, whatever order the sources arrive in.
    - Empty values never overwrite filled ones.
    - Versioned text comes from the higher arXiv version; on a tie, arXiv itself (the
      authority for bibliographic text, e.g. a journal-ref added later) wins, else the
      stored value stays.
    - Counts and `updated_at` take the larger value, `published_at` the earlier one.
    - Any other filled value stays as first stored, except that a value from another
      source (Hugging Face: entered by the authors) replaces one from arXiv alone
      (e.g. a project page found in the comments), so the order of sources does not
      matter; sources accumulate.
    """
    if old.id != new.id:
        raise ValueError(f"cannot merge {old.id} with {new.id}")
    # An unsafe link (stored before the check, or from any source) never wins or blocks.
    old, new = clean_paper_links(old)[0], clean_paper_links(new)[0]
    old_version, new_version = old.version or 0, new.version or 0
    new_is_newer = new_version > old_version or (
        new_version == old_version and ARXIV_SOURCE in new.sources
    )
    values: dict[str, object] = {}
    for f in fields(PaperRecord):
        name = f.name
        a, b = getattr(old, name), getattr(new, name)
        if name == "sources":
            values[name] = old.sources | new.sources
        elif name == "version":
            values[name] = max(a or 0, b or 0) or None
        elif not _filled(a) or not _filled(b):
            values[name] = a if _filled(a) else b
        elif name in _LARGEST:
            values[name] = max(a, b)
        elif name in _EARLIEST:
            values[name] = min(a, b)
        elif name in _VERSIONED_TEXT:
            values[name] = b if new_is_newer else a
        else:
            values[name] = b if _beyond_arxiv(new) and not _beyond_arxiv(old) else a
    return replace(old, **values)


def _beyond_arxiv(record: PaperRecord) -> bool:
    """Whether the record has a source other than arXiv's metadata."""
    return bool(record.sources - {ARXIV_SOURCE})


def clean_paper_links(record: PaperRecord) -> tuple[PaperRecord, int]:
    """Drop every link of a record that fails `safe_url`; return it and how many were dropped."""
    changes: dict[str, object] = {}
    dropped = 0
    for name in PAPER_LINK_FIELDS:
        value = getattr(record, name)
        if value is None:
            continue
        checked = safe_url(value)
        if checked != value:
            changes[name] = checked
            dropped += checked is None
    organization = record.organization
    if organization is not None and organization.avatar_url is not None:
        avatar = safe_url(organization.avatar_url)
        if avatar != organization.avatar_url:
            changes["organization"] = OrganizationRecord(
                organization.name, organization.fullname, avatar
            )
            dropped += avatar is None
    return (replace(record, **changes) if changes else record), dropped


def _filled(value: object) -> bool:
    return value is not None and value != "" and value != ()
