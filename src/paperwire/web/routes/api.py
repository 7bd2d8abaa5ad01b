"""A JSON API compatible with Hugging Face's papers API (`huggingface_hub.HfApi` works with it)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from paperwire.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.domain.periods import parse_period
from paperwire.services import feeds as feed_service
from paperwire.services import papers as paper_service
from paperwire.web.cache import cached
from paperwire.web.deps import ContainerDep
from paperwire.web.guards import reject_nul_characters
from paperwire.web.responses import FastJSON, utc_today
from paperwire.web.routes.search_pages import run_search
from paperwire.web.serializers import hf_daily_item, hf_paper

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(reject_nul_characters)])

Limit = Annotated[int, Query(ge=1, le=100, description="1 to 100")]


def _error(status: int, message: str) -> FastJSON:
    # `error` is what huggingface_hub shows from a failed call; `detail` is FastAPI's name.
    return FastJSON({"error": message, "detail": message}, status_code=status)


@router.get("/daily_papers", summary="Daily papers, as on huggingface.co/api/daily_papers")
async def daily_papers(
    request: Request,
    container: ContainerDep,
    date: Annotated[str | None, Query(max_length=40, description="YYYY-MM-DD")] = None,
    week: Annotated[str | None, Query(max_length=40, description="YYYY-Www")] = None,
    month: Annotated[str | None, Query(max_length=40, description="YYYY-MM")] = None,
    submitter: Annotated[
        str | None, Query(max_length=200, description="username of the submitter")
    ] = None,
    sort: Annotated[
        Literal["publishedAt", "trending"] | None,
        Query(description="default: upvotes, then the source's order, as Hugging Face"),
    ] = None,
    p: Annotated[int, Query(ge=0, le=10_000, description="page, from 0")] = 0,
    limit: Limit = 50,
) -> Response:
    try:
        period = parse_period(day=date, week=week, month=month, today=utc_today())
    except ValueError as exc:
        return _error(422, str(exc))

    def load() -> bytes:
        with container.engine.connect() as conn:
            feed = feed_service.feed_page(
                conn, period, sort=sort or "upvotes", page=p, limit=limit, submitter=submitter
            )
        return orjson.dumps([hf_daily_item(c, feed.scores.get(c.id)) for c in feed.papers])

    key = (
        "api_daily",
        period.key if period else None,
        period and period.kind,
        submitter,
        sort,
        p,
        limit,
    )
    body = await cached(request, key, container.settings.page_cache_ttl_s, load)
    return Response(body, media_type="application/json")


@router.get("/papers/search", summary="Search papers, as on huggingface.co/api/papers/search")
async def search_papers(
    request: Request,
    container: ContainerDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="search query")],
    limit: Limit = 20,
) -> Response:
    def load() -> bytes:  # the answer as bytes: the same for everyone, so cached whole
        outcome = run_search(container, q, limit=limit)
        return orjson.dumps([hf_daily_item(card) for card, _ in outcome.items])

    try:
        body = await cached(request, ("api_search", q, limit), container.settings.page_cache_ttl_s,
                            load)
    except ValueError as exc:
        return _error(422, str(exc))
    return Response(body, media_type="application/json")


@router.get("/papers", summary="All papers in id order, paged by cursor (Link: rel=next)")
def list_papers(
    request: Request,
    container: ContainerDep,
    cursor: Annotated[
        str | None, Query(max_length=200, description="from the previous Link header")
    ] = None,
    limit: Limit = 50,
) -> Response:
    after = None
    if cursor:
        try:
            after = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)).decode()
            parse_arxiv_id(after)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return _error(
                422, "cursor is not one this server gave out; start again without a cursor."
            )
    with container.engine.connect() as conn:
        cards, next_id = paper_service.list_papers_after(conn, after, limit=limit)
    response = FastJSON([hf_paper(c) for c in cards])
    if next_id:
        token = base64.urlsafe_b64encode(next_id.encode()).decode().rstrip("=")
        url = request.url.include_query_params(cursor=token, limit=limit)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return response


@router.get("/papers/{ref:path}", summary="One paper, as on huggingface.co/api/papers/{id}")
def paper_info(container: ContainerDep, ref: str) -> Response:
    try:
        arxiv_id = parse_arxiv_id(ref).id
    except InvalidArxivId as exc:
        return _error(404, str(exc))
    with container.engine.connect() as conn:
        card = paper_service.cards_by_id(conn, [arxiv_id]).get(arxiv_id)
    if card is None:
        return _error(404, f"Paper {arxiv_id} not found.")
    return FastJSON(hf_paper(card))
