"""A search plan: the user's query parsed once, with everything that decides its results.

`build_plan` checks the request (mode, sort, paging), parses the query text once
(`query_parser.parse_query`) and merges the filters typed in the query with the caller's
(the search form, a saved search, a digest window, a user's library). The plan then flows
one way through the search service: candidate set, ranking, fusion, sort and paging,
snippets; nothing downstream parses the text again or re-derives a filter.

Query-by-example (similar papers, `paperwire eval-rec`, a reader's library) is a plan
too: `build_example_plan` puts the example papers in `more_like` (their titles and
abstracts are the query), so it takes the same way through the service as typed text.

Pure: no database, no model. The service fills in `candidates` (the ids that pass the
filters) once, before ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from paperwire.search.filters import FilterSpec
from paperwire.search.query_parser import ParsedQuery, parse_query

MODES = ("keyword", "semantic", "hybrid")
SORTS = ("relevance", "date", "upvotes")
MAX_LIMIT = 200
MAX_OFFSET = 10_000
# Query-by-example ranks deeper than a page: eval-rec scores the best 100, For-you more.
MAX_EXAMPLE_LIMIT = 1_000
EMPTY_QUERY_NOTICE = "Type some words to search, e.g. diffusion transformers author:\"Jane Doe\"."


@dataclass(frozen=True)
class SearchFilters:
    """Filters a caller passes next to the query text (all must hold)."""

    after: date | None = None
    before: date | None = None
    category: str | None = None
    organization: str | None = None
    author: str | None = None
    has_code: bool = False
    # Search only among these papers (a user's library); None: all papers.
    paper_ids: frozenset[str] | None = None


def merge_filters(parsed: ParsedQuery, filters: SearchFilters | None) -> FilterSpec:
    """Filters typed in the query and filters passed by the caller all apply."""
    f = filters or SearchFilters()
    after = max((d for d in (parsed.after, f.after) if d), default=None)
    before = min((d for d in (parsed.before, f.before) if d), default=None)
    categories = parsed.categories + ((f.category,) if f.category and f.category.strip() else ())
    authors = parsed.authors + ((f.author,) if f.author and f.author.strip() else ())
    return FilterSpec(
        after=after,
        before=before,
        categories=categories,
        organization=f.organization.strip() if f.organization and f.organization.strip() else None,
        authors=authors,
        has_code=parsed.has_code or f.has_code,
        paper_ids=f.paper_ids,
    )


@dataclass(frozen=True)
class SearchPlan:
    """What to find and how to show it; built once per search by `build_plan`."""

    query: ParsedQuery  # terms, phrases (the filters typed in the text are in `spec`)
    spec: FilterSpec  # every filter, merged
    mode: str  # the mode asked for; the service may fall back to keyword
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0
    notices: tuple[str, ...] = ()
    # Ids of the papers that pass `spec`, resolved once by the service (None: every paper).
    candidates: list[str] | None = None
    # Query-by-example: the papers whose titles and abstracts are the query, in the caller's
    # order (empty for typed text). They never appear in the results.
    more_like: tuple[str, ...] = ()

    @property
    def pool(self) -> int:
        """How many of the best results the page needs (everything up to its end)."""
        return self.offset + self.limit

    @property
    def has_text(self) -> bool:
        return self.query.has_text or self.by_example

    @property
    def by_example(self) -> bool:
        """The query is example papers (`more_like`), not typed text."""
        return bool(self.more_like)

    @property
    def n_words(self) -> int:
        """The query's length in words, which sets the keyword share of hybrid fusion."""
        return len(self.query.terms) + sum(len(p) for p in self.query.phrases)

    @property
    def phrase_required(self) -> bool:
        """A quoted phrase is a requirement: only papers that hold it may match (hybrid)."""
        return bool(self.query.phrases)

    @property
    def ordered(self) -> bool:
        """Sorted by date or upvotes rather than by relevance."""
        return self.sort != "relevance"

    @property
    def no_candidates(self) -> bool:
        """The filters exclude every paper."""
        return self.candidates is not None and not self.candidates

    def with_candidates(self, candidates: list[str] | None) -> SearchPlan:
        return replace(self, candidates=candidates)

    def notice(self, *more: str) -> SearchPlan:
        return replace(self, notices=(*self.notices, *more))


def build_plan(
    query: str,
    *,
    mode: str = "hybrid",
    filters: SearchFilters | None = None,
    sort: str = "relevance",
    limit: int = 20,
    offset: int = 0,
) -> SearchPlan:
    """Check the request and parse the query. ValueError names the bad parameter; the
    query text itself never raises (its problems become notices)."""
    _check_mode(mode)
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"offset must be between 0 and {MAX_OFFSET}")
    parsed = parse_query(query or "")
    return SearchPlan(
        query=parsed,
        spec=merge_filters(parsed, filters),
        mode=mode,
        sort=sort,
        limit=limit,
        offset=offset,
        notices=parsed.notices,
    )


def build_example_plan(
    paper_ids: Sequence[str],
    *,
    mode: str = "hybrid",
    filters: SearchFilters | None = None,
    candidates: Sequence[str] | None = None,
    limit: int = 10,
) -> SearchPlan:
    """A query-by-example plan: papers like `paper_ids`, ranked among `candidates` (None:
    every paper that passes `filters`), best first. ValueError for a bad mode or limit.

    The examples are de-duplicated (first occurrence kept) and left out of the candidates.
    """
    _check_mode(mode)
    if not 1 <= limit <= MAX_EXAMPLE_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_EXAMPLE_LIMIT}")
    examples = tuple(dict.fromkeys(p for p in paper_ids if p))
    kept = None
    if candidates is not None:
        skip = set(examples)
        kept = [c for c in dict.fromkeys(candidates) if c not in skip]
    parsed = parse_query("")
    return SearchPlan(
        query=parsed,
        spec=merge_filters(parsed, filters),
        mode=mode,
        limit=limit,
        candidates=kept,
        more_like=examples,
    )


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
