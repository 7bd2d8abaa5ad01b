"""Match imported references to papers (pure): arXiv id, then DOI, then exact title.

The caller supplies lookups from the database; an arXiv id not yet stored can be fetched,
so it is reported as `fetch` for the caller to resolve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass

from paperwire.domain.library_rules import normalised_title
from paperwire.domain.reference_formats import Reference

MATCHED = "matched"
UNMATCHED = "unmatched"
AMBIGUOUS = "ambiguous"
ERROR = "error"
FETCH = "fetch"  # an arXiv id this site does not have yet


@dataclass(frozen=True, slots=True)
class MatchRow:
    index: int
    label: str
    title: str | None
    status: str  # matched | unmatched | ambiguous | error | fetch
    paper_id: str | None = None
    how: str | None = None  # "arXiv id", "DOI", "title", "arXiv id (fetched)"
    message: str | None = None
    candidates: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "index": self.index,
            "label": self.label,
            "title": self.title,
            "status": self.status,
            "paperId": self.paper_id,
            "matchedBy": self.how,
            "message": self.message,
            "candidates": list(self.candidates),
        }


def match_references(
    refs: Sequence[Reference],
    *,
    known_ids: Set[str],
    ids_by_doi: Mapping[str, Sequence[str]],
    ids_by_title: Mapping[str, Sequence[str]],
) -> list[MatchRow]:
    rows = []
    for ref in refs:
        base = {"index": ref.index, "label": ref.label, "title": ref.title}
        if ref.problem:
            rows.append(MatchRow(**base, status=ERROR, message=ref.problem))
            continue
        if ref.arxiv_id:
            if ref.arxiv_id in known_ids:
                rows.append(MatchRow(**base, status=MATCHED, paper_id=ref.arxiv_id, how="arXiv id"))
            else:
                rows.append(MatchRow(**base, status=FETCH, paper_id=ref.arxiv_id, how="arXiv id"))
            continue
        if ref.doi and (by_doi := list(dict.fromkeys(ids_by_doi.get(ref.doi, ())))):
            rows.append(_one_or_many(base, by_doi, "DOI"))
            continue
        key = normalised_title(ref.title) if ref.title else ""
        if key and (by_title := list(dict.fromkeys(ids_by_title.get(key, ())))):
            rows.append(_one_or_many(base, by_title, "title"))
            continue
        if not ref.title and not ref.doi:
            message = "This entry has no arXiv id, DOI or title to match on."
        else:
            message = "No paper here has this " + ("DOI or title." if ref.doi else "title.")
        rows.append(MatchRow(**base, status=UNMATCHED, message=message))
    return rows


def _one_or_many(base: dict, ids: list[str], how: str) -> MatchRow:
    if len(ids) == 1:
        return MatchRow(**base, status=MATCHED, paper_id=ids[0], how=how)
    return MatchRow(
        **base,
        status=AMBIGUOUS,
        how=how,
        message=f"{len(ids)} papers have this {how}; save the one you mean from its page.",
        candidates=tuple(ids[:10]),
    )
