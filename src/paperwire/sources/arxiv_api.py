"""Live arXiv query API (Atom): papers by id, or a category's newest papers since a date.

arXiv asks clients to make one request every 3 s; every request here goes through
the shared HttpClient with `min_interval_s=arxiv_delay_s`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from defusedxml.ElementTree import fromstring as safe_fromstring

from paperwire.clock import aware_utc
from paperwire.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.domain.arxiv_metadata import arxiv_record
from paperwire.domain.records import PaperRecord, Rejected, SourceItem
from paperwire.domain.text import normalize_title
from paperwire.sources.http_client import HttpClient, SourceError

if TYPE_CHECKING:
    from paperwire.config import Settings

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
EMPTY_PAGE_RETRIES = 2
_SUBJECT_CLASS_RE = re.compile(r"^([a-z\-]+)\.[A-Z]{2}/")
_CATEGORY_RE = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z][A-Za-z\-]*)?$")


class PaperNotFound(SourceError):
    """arXiv answered, but has no paper with a requested id."""


@dataclass(slots=True)
class FeedPage:
    """One parsed Atom response."""

    total_results: int | None = None
    papers: list[PaperRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # arXiv's error entries, e.g. a bad id
    empty_ids: list[str] = field(default_factory=list)  # entries with an id but no content


class ArxivApi:
    """Queries against one arXiv API endpoint."""

    def __init__(
        self, client: HttpClient, url: str, *, delay_s: float = 3.0, page_size: int = 100
    ) -> None:
        self.client = client
        self.url = url
        self.delay_s = delay_s
        self.page_size = max(1, page_size)

    @classmethod
    def from_settings(cls, client: HttpClient, settings: Settings) -> ArxivApi:
        return cls(
            client,
            settings.arxiv_api_url,
            delay_s=settings.arxiv_delay_s,
            page_size=settings.arxiv_page_size,
        )

    def query(self, params: dict[str, str | int]) -> FeedPage:
        return self.client.get(
            self.url,
            params,
            decode=parse_feed,
            min_interval_s=self.delay_s,
            accept="application/atom+xml",
        )

    def by_ids(self, ids: Iterable[str]) -> Iterator[SourceItem | Rejected]:
        """Yield the latest version of each id; ids arXiv does not know are Rejected."""
        wanted = list(dict.fromkeys(parse_arxiv_id(text).id for text in ids))
        for start in range(0, len(wanted), self.page_size):
            chunk = wanted[start : start + self.page_size]
            page = self.query({"id_list": ",".join(chunk), "start": 0, "max_results": len(chunk)})
            found = set()
            for paper in page.papers:
                found.add(_match_key(paper.id))
                yield SourceItem(paper)
            for error in page.errors:
                yield Rejected("arxiv id_list", error)
            for missing in chunk:
                if _match_key(missing) not in found:
                    yield Rejected(f"arxiv {missing}", "arXiv has no paper with this id")

    def category_since(self, category: str, since: date) -> Iterator[SourceItem | Rejected]:
        """Yield the category's papers first submitted on or after `since`, newest first."""
        if not is_category(category):
            raise ValueError(f"{category!r} is not an arXiv category such as cs.CL.")
        start, expected, empty_retries = 0, None, 0
        while True:
            page = self.query(
                {
                    "search_query": f"cat:{category}",
                    "sortBy": "submittedDate",
                    "sortOrder": "descending",
                    "start": start,
                    "max_results": self.page_size,
                }
            )
            for error in page.errors:
                yield Rejected(f"arxiv cat:{category}", error)
            received = len(page.papers) + len(page.empty_ids)
            if received == 0:
                # arXiv now and then answers a page with nothing although more results
                # remain; ask again (politely, through the rate limit) before giving up.
                if expected is not None and start < expected and empty_retries < EMPTY_PAGE_RETRIES:
                    empty_retries += 1
                    continue
                return
            empty_retries = 0
            expected = page.total_results or expected
            for paper in page.papers:
                if paper.published_at is not None and paper.published_at.date() < since:
                    return
                yield SourceItem(paper)
            start += received
            if expected is not None and start >= expected:
                return


def _match_key(paper_id: str) -> str:
    """arXiv answers math.GT/0309136 as math/0309136: compare without the subject class."""
    return _SUBJECT_CLASS_RE.sub(r"\1/", paper_id)


def is_category(text: str) -> bool:
    """True for arXiv category names such as cs.CL, hep-th or astro-ph.GA."""
    return bool(_CATEGORY_RE.match(text))


def fetch_arxiv_papers(client: HttpClient, settings: Settings, ids: list[str]) -> list[PaperRecord]:
    """Fetch papers by id or URL, in the order given (duplicates once).

    Raises InvalidArxivId for text that is not an arXiv id, PaperNotFound when
    arXiv has no such paper, and SourceUnavailable/SourceRefused when arXiv
    does not answer.
    """
    canonical = list(dict.fromkeys(parse_arxiv_id(text).id for text in ids))
    papers: dict[str, PaperRecord] = {}
    problems: list[str] = []
    for item in ArxivApi.from_settings(client, settings).by_ids(canonical):
        if isinstance(item, SourceItem):
            papers[_match_key(item.paper.id)] = item.paper
        else:
            problems.append(item.where.removeprefix("arxiv ") + ": " + item.reason)
    missing = [i for i in canonical if _match_key(i) not in papers]
    if missing:
        detail = "; ".join(problems) if problems else ""
        raise PaperNotFound(
            f"arXiv has no paper {', '.join(missing)}" + (f" ({detail})." if detail else ".")
        )
    return [papers[_match_key(i)] for i in canonical]


# -- Atom parsing ------------------------------------------------------------------


def parse_feed(body: bytes) -> FeedPage:
    """Parse an arXiv API Atom response. Raises ValueError if it is not one."""
    root = safe_fromstring(body, forbid_dtd=True)  # remote input: no DTDs or entities
    if root.tag != f"{ATOM}feed":
        raise ValueError(f"expected an Atom feed, got <{root.tag}>")
    page = FeedPage(total_results=_int(root.findtext(f"{OPENSEARCH}totalResults")))
    for entry in root.iter(f"{ATOM}entry"):
        entry_id = _text(entry, f"{ATOM}id")
        if "/api/errors" in entry_id:
            page.errors.append(_text(entry, f"{ATOM}summary") or entry_id)
            continue
        try:
            arxiv_id = parse_arxiv_id(entry_id)
        except InvalidArxivId:
            page.errors.append(f"an entry with an unexpected id {entry_id!r}")
            continue
        if not normalize_title(_text(entry, f"{ATOM}title")):
            page.empty_ids.append(arxiv_id.id)
            continue
        page.papers.append(_entry_to_paper(entry, entry_id))
    return page


def _entry_to_paper(entry: ET.Element, raw_id: str) -> PaperRecord:
    primary = entry.find(f"{ARXIV}primary_category")
    return arxiv_record(
        raw_id=raw_id,
        title=_text(entry, f"{ATOM}title"),
        abstract=_text(entry, f"{ATOM}summary"),
        authors=(
            " ".join(name.split())
            for author in entry.findall(f"{ATOM}author")
            if (name := author.findtext(f"{ATOM}name") or "").strip()
        ),
        categories=[c.get("term", "") for c in entry.findall(f"{ATOM}category")],
        primary_category=primary.get("term") if primary is not None else None,
        published_at=_time(_text(entry, f"{ATOM}published")),
        updated_at=_time(_text(entry, f"{ATOM}updated")),
        comments=_text(entry, f"{ARXIV}comment"),
        journal_ref=_text(entry, f"{ARXIV}journal_ref"),
        doi=_text(entry, f"{ARXIV}doi"),
    )


def _text(element: ET.Element, tag: str) -> str:
    return (element.findtext(tag) or "").strip()


def _int(value: str | None) -> int | None:
    try:
        return int((value or "").strip())
    except ValueError:
        return None


def _time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return aware_utc(moment)
