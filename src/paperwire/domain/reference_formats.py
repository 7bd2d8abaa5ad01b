"""Reference-manager files (pure): BibTeX, RIS and CSL-JSON in and out.

Parsing uses `bibtexparser` and `rispy`; CSL-JSON is plain JSON. Every entry becomes a
`Reference` with what matching needs (arXiv id, DOI, title); an entry that cannot be read
becomes a `Reference` with `problem` set, so one bad record never spoils the others.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import bibtexparser
import rispy
from bibtexparser import middlewares

from paperwire.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.domain.bibtex import CitedPaper, bibtex_entries

FORMATS = ("bibtex", "ris", "csljson")
MEDIA_TYPES = {
    "bibtex": "application/x-bibtex",
    "ris": "application/x-research-info-systems",
    "csljson": "application/vnd.citationstyles.csl+json",
}
EXTENSIONS = {"bibtex": "bib", "ris": "ris", "csljson": "json"}
_ARXIV_IN_TEXT = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|arxiv[:\s]\s*|10\.48550/arxiv\.)"
    r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z][a-z.\-]*/\d{7}(?:v\d+)?)",
    re.IGNORECASE,
)
_DOI_RE = re.compile(r"(10\.\d{4,9}/\S+)", re.IGNORECASE)
# The BibTeX fields matching reads; the others (abstracts above all) are not decoded.
_BIBTEX_FIELDS = frozenset({
    "title", "author", "year", "date", "doi", "eprint", "archiveprefix", "eprinttype", "url",
    "journal", "note", "howpublished", "arxivid", "keywords",
})
# What LaTeX decoding could change in a value, braces aside (pylatexenc drops those).
_LATEX_MARKUP = re.compile(r"[\\$%&~^_#`']|--|\s\s|\n")


class UnknownFormat(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Reference:
    index: int  # 1-based position in the file
    label: str  # citation key or id, for the report
    title: str | None = None
    authors: tuple[str, ...] = ()
    year: int | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    keywords: tuple[str, ...] = ()
    problem: str | None = None


def detect_format(text: str, filename: str = "") -> str:
    """The format from the file name's extension, else from the content."""
    name = filename.lower()
    for fmt, ext in (("bibtex", ".bib"), ("bibtex", ".bibtex"), ("ris", ".ris"),
                     ("csljson", ".json"), ("csljson", ".csl")):
        if name.endswith(ext):
            return fmt
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("[", "{"):
        return "csljson"
    if re.search(r"^TY  - ", text, re.MULTILINE):
        return "ris"
    if re.search(r"^\s*@\s*\w+\s*[{(]", text, re.MULTILINE):
        return "bibtex"
    raise UnknownFormat(
        "This file is not BibTeX, RIS or CSL-JSON. Export your library from Zotero, "
        "Mendeley or another reference manager in one of those formats."
    )


def parse_references(text: str, fmt: str) -> list[Reference]:
    if fmt == "bibtex":
        return _parse_bibtex(text)
    if fmt == "ris":
        return _parse_ris(text)
    if fmt == "csljson":
        return _parse_csljson(text)
    raise UnknownFormat(f"Unknown format {fmt!r}: use one of {', '.join(FORMATS)}.")


# ------------------------------------------------------------------ ids


def arxiv_id_from(*texts: str | None) -> str | None:
    """An arXiv id from eprint fields, arXiv URLs, arXiv DOIs or 'arXiv:...' notes."""
    for text in texts:
        if not text:
            continue
        text = str(text).strip()
        try:
            return parse_arxiv_id(text).id
        except InvalidArxivId:
            pass
        match = _ARXIV_IN_TEXT.search(text)
        if match:
            try:
                return parse_arxiv_id(match.group(1)).id
            except InvalidArxivId:
                continue
    return None


def clean_doi(text: str | None) -> str | None:
    if not text:
        return None
    match = _DOI_RE.search(str(text).strip())
    return match.group(1).rstrip(".,;").lower() if match else None


def _year(text) -> int | None:
    match = re.search(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b", str(text or ""))
    return int(match.group(1)) if match else None


def _unbrace(text: str) -> str:
    return " ".join(text.replace("{", "").replace("}", "").split())


# ------------------------------------------------------------------ BibTeX


class _UsedFieldsOnly(middlewares.BlockMiddleware):
    """Drop the fields matching never reads before they are decoded."""

    @classmethod
    def metadata_key(cls) -> str:
        return "paperwire_used_fields"

    def transform_entry(self, entry, library):
        entry.fields = [f for f in entry.fields if f.key.lower() in _BIBTEX_FIELDS]
        return entry


class _LatexDecoding(middlewares.LatexDecodingMiddleware):
    """pylatexenc's decoding, skipped for values with no LaTeX markup but braces (most
    values): pylatexenc builds its macro tables anew for every value, ~1 ms each."""

    def _transform_python_value_string(self, python_string: str) -> tuple[str, str]:
        if not _LATEX_MARKUP.search(python_string):
            return python_string.replace("{", "").replace("}", ""), ""
        return super()._transform_python_value_string(python_string)


def _parse_bibtex(text: str) -> list[Reference]:
    library = bibtexparser.parse_string(
        text,
        append_middleware=[_UsedFieldsOnly(), _LatexDecoding(), middlewares.SeparateCoAuthors()],
    )
    found: list[tuple[int, Reference]] = []
    for entry in library.entries:
        fields = {f.key.lower(): f.value for f in entry.fields}
        authors = fields.get("author", [])
        if isinstance(authors, str):
            authors = [authors]
        eprint = fields.get("eprint")
        prefix = str(fields.get("archiveprefix", fields.get("eprinttype", ""))).lower()
        arxiv = None
        if eprint and (not prefix or prefix == "arxiv"):
            arxiv = arxiv_id_from(eprint)
        arxiv = arxiv or arxiv_id_from(
            fields.get("url"), fields.get("doi"), fields.get("journal"), fields.get("note"),
            fields.get("howpublished"), fields.get("arxivid"),
        )
        keywords = tuple(
            k.strip() for k in re.split(r"[,;]", str(fields.get("keywords", ""))) if k.strip()
        )
        title = _unbrace(str(fields.get("title", ""))) or None
        found.append((entry.start_line, Reference(
            index=0,
            label=entry.key,
            title=title,
            authors=tuple(_unbrace(str(a)) for a in authors),
            year=_year(fields.get("year") or fields.get("date")),
            doi=clean_doi(fields.get("doi")),
            arxiv_id=arxiv,
            keywords=keywords,
        )))
    for block in library.failed_blocks:
        raw = getattr(block, "raw", "") or ""
        key = re.match(r"\s*@\s*\w+\s*[{(]\s*([^,\s]*)", raw)
        failure = getattr(block, "error", None)
        reason = getattr(failure, "abort_reason", None) or str(failure or "")
        error = " ".join(reason.split()) or "it could not be read"
        found.append((block.start_line, Reference(
            index=0,
            label=(key.group(1) if key and key.group(1) else f"line {block.start_line + 1}"),
            problem=f"This BibTeX entry is malformed ({error[:200]}).",
        )))
    found.sort(key=lambda pair: pair[0])
    return [_numbered(ref, i) for i, (_, ref) in enumerate(found, start=1)]


def _numbered(ref: Reference, index: int) -> Reference:
    from dataclasses import replace

    return replace(ref, index=index)


# ------------------------------------------------------------------ RIS


def _parse_ris(text: str) -> list[Reference]:
    # rispy stops at the first bad record; split on ER so each record stands alone.
    chunks = [c for c in re.split(r"(?m)^ER  -.*$", text) if c.strip()]
    refs: list[Reference] = []
    for i, chunk in enumerate(chunks, start=1):
        try:
            records = rispy.loads(chunk + "\nER  - \n", skip_unknown_tags=True)
        except Exception as exc:  # rispy raises IOError / ValueError on bad tags
            refs.append(Reference(i, f"record {i}", problem=f"This RIS record is malformed "
                                                              f"({str(exc)[:200]})."))
            continue
        if len(records) != 1:
            refs.append(Reference(i, f"record {i}", problem="This RIS record has no TY line."))
            continue
        r = records[0]
        urls = r.get("urls", []) or []
        title = r.get("title") or r.get("primary_title") or r.get("translated_title")
        arxiv = arxiv_id_from(*urls, r.get("doi"), r.get("notes_abstract"), *(r.get("notes") or []),
                              r.get("journal_name"), r.get("secondary_title"))
        refs.append(Reference(
            index=i,
            label=r.get("id") or (title or f"record {i}")[:60],
            title=" ".join(title.split()) if title else None,
            authors=tuple(r.get("authors", []) or r.get("first_authors", []) or ()),
            year=_year(r.get("year") or r.get("publication_year") or r.get("date")),
            doi=clean_doi(r.get("doi")),
            arxiv_id=arxiv,
            keywords=tuple(r.get("keywords", []) or ()),
        ))
    return refs


# ------------------------------------------------------------------ CSL-JSON


def _parse_csljson(text: str) -> list[Reference]:
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        return [Reference(1, "file", problem=f"This is not valid JSON ({exc.msg}, line "
                                             f"{exc.lineno}).")]
    if isinstance(data, dict):
        data = data.get("items", [data])
    if not isinstance(data, list):
        return [Reference(1, "file", problem="CSL-JSON is a list of items.")]
    refs = []
    for i, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            refs.append(Reference(i, f"item {i}", problem="This item is not a JSON object."))
            continue
        title = item.get("title")
        authors = []
        for a in item.get("author", []) or []:
            if isinstance(a, dict):
                name = a.get("literal") or " ".join(
                    p for p in (a.get("given"), a.get("family")) if isinstance(p, str) and p
                )
                if name:
                    authors.append(name)
        issued = item.get("issued") or {}
        year = None
        if isinstance(issued, dict):
            parts = issued.get("date-parts") or [[None]]
            year = _year(parts[0][0] if parts and parts[0] else issued.get("raw"))
        arxiv = arxiv_id_from(
            item.get("arxiv"), item.get("URL"), item.get("DOI"), item.get("number")
            if str(item.get("publisher", "")).lower() == "arxiv" else None,
            item.get("note"), item.get("container-title"),
        )
        refs.append(Reference(
            index=i,
            label=str(item.get("id") or (title or f"item {i}"))[:80],
            title=" ".join(str(title).split()) if isinstance(title, str) and title else None,
            authors=tuple(authors),
            year=year,
            doi=clean_doi(item.get("DOI")),
            arxiv_id=arxiv,
            keywords=tuple(k.strip() for k in str(item.get("keyword", "")).split(",") if k.strip()),
        ))
    return refs


# ------------------------------------------------------------------ writing


def write_references(papers: Sequence[CitedPaper], fmt: str) -> str:
    if fmt == "bibtex":
        return bibtex_entries(papers)
    if fmt == "ris":
        return rispy.dumps([_ris_record(p) for p in papers]) if papers else ""
    if fmt == "csljson":
        return json.dumps([_csl_item(p) for p in papers], ensure_ascii=False, indent=2) + "\n"
    raise UnknownFormat(f"Unknown format {fmt!r}: use one of {', '.join(FORMATS)}.")


def _ris_record(p: CitedPaper) -> dict:
    record = {
        "type_of_reference": "GEN",
        "id": p.arxiv_id,
        "title": p.title,
        "authors": list(p.authors),
        "year": str(p.year),
        "urls": [f"https://arxiv.org/abs/{p.arxiv_id}"],
        "publisher": "arXiv",
        "notes": [f"arXiv:{p.arxiv_id}"],
    }
    if p.doi:
        record["doi"] = p.doi
    return record


def _csl_name(name: str) -> dict:
    if "," in name:  # "Last, Jr." or "Last, First": keep the name exactly as it is
        return {"literal": name}
    parts = name.split()
    if len(parts) < 2:
        return {"literal": name}
    return {"given": " ".join(parts[:-1]), "family": parts[-1]}


def _csl_item(p: CitedPaper) -> dict:
    item = {
        "id": f"arXiv:{p.arxiv_id}",
        "type": "article",
        "title": p.title,
        "author": [_csl_name(a) for a in p.authors],
        "issued": {"date-parts": [[p.year]]},
        "URL": f"https://arxiv.org/abs/{p.arxiv_id}",
        "publisher": "arXiv",
        "number": p.arxiv_id,
    }
    if p.doi:
        item["DOI"] = p.doi
    return item
