"""arXiv OAI-PMH incremental harvest: ListRecords for a set since a date.

Follows resumption tokens until the list is complete. `noRecordsMatch` is an
empty harvest, not an error; deleted records are counted and skipped. A 503
with Retry-After (arXiv's flow control) is retried by the HttpClient.
Both arXiv metadata formats are understood: `arXivRaw` (versions with exact
timestamps; the default) and `arXiv` (structured author names).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

from defusedxml.ElementTree import fromstring as safe_fromstring

from paperwire.clock import aware_utc
from paperwire.domain.arxiv_metadata import arxiv_record
from paperwire.domain.records import PaperRecord, Rejected, SourceItem
from paperwire.domain.text import split_author_list
from paperwire.sources.http_client import HttpClient, SourceError

OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV_FORMAT = "{http://arxiv.org/OAI/arXiv/}"
ARXIV_RAW = "{http://arxiv.org/OAI/arXivRaw/}"
METADATA_PREFIXES = ("arXivRaw", "arXiv")


class OaiError(SourceError):
    """The OAI-PMH server answered with an error other than noRecordsMatch."""


@dataclass(slots=True)
class OaiPage:
    items: list[SourceItem | Rejected] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    resumption_token: str | None = None
    complete_list_size: int | None = None


class OaiHarvest:
    """One ListRecords harvest; iterate it for SourceItems, then read `deleted`."""

    def __init__(
        self,
        client: HttpClient,
        url: str,
        *,
        set_spec: str,
        from_day: date,
        until_day: date | None = None,
        metadata_prefix: str = "arXivRaw",
        delay_s: float = 3.0,
    ) -> None:
        if metadata_prefix not in METADATA_PREFIXES:
            raise ValueError(f"metadata format must be one of {', '.join(METADATA_PREFIXES)}.")
        if until_day is not None and until_day < from_day:
            raise ValueError("--until must not be before --from.")
        self.client = client
        self.url = url
        self.set_spec = set_spec
        self.from_day = from_day
        self.until_day = until_day
        self.metadata_prefix = metadata_prefix
        self.delay_s = delay_s
        self.deleted: list[str] = []
        self.requests = 0

    def __iter__(self) -> Iterator[SourceItem | Rejected]:
        params: dict[str, str] = {
            "verb": "ListRecords",
            "metadataPrefix": self.metadata_prefix,
            "set": self.set_spec,
            "from": self.from_day.isoformat(),
        }
        if self.until_day is not None:
            params["until"] = self.until_day.isoformat()
        seen_tokens: set[str] = set()
        while True:
            page = self.client.get(
                self.url, params, decode=parse_list_records, min_interval_s=self.delay_s
            )
            self.requests += 1
            self.deleted.extend(page.deleted)
            yield from page.items
            token = page.resumption_token
            if not token:
                return
            if token in seen_tokens:
                raise OaiError(f"the OAI-PMH server repeated resumption token {token!r}.")
            seen_tokens.add(token)
            params = {"verb": "ListRecords", "resumptionToken": token}


# -- XML parsing -------------------------------------------------------------------


def parse_list_records(body: bytes) -> OaiPage:
    """Parse one ListRecords response. Raises ValueError if it is not OAI-PMH."""
    root = safe_fromstring(body, forbid_dtd=True)  # remote input: no DTDs or entities
    if root.tag != f"{OAI}OAI-PMH":
        raise ValueError(f"expected an OAI-PMH response, got <{root.tag}>")
    page = OaiPage()
    error = root.find(f"{OAI}error")
    if error is not None:
        code = error.get("code", "unknown")
        if code == "noRecordsMatch":
            return page
        message = " ".join((error.text or "").split())
        raise OaiError(f"the OAI-PMH server refused the request: {code}: {message}".rstrip(": "))
    listing = root.find(f"{OAI}ListRecords")
    if listing is None:
        raise ValueError("the OAI-PMH response has neither ListRecords nor an error")
    for record in listing.findall(f"{OAI}record"):
        header = record.find(f"{OAI}header")
        identifier = (header.findtext(f"{OAI}identifier") if header is not None else None) or "?"
        if header is not None and header.get("status") == "deleted":
            page.deleted.append(identifier.removeprefix("oai:arXiv.org:"))
            continue
        try:
            page.items.append(SourceItem(_record_to_paper(record)))
        except ValueError as exc:
            page.items.append(Rejected(f"oai {identifier}", str(exc)))
    token = listing.find(f"{OAI}resumptionToken")
    if token is not None:
        page.resumption_token = (token.text or "").strip() or None
        size = token.get("completeListSize")
        page.complete_list_size = int(size) if size and size.isdigit() else None
    return page


def _record_to_paper(record: ET.Element) -> PaperRecord:
    metadata = record.find(f"{OAI}metadata")
    if metadata is None or len(metadata) == 0:
        raise ValueError("the record has no metadata")
    element = metadata[0]
    if element.tag == f"{ARXIV_RAW}arXivRaw":
        return _raw_to_paper(element)
    if element.tag == f"{ARXIV_FORMAT}arXiv":
        return _arxiv_to_paper(element)
    raise ValueError(f"unsupported metadata format <{element.tag}>")


def _arxiv_to_paper(meta: ET.Element) -> PaperRecord:
    ns = ARXIV_FORMAT
    authors = []
    for author in meta.iterfind(f"{ns}authors/{ns}author"):
        parts = [_text(author, f"{ns}{part}") for part in ("forenames", "keyname", "suffix")]
        if name := " ".join(p for p in parts if p):
            authors.append(name)
    created = _day_time(_text(meta, f"{ns}created"))
    return _paper(
        meta,
        ns,
        version=None,
        authors=authors,
        published_at=created,
        updated_at=_day_time(_text(meta, f"{ns}updated")) or created,
    )


def _raw_to_paper(meta: ET.Element) -> PaperRecord:
    ns = ARXIV_RAW
    versions: list[tuple[int, datetime | None]] = []
    for version in meta.findall(f"{ns}version"):
        label = (version.get("version") or "").lstrip("v")
        if label.isdigit():
            versions.append((int(label), _rfc2822(_text(version, f"{ns}date"))))
    versions.sort(key=lambda pair: pair[0])
    return _paper(
        meta,
        ns,
        version=versions[-1][0] if versions else None,
        authors=split_author_list(_text(meta, f"{ns}authors")),
        published_at=versions[0][1] if versions else None,
        updated_at=versions[-1][1] if versions else None,
    )


def _paper(
    meta: ET.Element,
    ns: str,
    *,
    version: int | None,
    authors: list[str],
    published_at: datetime | None,
    updated_at: datetime | None,
) -> PaperRecord:
    return arxiv_record(
        raw_id=_text(meta, f"{ns}id"),
        title=_text(meta, f"{ns}title"),
        abstract=_text(meta, f"{ns}abstract"),
        authors=authors,
        categories=_text(meta, f"{ns}categories").split(),
        version=version,
        published_at=published_at,
        updated_at=updated_at,
        comments=_text(meta, f"{ns}comments"),
        journal_ref=_text(meta, f"{ns}journal-ref"),
        doi=_text(meta, f"{ns}doi"),
    )


def _text(element: ET.Element, tag: str) -> str:
    return (element.findtext(tag) or "").strip()


def _day_time(value: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        return None


def _rfc2822(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return aware_utc(moment)
