"""The search page and its JSON twin (also the source of search-as-you-type suggestions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from paperwire.search.plan import SearchFilters
from paperwire.services.activity import EMBED, ActivityBoard
from paperwire.services.papers import PaperCard, cards_by_id
from paperwire.web.cache import cached
from paperwire.web.deps import ContainerDep
from paperwire.web.guards import reject_nul_characters
from paperwire.web.responses import FastJSON, error_page, render_cards, shared_page
from paperwire.web.serializers import card_json, iso

router = APIRouter(dependencies=[Depends(reject_nul_characters)])

MODES = ("hybrid", "keyword", "semantic")
SORTS = ("relevance", "date", "upvotes")
PAGE_SIZE = 20


@dataclass(slots=True)
class SearchOutcome:
    query: str
    items: list[tuple[PaperCard, Any]]  # (card, SearchHit)
    total: int
    mode: str
    notice: str | None
    offset: int = 0
    limit: int = PAGE_SIZE
    filters: dict[str, Any] = field(default_factory=dict)
    # (papers with an embedding, all papers) while semantic ranking is partial, else None
    embedding_progress: tuple[int, int] | None = None

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.total


def run_search(
    container,
    query: str,
    *,
    mode: str = "hybrid",
    sort: str = "relevance",
    limit: int = PAGE_SIZE,
    offset: int = 0,
    filters: dict[str, Any] | None = None,
) -> SearchOutcome:
    """Ask the search service, then load the hits' cards. ValueError means bad input (422)."""
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "", False)}
    results = container.search.search(
        query,
        mode=mode,
        filters=SearchFilters(**filters) if filters else None,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    with container.engine.connect() as conn:
        cards = cards_by_id(conn, [hit.paper_id for hit in results.hits])
    items = [(cards[h.paper_id], h) for h in results.hits if h.paper_id in cards]
    coverage = results.embedding_coverage
    partial = coverage if coverage and 0 < coverage[0] < coverage[1] else None
    return SearchOutcome(
        query, items, results.total, results.mode, results.notice, offset, limit, filters,
        partial,
    )


def _search_key(query: str, options: dict[str, Any]) -> tuple:
    filters = tuple(sorted((k, str(v)) for k, v in (options.get("filters") or {}).items()))
    rest = ((name, options[name]) for name in sorted(options) if name != "filters")
    return (query, filters, *rest)


async def cached_search(request: Request, container, query: str, **options: Any) -> SearchOutcome:
    """`run_search` through the app's page cache: the same query gives everyone the same
    results, so repeats within PAPERWIRE_PAGE_CACHE_TTL_S seconds (popular queries,
    search-as-you-type, feed readers) are answered from memory. Paper writes in this
    process clear the cache at once."""
    ttl = container.settings.page_cache_ttl_s
    key = ("search", *_search_key(query, options))
    return await cached(request, key, ttl, lambda: run_search(container, query, **options))


async def cached_search_page(
    request: Request, container, query: str, **options: Any
) -> tuple[SearchOutcome, Any]:
    """The outcome and its result cards as HTML (the same for every visitor), cached."""

    def load() -> tuple[SearchOutcome, Any]:
        outcome = run_search(container, query, **options)
        cards = render_cards([card for card, _ in outcome.items], query=outcome.query)
        return outcome, cards

    ttl = container.settings.page_cache_ttl_s
    return await cached(request, ("search_page", *_search_key(query, options)), ttl, load)


def hit_json(card: PaperCard, hit: Any) -> dict[str, Any]:
    return card_json(card) | {
        "score": hit.score,
        "keywordScore": getattr(hit, "keyword_score", None),
        "semanticScore": getattr(hit, "semantic_score", None),
        "snippet": getattr(hit, "snippet", None),
    }


def _parse_date(name: str, text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} must be a date like 2025-06-16, not {text!r}.") from None


@router.get(
    "/search", tags=["pages"], summary="Search page; ?format=json is its twin and feeds suggestions"
)
async def search_page(
    request: Request,
    container: ContainerDep,
    q: Annotated[str, Query(max_length=500)] = "",
    mode: Literal["hybrid", "keyword", "semantic"] = "hybrid",
    sort: Literal["relevance", "date", "upvotes"] = "relevance",
    after: Annotated[
        str | None, Query(max_length=40, description="published on or after YYYY-MM-DD")
    ] = None,
    before: Annotated[
        str | None, Query(max_length=40, description="published on or before YYYY-MM-DD")
    ] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    organization: Annotated[str | None, Query(max_length=200)] = None,
    author: Annotated[str | None, Query(max_length=300)] = None,
    has_code: bool = False,
    p: Annotated[int, Query(ge=0, le=500)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = PAGE_SIZE,
    format: Literal["html", "json"] = "html",
) -> Response:
    as_json = format == "json"
    form = {
        "q": q,
        "mode": mode,
        "sort": sort,
        "after": after or "",
        "before": before or "",
        "category": category or "",
        "organization": organization or "",
        "author": author or "",
        "has_code": has_code,
    }
    outcome = cards_html = None
    if q.strip():
        try:
            filters = {
                "after": _parse_date("after", after),
                "before": _parse_date("before", before),
                "category": category,
                "organization": organization,
                "author": author,
                "has_code": has_code,
            }
            search = cached_search if as_json else cached_search_page
            answer = await search(
                request, container, q, mode=mode, sort=sort, limit=limit, offset=p * limit,
                filters=filters,
            )
            outcome, cards_html = (answer, None) if as_json else answer
        except ValueError as exc:
            return error_page(request, 422, str(exc), as_json=as_json)
    if as_json:
        if outcome is None:
            return FastJSON({"query": q, "total": 0, "mode": mode, "notice": None, "papers": []})
        return FastJSON(
            {
                "query": q,
                "mode": outcome.mode,
                "sort": sort,
                "notice": outcome.notice,
                "embedding": _embedding_json(container),
                "embeddingProgress": (
                    {"embedded": outcome.embedding_progress[0],
                     "papers": outcome.embedding_progress[1]}
                    if outcome.embedding_progress else None
                ),
                "total": outcome.total,
                "page": p,
                "limit": limit,
                "filters": {
                    k: iso(v) if isinstance(v, date) else v for k, v in outcome.filters.items()
                },
                "papers": [hit_json(card, hit) for card, hit in outcome.items],
            }
        )
    embedding = ActivityBoard(container.settings.data_dir).get(EMBED)
    context = {"outcome": outcome, "cards_html": cards_html, "form": form, "page_no": p,
               "embedding": embedding if embedding and embedding.running else None}
    ttl_s = container.settings.page_cache_ttl_s
    return await shared_page(request, "search.html", lambda: context, ttl_s=ttl_s)


def _embedding_json(container) -> dict | None:
    """A running embed's progress (semantic results cover only the papers embedded so far)."""
    activity = ActivityBoard(container.settings.data_dir).get(EMBED)
    if activity is None or not activity.running:
        return None
    return {"done": activity.done, "total": activity.total, "message": activity.message}
