"""RSS 2.0 and Atom feeds: daily, trending, any search, an author, an organization.

Every feed exists as `.xml` (RSS 2.0) and `.atom` (Atom 1.0), built from the same
service calls as the pages.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator
from starlette.concurrency import run_in_threadpool

from paperwire.domain.periods import parse_period
from paperwire.services import feeds as feed_service
from paperwire.services import papers as paper_service
from paperwire.services.papers import PaperCard
from paperwire.web.deps import ContainerDep
from paperwire.web.guards import reject_nul_characters
from paperwire.web.responses import FastJSON, utc_today
from paperwire.web.routes.search_pages import cached_search

router = APIRouter(prefix="/feeds", tags=["feeds"], dependencies=[Depends(reject_nul_characters)])

FORMATS = {
    "xml": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}
FEED_SIZE = 50


def _error(status: int, message: str) -> Response:
    return FastJSON({"detail": message}, status_code=status)


def _render(
    container,
    request: Request,
    ext: str,
    *,
    title: str,
    page_path: str,
    description: str,
    cards: list[PaperCard],
) -> Response:
    base = container.settings.base_url.rstrip("/")
    fg = FeedGenerator()
    feed_url = f"{base}{request.url.path}" + (f"?{request.url.query}" if request.url.query else "")
    fg.id(feed_url)
    fg.title(_clean(title))
    fg.subtitle(_clean(description))
    fg.description(_clean(description))
    fg.link(href=f"{base}{page_path}", rel="alternate")
    fg.link(href=feed_url, rel="self")
    fg.language("en")
    fg.generator("Paperwire")
    fg.updated(max((_when(c) for c in cards), default=datetime.now(UTC)))
    for card in reversed(cards):  # feedgen prepends entries; keep the page's order
        entry = fg.add_entry()
        url = f"{base}/papers/{card.id}"
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(_clean(card.title))
        entry.link(href=url)
        entry.published(_when(card))
        entry.updated(_when(card))
        for name in card.authors[:20]:
            entry.author(name=_clean(name) or "Unknown")
        summary = _clean(card.abstract)
        extras = [f"{card.upvotes} upvotes"]
        if card.github_repo:
            extras.append(f"code: {card.github_repo}")
        entry.description(f"{summary}\n\n{' · '.join(extras)}")
        entry.summary(f"{summary}\n\n{' · '.join(extras)}")
        for category in card.categories:
            entry.category(term=category)
    body = fg.rss_str(pretty=False) if ext == "xml" else fg.atom_str(pretty=False)
    return Response(body, media_type=FORMATS[ext])


_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def _clean(text: str) -> str:
    """Text as XML allows it: control characters dropped, whitespace folded."""
    return " ".join(text.translate(_CONTROL).split())


def _when(card: PaperCard) -> datetime:
    if card.added_at:
        return card.added_at
    if card.day:
        return datetime.combine(card.day, time(), tzinfo=UTC)
    return datetime(1991, 8, 1, tzinfo=UTC)


def _check_ext(ext: str) -> Response | None:
    if ext not in FORMATS:
        return _error(404, "Feeds end in .xml (RSS 2.0) or .atom (Atom).")
    return None


@router.get("/daily.{ext}", summary="The daily papers (RSS .xml / Atom .atom)")
def daily_feed(
    request: Request,
    container: ContainerDep,
    ext: str,
    date: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    if (bad := _check_ext(ext)) is not None:
        return bad
    try:
        period = parse_period(day=date, today=utc_today())
    except ValueError as exc:
        return _error(422, str(exc))
    with container.engine.connect() as conn:
        feed = feed_service.daily_page(conn, period, limit=FEED_SIZE)
    day = feed.period.key if feed.period else "today"
    return _render(
        container,
        request,
        ext,
        title=f"Paperwire daily papers ({day})",
        page_path=f"/?date={day}" if feed.period else "/",
        description="The papers of the day, most upvoted first.",
        cards=feed.papers,
    )


@router.get("/trending.{ext}", summary="Trending papers (RSS .xml / Atom .atom)")
def trending_feed(request: Request, container: ContainerDep, ext: str) -> Response:
    if (bad := _check_ext(ext)) is not None:
        return bad
    with container.engine.connect() as conn:
        result = feed_service.trending_page(conn, limit=FEED_SIZE)
    return _render(
        container,
        request,
        ext,
        title="Paperwire trending papers",
        page_path="/trending",
        description="Papers ranked by upvotes, recency and GitHub stars.",
        cards=[card for card, _ in result.items],
    )


@router.get("/search.{ext}", summary="Any search as a feed (RSS .xml / Atom .atom)")
async def search_feed(
    request: Request,
    container: ContainerDep,
    ext: str,
    q: Annotated[str, Query(min_length=1, max_length=500)],
) -> Response:
    if (bad := _check_ext(ext)) is not None:
        return bad
    try:
        outcome = await cached_search(request, container, q, sort="date", limit=FEED_SIZE)
    except ValueError as exc:
        return _error(422, str(exc))
    return await run_in_threadpool(
        _render,
        container,
        request,
        ext,
        title=f"Paperwire search: {q}",
        page_path=f"/search?{urlencode({'q': q})}",
        description=f"New papers matching {q!r}.",
        cards=[card for card, _ in outcome.items],
    )


@router.get("/authors/{name}.{ext}", summary="An author's papers (RSS .xml / Atom .atom)")
def author_feed(request: Request, container: ContainerDep, name: str, ext: str) -> Response:
    if (bad := _check_ext(ext)) is not None:
        return bad
    with container.engine.connect() as conn:
        result = paper_service.get_author_papers(conn, name[:300], page=0, limit=FEED_SIZE)
    if result is None:
        return _error(404, f"No author named {name!r} here.")
    return _render(
        container,
        request,
        ext,
        title=f"Papers by {result.display_name}",
        page_path=f"/authors/{quote(result.display_name, safe='')}",
        description=f"New papers by {result.display_name}.",
        cards=result.papers,
    )


@router.get(
    "/organizations/{name}.{ext}", summary="An organization's papers (RSS .xml / Atom .atom)"
)
def organization_feed(request: Request, container: ContainerDep, name: str, ext: str) -> Response:
    if (bad := _check_ext(ext)) is not None:
        return bad
    with container.engine.connect() as conn:
        result = paper_service.get_organization_papers(conn, name[:200], page=0, limit=FEED_SIZE)
    if result is None:
        return _error(404, f"No organization named {name!r} here.")
    return _render(
        container,
        request,
        ext,
        title=f"Papers from {result.display_name}",
        page_path=f"/organizations/{quote(result.name, safe='')}",
        description=f"New papers from {result.display_name}.",
        cards=result.papers,
    )
