"""Import a reference-manager file into a library, and export a library, collection or tag.

Import: read the file (BibTeX, RIS or CSL-JSON), match each entry to a paper (arXiv id,
DOI, exact normalised title), fetch arXiv ids this site does not have through the arXiv
source when allowed, then write everything in one transaction: the report says what
happened to each entry, and a failure leaves the library as it was.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from paperwire.domain import library_rules as rules
from paperwire.domain.bibtex import CitedPaper
from paperwire.domain.library_rules import normalised_title
from paperwire.domain.records import PaperRecord, SourceItem
from paperwire.domain.reference_formats import (
    EXTENSIONS,
    FORMATS,
    MEDIA_TYPES,
    Reference,
    UnknownFormat,
    detect_format,
    parse_references,
    write_references,
)
from paperwire.domain.reference_matching import (
    AMBIGUOUS,
    ERROR,
    FETCH,
    MATCHED,
    UNMATCHED,
    MatchRow,
    match_references,
)
from paperwire.services.accounts import User
from paperwire.services.library.browse import LibraryQuery, candidate_ids
from paperwire.services.library.collections import _owned
from paperwire.services.library.common import CommunityError, require_active
from paperwire.services.library.saved import save_papers
from paperwire.services.papers import cards_by_id
from paperwire.store.library_tables import collection_items, library_tags
from paperwire.store.papers import upsert_papers
from paperwire.store.tables import papers

log = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 50 * 1024 * 1024  # a 50 MB file is refused
MAX_ENTRIES = 20_000
FETCH_BATCH = 100


@dataclass(slots=True)
class ImportReport:
    format: str
    rows: list[MatchRow]
    saved_new: int = 0
    fetched: int = 0

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def counts(self) -> dict[str, int]:
        return {s: self.count(s) for s in (MATCHED, UNMATCHED, AMBIGUOUS, ERROR)}

    def as_json(self) -> dict[str, object]:
        return {
            "format": self.format,
            "entries": len(self.rows),
            "counts": self.counts,
            "savedNew": self.saved_new,
            "fetchedFromArxiv": self.fetched,
            "rows": [r.as_json() for r in self.rows],
        }

    def summary_line(self) -> str:
        c = self.counts
        return (
            f"{len(self.rows)} entries ({self.format}): {c[MATCHED]} matched "
            f"({self.fetched} fetched from arXiv, {self.saved_new} newly saved), "
            f"{c[UNMATCHED]} unmatched, {c[AMBIGUOUS]} ambiguous, {c[ERROR]} unreadable"
        )


def decode_upload(data: bytes) -> str:
    if len(data) >= MAX_IMPORT_BYTES:
        raise CommunityError(
            f"This file is {len(data) / 1e6:.0f} MB; imports must be smaller than "
            f"{MAX_IMPORT_BYTES // (1024 * 1024)} MB. Export a part of your library "
            "(one collection) and import the parts one after another.",
            413,
            "file",
        )
    if not data.strip():
        raise CommunityError("The file is empty.", 400, "file")
    for encoding in ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else (
        "utf-8-sig",
    ):
        try:
            return data.decode(encoding).replace("\x00", "")
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1").replace("\x00", "")


def import_references(
    engine: Engine,
    user: User | None,
    data: bytes,
    *,
    filename: str = "",
    fmt: str | None = None,
    fetch_arxiv: Callable[[list[str]], Iterable[object]] | None = None,
    collection_id: int | None = None,
    tags_from_keywords: bool = True,
) -> ImportReport:
    """Import a file into `user`'s library; `fetch_arxiv(ids)` (or None: offline) yields
    SourceItems for arXiv ids this site does not have."""
    user = require_active(user)
    text = decode_upload(data)
    try:
        fmt = fmt or detect_format(text, filename)
        if fmt not in FORMATS:
            raise UnknownFormat(f"Unknown format {fmt!r}: use one of {', '.join(FORMATS)}.")
        refs = parse_references(text, fmt)
    except UnknownFormat as exc:
        raise CommunityError(str(exc), 400, "file") from None
    if not refs:
        raise CommunityError(
            f"No entries found in this {fmt} file. Check that it is an export of references.",
            400, "file",
        )
    if len(refs) > MAX_ENTRIES:
        raise CommunityError(f"At most {MAX_ENTRIES} entries per import.", 413, "file")
    rows = _match(engine, refs)
    fetched_records: dict[str, PaperRecord] = {}
    wanted = [r.paper_id for r in rows if r.status == FETCH]
    fetch_note = None
    if wanted and fetch_arxiv is not None:
        try:
            for start in range(0, len(wanted), FETCH_BATCH):
                for item in fetch_arxiv(wanted[start : start + FETCH_BATCH]):
                    if isinstance(item, SourceItem):
                        fetched_records[item.paper.id] = item.paper
        except Exception as exc:  # arXiv down or refusing: report, import the rest
            log.warning("arXiv fetch during import failed: %s", exc)
            fetch_note = "arXiv did not answer; import the file again later to add it."
    rows = [_resolve_fetch(r, fetched_records, fetch_arxiv is not None, fetch_note) for r in rows]
    by_index = {ref.index: ref for ref in refs}
    matched = [r for r in rows if r.status == MATCHED]
    report = ImportReport(fmt, rows, fetched=sum(1 for r in matched if "fetched" in (r.how or "")))
    with engine.begin() as conn:
        if collection_id is not None:
            _owned(conn, collection_id, user)
        if fetched_records:
            upsert_papers(conn, list(fetched_records.values()))
        ids = [r.paper_id for r in matched]
        report.saved_new = save_papers(conn, user.id, ids)
        if tags_from_keywords:
            _add_tags(conn, user.id, [(r.paper_id, by_index[r.index]) for r in matched])
        if collection_id is not None:
            _add_to_collection(conn, collection_id, ids)
    return report


def _match(engine: Engine, refs: list[Reference]) -> list[MatchRow]:
    arxiv_ids = {r.arxiv_id for r in refs if r.arxiv_id}
    dois = {r.doi for r in refs if r.doi and not r.arxiv_id}
    need_titles = any(r.title and not r.arxiv_id for r in refs if not r.problem)
    with engine.connect() as conn:
        known: set[str] = set()
        ids = sorted(arxiv_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            known |= set(conn.scalars(select(papers.c.id).where(papers.c.id.in_(chunk))))
        by_doi: dict[str, list[str]] = defaultdict(list)
        doi_list = sorted(dois)
        for start in range(0, len(doi_list), 500):
            for pid, doi in conn.execute(
                select(papers.c.id, func.lower(papers.c.doi)).where(
                    func.lower(papers.c.doi).in_(doi_list[start:start + 500])
                )
            ):
                by_doi[doi].append(pid)
        by_title: dict[str, list[str]] = defaultdict(list)
        if need_titles:
            wanted = {normalised_title(r.title) for r in refs if r.title and not r.arxiv_id}
            for pid, title in conn.execute(select(papers.c.id, papers.c.title)):
                key = normalised_title(title)
                if key in wanted:
                    by_title[key].append(pid)
    return match_references(refs, known_ids=known, ids_by_doi=by_doi, ids_by_title=by_title)


def _resolve_fetch(row: MatchRow, fetched: dict[str, PaperRecord], allowed: bool,
                   note: str | None) -> MatchRow:
    if row.status != FETCH:
        return row
    if row.paper_id in fetched:
        return replace(row, status=MATCHED, how="arXiv id (fetched from arXiv)")
    if not allowed:
        message = f"arXiv:{row.paper_id} is not on this site yet (fetching from arXiv is off)."
    else:
        message = note or f"arXiv has no paper {row.paper_id}."
    return replace(row, status=UNMATCHED, message=message)


def _add_tags(conn, user_id: int, pairs: list[tuple[str, Reference]]) -> None:
    existing = {
        (pid, key) for pid, key in conn.execute(
            select(library_tags.c.paper_id, library_tags.c.tag_key).where(
                library_tags.c.user_id == user_id
            )
        )
    }
    rows = []
    for pid, ref in pairs:
        for word in ref.keywords[: rules.TAGS_PER_PAPER_MAX]:
            try:
                tag = rules.tag(word)
            except rules.LibraryInputError:
                continue  # a keyword that cannot be a tag is skipped, not an error
            key = rules.name_key(tag)
            if (pid, key) not in existing:
                existing.add((pid, key))
                rows.append({"user_id": user_id, "paper_id": pid, "tag": tag, "tag_key": key})
    if rows:
        conn.execute(library_tags.insert(), rows)


def _add_to_collection(conn, collection_id: int, ids: list[str]) -> None:
    present = set(conn.scalars(
        select(collection_items.c.paper_id).where(collection_items.c.collection_id == collection_id)
    ))
    last = conn.execute(
        select(func.max(collection_items.c.position)).where(
            collection_items.c.collection_id == collection_id
        )
    ).scalar()
    position = (last + 1) if last is not None else 0
    now = datetime.now(UTC)
    rows = []
    for pid in dict.fromkeys(ids):
        if pid not in present:
            rows.append({"collection_id": collection_id, "paper_id": pid, "position": position,
                         "note": "", "added_at": now})
            position += 1
    if rows:
        conn.execute(collection_items.insert(), rows)


# ------------------------------------------------------------------ export


@dataclass(frozen=True, slots=True)
class ExportFile:
    filename: str
    media_type: str
    text: str
    count: int


def export_library(
    engine: Engine,
    user: User | None,
    *,
    fmt: str = "bibtex",
    collection_id: int | None = None,
    tag: str | None = None,
) -> ExportFile:
    """The whole library, one collection or one tag, as BibTeX, RIS or CSL-JSON."""
    user = require_active(user, verified=False)
    if fmt not in FORMATS:
        raise CommunityError(f"Unknown format {fmt[:20]!r}: use one of {', '.join(FORMATS)}.", 400)
    if collection_id is not None:
        with engine.connect() as conn:
            _owned(conn, collection_id, user)
    query = LibraryQuery(collection_id=collection_id, tag=tag or None)
    ids = candidate_ids(engine, user.id, query)
    if collection_id is not None:  # keep the collection's own order
        with engine.connect() as conn:
            from paperwire.services.library.collections import collection_paper_ids

            order = collection_paper_ids(conn, collection_id)
        ids = [pid for pid in order if pid in set(ids)]
    with engine.connect() as conn:
        cards = cards_by_id(conn, ids)
    cited = [
        CitedPaper(
            arxiv_id=c.id,
            title=c.title,
            authors=tuple(c.authors),
            year=(c.published_at or c.added_at or datetime.now(UTC)).year,
            primary_category=c.primary_category,
            doi=c.doi,
        )
        for pid in ids
        if (c := cards.get(pid)) is not None
    ]
    name = "library" if collection_id is None and not tag else (
        f"collection-{collection_id}" if collection_id is not None else f"tag-{rules.name_key(tag)}"
    )
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)[:60]
    return ExportFile(
        filename=f"paperwire-{safe}.{EXTENSIONS[fmt]}",
        media_type=MEDIA_TYPES[fmt],
        text=write_references(cited, fmt),
        count=len(cited),
    )
