"""BibTeX citations for arXiv papers (pure)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_SPECIAL_RE = re.compile("|".join(re.escape(ch) for ch in _SPECIAL))


def escape_bibtex(text: str) -> str:
    """Escape LaTeX special characters and fold whitespace (titles keep arXiv's line breaks)."""
    return _SPECIAL_RE.sub(lambda m: _SPECIAL[m.group(0)], " ".join(text.split()))


def citation_key(*, authors: Sequence[str], year: int, title: str) -> str:
    """`lastname` + year + first significant title word, ASCII only: e.g. `vaswani2017attention`."""
    last = _ascii_word(authors[0].split()[-1]) if authors and authors[0].split() else "anon"
    skip = {"a", "an", "the", "on", "of", "in", "for", "and", "to", "with"}
    words = [_ascii_word(w) for w in title.split()]
    first = next((w for w in words if w and w not in skip), "")
    return f"{last or 'anon'}{year}{first}"


def bibtex_entry(
    *,
    arxiv_id: str,
    title: str,
    authors: Sequence[str],
    year: int,
    primary_category: str | None = None,
    doi: str | None = None,
) -> str:
    """A @misc entry in the form arXiv itself suggests."""
    fields = [
        ("title", "{" + escape_bibtex(title) + "}"),
        ("author", " and ".join(escape_bibtex(a) for a in authors) or "Anonymous"),
        ("year", str(year)),
        ("eprint", arxiv_id),
        ("archivePrefix", "arXiv"),
    ]
    if primary_category:
        fields.append(("primaryClass", escape_bibtex(primary_category)))
    if doi:
        fields.append(("doi", escape_bibtex(doi)))
    fields.append(("url", f"https://arxiv.org/abs/{arxiv_id}"))
    key = citation_key(authors=authors, year=year, title=title)
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key},\n{body}\n}}"


def _ascii_word(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())
