"""The feed pages: the daily (weekly, monthly) papers and trending, each with a JSON twin.

Mounted before every other router: these are the busiest pages, and their fixed paths
cannot shadow anything, so a request finds them without trying the other routes first.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from paperwire.domain.periods import parse_period
from paperwire.services import feeds as feed_service
from paperwire.services.activity import FIRST_RUN, ActivityBoard
from paperwire.services.setup_hints import setup_hints
from paperwire.web.cache import cached
from paperwire.web.deps import ContainerDep
from paperwire.web.guards import reject_nul_characters
from paperwire.web.responses import FastJSON, error_page, render_cards, shared_page, utc_today
from paperwire.web.routes.pages import (
    PAGE_SIZE,
    DateText,
    Format,
    MonthText,
    PageNo,
    WeekText,
    page_cache_ttl,
)
from paperwire.web.serializers import card_json, iso, score_json

router = APIRouter(dependencies=[Depends(reject_nul_characters)])


@router.get("/", tags=["pages"], summary="Daily papers (or a week or month of them)")
async def daily(
    request: Request,
    container: ContainerDep,
    date: DateText = None,
    week: WeekText = None,
    month: MonthText = None,
    p: PageNo = 0,
    format: Format = "html",
) -> Response:
    as_json = format == "json"
    try:
        period = parse_period(day=date, week=week, month=month, today=utc_today())
    except ValueError as exc:
        return error_page(request, 422, str(exc), as_json=as_json)

    def load():
        with container.engine.connect() as conn:
            feed = feed_service.daily_page(conn, period, page=p, limit=PAGE_SIZE)
        return feed, render_cards(feed.papers)

    key = ("daily", period.key if period else None, p)
    feed, cards_html = await cached(request, key, page_cache_ttl(container), load)
    first_run = None
    if feed.latest_day is None:  # an empty site: say what the first-start fetch is doing
        first_run = ActivityBoard(container.settings.data_dir).get(FIRST_RUN)
    if as_json:
        return FastJSON(
            {
                "period": feed.period
                and {
                    "kind": feed.period.kind,
                    "key": feed.period.key,
                    "start": iso(feed.period.start),
                    "end": iso(feed.period.end),
                },
                "total": feed.total,
                "page": feed.page,
                "limit": feed.limit,
                "prev": feed.prev_key,
                "next": feed.next_key,
                "latestDay": iso(feed.latest_day),
                "firstRun": first_run
                and {"state": first_run.state, "message": first_run.message},
                "papers": [
                    card_json(c) | {"featuredOn": [iso(d) for d in c.feed_days]}
                    for c in feed.papers
                ],
            }
        )
    context = {"feed": feed, "cards_html": cards_html, "first_run": first_run,
               "setup": setup_hints(utc_today())}
    return await shared_page(request, "daily.html", lambda: context,
                             ttl_s=page_cache_ttl(container))


@router.get("/trending", tags=["pages"], summary="Trending papers with their score and its parts")
async def trending(
    request: Request,
    container: ContainerDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    format: Format = "html",
) -> Response:

    def load():
        with container.engine.connect() as conn:
            result = feed_service.trending_page(conn, limit=limit)
        scores = {card.id: score for card, score in result.items}
        return result, render_cards([card for card, _ in result.items], ranked=True, scores=scores)

    result, cards_html = await cached(request, ("trending", limit), page_cache_ttl(container), load)
    if format == "json":
        return FastJSON(
            {
                "asOf": iso(result.as_of),
                "since": iso(result.since),
                "until": iso(result.until),
                "windowDays": result.window_days,
                "formula": "score = (upvotes + 2*log10(1+stars)) / (age_hours + 2)^1.5",
                "papers": [card_json(c) | {"trending": score_json(s)} for c, s in result.items],
            }
        )
    context = {"result": result, "cards_html": cards_html}
    return await shared_page(request, "trending.html", lambda: context,
                             ttl_s=page_cache_ttl(container))
