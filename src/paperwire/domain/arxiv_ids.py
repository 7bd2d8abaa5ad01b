"""arXiv identifiers: the one place that parses them.

Accepts new-style ids (2506.11924, 0704.0001), old-style ids (hep-th/9901001,
math.GT/0309136), either with a version (v2), and abs/pdf/html URLs or the
`arXiv:` prefix. The canonical id carries no version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NEW = r"(?P<new>\d{4}\.\d{4,5})"
_OLD = r"(?P<old>[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})"
_ID_RE = re.compile(rf"^(?:{_NEW}|{_OLD})(?:v(?P<version>\d+))?$")
_URL_RE = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/(?P<rest>.+?)(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)


class InvalidArxivId(ValueError):
    """Raised when text is not an arXiv identifier or URL."""


@dataclass(frozen=True, slots=True)
class ArxivId:
    id: str
    version: int | None = None

    @property
    def versioned(self) -> str:
        return f"{self.id}v{self.version}" if self.version else self.id


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse an id or URL into its canonical, version-less form."""
    raw = (text or "").strip()
    url = _URL_RE.match(raw)
    if url:
        raw = url.group("rest")
    if raw.lower().startswith("arxiv:"):
        raw = raw[6:]
    match = _ID_RE.match(raw)
    if not match:
        raise InvalidArxivId(f"{text!r} is not an arXiv id such as 2506.11924 or hep-th/9901001.")
    new_id = match.group("new")
    if new_id and not _valid_new_style(new_id):
        raise InvalidArxivId(f"{text!r} is not an arXiv id: the month must be 01 to 12.")
    version = match.group("version")
    return ArxivId(id=new_id or match.group("old"), version=int(version) if version else None)


def canonical_arxiv_id(text: str) -> str:
    return parse_arxiv_id(text).id


def is_arxiv_id(text: str) -> bool:
    try:
        parse_arxiv_id(text)
    except InvalidArxivId:
        return False
    return True


def _valid_new_style(new_id: str) -> bool:
    yymm, number = new_id.split(".")
    month = int(yymm[2:])
    # Five-digit numbers started in 2015-01 (1501).
    return 1 <= month <= 12 and (len(number) == 4 or int(yymm) >= 1501)


def abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"
