"""BibTeX citations for papers (pure), written with `bibtexparser`.

Escaping is the library's (LaTeX encoding of special and non-ASCII characters), never by
hand; authors keep their order; output parses back with `bibtexparser` to the same entries.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import bibtexparser
from bibtexparser import middlewares
from bibtexparser.model import Entry, Field


@dataclass(frozen=True, slots=True)
class CitedPaper:
    arxiv_id: str
    title: str
    authors: Sequence[str]
    year: int
    primary_category: str | None = None
    doi: str | None = None


def _encoder() -> middlewares.LatexEncodingMiddleware:
    return middlewares.LatexEncodingMiddleware(keep_math=True, enclose_urls=False)


def escape_bibtex(text: str) -> str:
    """`text` as a BibTeX field value: whitespace folded, LaTeX specials encoded."""
    entry = Entry("misc", "x", [Field("v", " ".join(text.split()))])
    library = bibtexparser.Library([entry])
    encoded = _encoder().transform(library).entries[0].fields_dict["v"].value
    return encoded


def citation_key(*, authors: Sequence[str], year: int, title: str) -> str:
    """`lastname` + year + first significant title word, ASCII only: e.g. `vaswani2017attention`."""
    last = _ascii_word(_last_name(authors[0])) if authors and authors[0].split() else "anon"
    skip = {"a", "an", "the", "on", "of", "in", "for", "and", "to", "with"}
    words = [_ascii_word(w) for w in title.split()]
    first = next((w for w in words if w and w not in skip), "")
    return f"{last or 'anon'}{year}{first}"


def _last_name(author: str) -> str:
    if "," in author:  # "Last, First"
        return author.split(",")[0].split()[-1] if author.split(",")[0].split() else author
    return author.split()[-1]


def _entry(paper: CitedPaper, key: str) -> Entry:
    fields = [
        Field("title", " ".join(paper.title.split())),
        # One "and" between names; a name with " and " inside is kept whole by braces.
        Field("author", " and ".join(
            "{" + a + "}" if " and " in a else a for a in paper.authors
        ) or "Anonymous"),
        Field("year", str(paper.year)),
        Field("eprint", paper.arxiv_id),
        Field("archivePrefix", "arXiv"),
    ]
    if paper.primary_category:
        fields.append(Field("primaryClass", paper.primary_category))
    if paper.doi:
        fields.append(Field("doi", paper.doi))
    fields.append(Field("url", f"https://arxiv.org/abs/{paper.arxiv_id}"))
    return Entry("misc", key, fields)


def bibtex_entries(papers: Sequence[CitedPaper]) -> str:
    """@misc entries in the form arXiv suggests; repeated keys get a, b, c... suffixes."""
    seen: dict[str, int] = {}
    entries = []
    for paper in papers:
        key = citation_key(authors=paper.authors, year=paper.year, title=paper.title)
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n:
            key = f"{key}{_suffix(n)}"
        entries.append(_entry(paper, key))
    if not entries:
        return ""
    library = bibtexparser.Library(entries)
    text = bibtexparser.write_string(library, prepend_middleware=[_encoder()])
    return text.replace("\t", "  ").strip() + "\n"


def bibtex_entry(
    *,
    arxiv_id: str,
    title: str,
    authors: Sequence[str],
    year: int,
    primary_category: str | None = None,
    doi: str | None = None,
) -> str:
    """One @misc entry (the paper page's "Cite" box)."""
    paper = CitedPaper(arxiv_id, title, tuple(authors), year, primary_category, doi)
    return bibtex_entries([paper]).strip()


def _suffix(n: int) -> str:
    letters = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _ascii_word(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())
