"""The site's HTML pages; each has a JSON twin (`?format=json`) from the same service call."""

from __future__ import annotations

import logging
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from paperwire.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.services import papers as paper_service
from paperwire.web import filters
from paperwire.web.cache import app_cache
from paperwire.web.deps import ContainerDep
from paperwire.web.guards import reject_nul_characters
from paperwire.web.responses import (
    FastJSON,
    error_page,
    page,
    shared_page,
)
from paperwire.web.routes.markdown import markdown_response, wants_markdown
from paperwire.web.serializers import card_json, iso
from paperwire.web.svg_charts import Bar, bar_chart, horizontal_bars
from paperwire.web.templating import templates

filters.install(templates.env)
log = logging.getLogger(__name__)
router = APIRouter(dependencies=[Depends(reject_nul_characters)])

Format = Annotated[Literal["html", "json"], Query(description="html (default) or json")]
PageNo = Annotated[int, Query(ge=0, le=10_000, description="Page number, from 0.")]
DateText = Annotated[str | None, Query(max_length=40, description="YYYY-MM-DD")]
WeekText = Annotated[str | None, Query(max_length=40, description="YYYY-Www, e.g. 2025-W09")]
MonthText = Annotated[str | None, Query(max_length=40, description="YYYY-MM")]
PAGE_SIZE = 50


def page_cache_ttl(container) -> float:
    return container.settings.page_cache_ttl_s


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> RedirectResponse:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get(
    "/papers/{ref:path}", tags=["pages"], summary="A paper (ids, versioned ids and arXiv URLs)"
)
async def paper(
    request: Request, container: ContainerDep, ref: str, format: Format = "html"
) -> Response:
    as_json = format == "json"
    if not as_json and wants_markdown(request):
        return await markdown_response(container, ref)
    try:
        arxiv_id = parse_arxiv_id(ref).id
    except InvalidArxivId as exc:
        return error_page(request, 404, str(exc), as_json=as_json)
    if arxiv_id != ref:
        target = f"/papers/{arxiv_id}" + ("?format=json" if as_json else "")
        return RedirectResponse(target, status_code=301)
    if as_json:
        return await run_in_threadpool(_paper_json, request, container, arxiv_id)

    def build() -> dict | Response:
        detail = _paper_detail(request, container, arxiv_id)
        if detail is None:
            return error_page(request, 404, f"No paper {arxiv_id} here yet.")
        return {"detail": detail, "paper": detail.paper}

    # Comments and votes change the page: their writes empty the cache (web/cache.py).
    return await shared_page(request, "paper.html", build, ttl_s=page_cache_ttl(container))


def _paper_detail(request: Request, container, arxiv_id: str):
    with container.engine.connect() as conn:
        detail = paper_service.get_paper_detail(conn, arxiv_id)
        if detail is not None:
            detail.similar = _similar(request, container, conn, arxiv_id)
    return detail


def _paper_json(request: Request, container, arxiv_id: str) -> Response:
    detail = _paper_detail(request, container, arxiv_id)
    if detail is None:
        return error_page(request, 404, f"No paper {arxiv_id} here yet.", as_json=True)
    return FastJSON(
            card_json(detail.paper, full=True)
            | {
                "feedDays": [
                    {"day": iso(d.day), "submittedBy": d.submitted_by} for d in detail.feed_days
                ],
                "bibtex": detail.bibtex,
                "similar": [card_json(c) for c in detail.similar],
            }
        )


def _similar(request: Request, container, conn, paper_id: str) -> list[paper_service.PaperCard]:
    """Similar papers from the search service (query-by-example, not cached after a failure)."""
    def load() -> list[str]:
        hits = container.search.similar(paper_id, limit=6)
        return [h.paper_id for h in hits if h.paper_id != paper_id]

    ttl = container.settings.similar_cache_ttl_s
    try:  # a failure is not cached: the next view asks again
        ids = app_cache(request).get_or_compute(("similar", paper_id), ttl, load)
    except Exception:  # the search index may be missing or still building
        log.warning("similar papers unavailable for %s", paper_id, exc_info=True)
        return []
    cards = paper_service.cards_by_id(conn, ids)
    return [cards[i] for i in ids if i in cards]


@router.get("/authors/{name:path}", tags=["pages"], summary="An author's papers")
def author(
    request: Request, container: ContainerDep, name: str, p: PageNo = 0, format: Format = "html"
) -> Response:
    with container.engine.connect() as conn:
        result = paper_service.get_author_papers(conn, name[:300], page=p, limit=PAGE_SIZE)
    return _paper_list(request, result, kind="author", name=name, as_json=format == "json")


ORGS_PAGE_SIZE = 100


@router.get("/organizations", tags=["pages"],
            summary="Organizations: most papers first, searchable by name")
def organizations(
    request: Request,
    container: ContainerDep,
    q: Annotated[str, Query(max_length=100, description="Part of a name")] = "",
    p: PageNo = 0,
    format: Format = "html",
) -> Response:
    return organizations_listing(request, container, query=q, page_no=p,
                                 as_json=format == "json")


def organizations_listing(
    request: Request, container, *, query: str = "", page_no: int = 0, as_json: bool = False,
    values: dict | None = None, errors: dict | None = None, status: int = 200,
) -> Response:
    with container.engine.connect() as conn:
        entries, total = paper_service.list_organizations(
            conn, query=query, page=page_no, limit=ORGS_PAGE_SIZE
        )
    if as_json:
        return FastJSON({
            "query": query, "total": total, "page": page_no, "limit": ORGS_PAGE_SIZE,
            "organizations": [
                {"name": e.name, "displayName": e.display_name, "papers": e.papers,
                 "members": e.members} for e in entries
            ],
        })
    context = {"orgs": entries, "total": total, "query": query, "page_no": page_no,
               "has_next": (page_no + 1) * ORGS_PAGE_SIZE < total,
               "values": values or {}, "errors": errors or {}}
    return page(request, "community/organizations.html", context, status_code=status)


@router.get("/organizations/{name:path}", tags=["pages"], summary="An organization's papers")
def organization(
    request: Request, container: ContainerDep, name: str, p: PageNo = 0, format: Format = "html"
) -> Response:
    with container.engine.connect() as conn:
        result = paper_service.get_organization_papers(conn, name[:200], page=p, limit=PAGE_SIZE)
    if result is not None and result.name != name:  # /organizations/Google -> google
        target = f"/organizations/{quote(result.name, safe='')}"
        if request.url.query:
            target += f"?{request.url.query}"
        return RedirectResponse(target, status_code=301)
    return _paper_list(request, result, kind="organization", name=name, as_json=format == "json")


def _paper_list(request: Request, result, *, kind: str, name: str, as_json: bool) -> Response:
    if result is None:
        return error_page(request, 404, f"No {kind} named {name!r} here.", as_json=as_json)
    if as_json:
        return FastJSON(
            {
                kind: {"name": result.name, "displayName": result.display_name},
                "total": result.total,
                "totalUpvotes": result.total_upvotes,
                "page": result.page,
                "limit": result.limit,
                "papers": [card_json(c) for c in result.papers],
            }
        )
    return page(request, "paper_list.html", {"result": result, "kind": kind})


@router.get("/stats", tags=["pages"], summary="Statistics with server-rendered SVG charts")
def stats(request: Request, container: ContainerDep, format: Format = "html") -> Response:

    def load():
        with container.engine.connect() as conn:
            return paper_service.get_stats(conn)

    ttl = max(page_cache_ttl(container), 60.0) if page_cache_ttl(container) > 0 else 0
    result = app_cache(request).get_or_compute(("stats",), ttl, load)
    if format == "json":
        return FastJSON(
            {
                "totalPapers": result.total_papers,
                "totalFeedEntries": result.total_feed_entries,
                "totalFeedDays": result.total_feed_days,
                "totalOrganizations": result.total_organizations,
                "feedPerDay": [{"day": iso(d), "papers": n} for d, n in result.feed_per_day],
                "papersPerMonth": [{"month": m, "papers": n} for m, n in result.papers_per_month],
                "topByMonth": [
                    {"month": t.period, "id": t.id, "title": t.title, "upvotes": t.upvotes}
                    for t in result.top_by_month
                ],
                "topCategories": [{"category": c, "papers": n} for c, n in result.top_categories],
            }
        )
    charts = {
        "per_day": bar_chart(
            [
                Bar(
                    d.strftime("%d %b"),
                    n,
                    f"{d.isoformat()}: {n} papers",
                    f"/?date={d.isoformat()}",
                )
                for d, n in result.feed_per_day
            ],
            title="Papers on the daily feed, per day",
        ),
        "per_month": bar_chart(
            [Bar(m, n, f"{m}: {n} papers") for m, n in result.papers_per_month[-36:]],
            title="Papers published per month (last 36 months)",
        ),
        "top": bar_chart(
            [
                Bar(
                    t.period,
                    t.upvotes,
                    f"{t.period}: {t.title} ({t.upvotes} upvotes)",
                    f"/papers/{t.id}",
                )
                for t in result.top_by_month
            ],
            title="Most-upvoted paper of each month",
        ),
        "categories": horizontal_bars(
            [Bar(c, n, f"{c}: {n} papers") for c, n in result.top_categories],
            title="Top primary categories",
        ),
    }
    return page(request, "stats.html", {"stats": result, "charts": charts})
