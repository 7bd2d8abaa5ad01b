"""The For-you feed: the page, its JSON twin, settings, and the private RSS/Atom feed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from paperwire.services import feeds as feed_service
from paperwire.services import library
from paperwire.services.community import CommunityError
from paperwire.web.auth import current_user
from paperwire.web.deps import ContainerDep
from paperwire.web.responses import FastJSON, page, utc_today
from paperwire.web.routes.community.common import (
    Format,
    error_response,
    html_error,
    json_error,
    see_other,
)
from paperwire.web.serializers import card_json

router = APIRouter(tags=["library"])
Since = Annotated[str | None, Query(max_length=20, description="YYYY-MM-DD (default: 7 days)")]


def _trending(container):
    def load():
        with container.engine.connect() as conn:
            return [card for card, _ in feed_service.trending_page(conn, limit=30).items]

    return load


def build_feed(container, user, since_text: str | None) -> library.ForYouFeed:
    since = library.parse_since(since_text, utc_today())
    return library.for_you_feed(container.engine, container.search, user, since=since,
                                trending=_trending(container), cache=container.for_you_cache)


def feed_json(feed: library.ForYouFeed) -> dict[str, object]:
    return {
        "since": feed.since.isoformat(),
        "coldStart": feed.cold_start,
        "advice": feed.advice,
        "libraryPapers": feed.seeds,
        "follows": feed.follows,
        "includeKeywords": feed.include_keywords,
        "excludeKeywords": feed.exclude_keywords,
        "papers": [card_json(card) | {"score": round(pick.score, 6), "reasons": list(pick.reasons),
                                      "reasonKinds": list(pick.kinds)}
                   for card, pick in feed.picks],
        "trending": [card_json(c) for c in feed.trending],
    }


@router.get("/for-you", summary="New papers picked for you, explained (HTML or JSON)")
async def for_you(request: Request, container: ContainerDep, since: Since = None,
                  format: Format = "html") -> Response:
    user = current_user(request)
    if user is None:
        return error_response(request, CommunityError("Log in first.", 401), format)
    try:
        feed = await run_in_threadpool(build_feed, container, user, since)
    except CommunityError as exc:
        return error_response(request, exc, format)
    if format == "json":
        return FastJSON(feed_json(feed))
    settings = library.get_feed_settings(container.engine, user.id)
    return page(request, "library/for_you.html", {"feed": feed, "settings": settings,
                                                   "new_token": None, "message": None})


@router.get("/api/for-you", summary="The For-you feed as JSON")
async def api_for_you(request: Request, container: ContainerDep, since: Since = None):
    return await for_you(request, container, since, "json")


def _after_settings(request: Request, container, *, new_token=None, message=None):
    user = current_user(request)
    feed = build_feed(container, user, None)
    settings = library.get_feed_settings(container.engine, user.id)
    return page(request, "library/for_you.html", {"feed": feed, "settings": settings,
                                                   "new_token": new_token, "message": message})


@router.post("/for-you/keywords", summary="Save include / exclude keywords (form)")
def keywords_submit(
    request: Request,
    container: ContainerDep,
    include: Annotated[str, Form(max_length=10000)] = "",
    exclude: Annotated[str, Form(max_length=10000)] = "",
) -> Response:
    try:
        library.set_keywords(container.engine, current_user(request), include, exclude)
    except CommunityError as exc:
        return html_error(request, exc)
    return see_other("/for-you")


@router.post("/for-you/my-papers", summary="These are my papers: save an author's papers")
def my_papers_submit(request: Request, container: ContainerDep,
                     author: Annotated[str, Form(max_length=500)] = "") -> Response:
    try:
        found, added = library.add_my_papers(container.engine, current_user(request), author)
    except CommunityError as exc:
        return html_error(request, exc)
    if found == 0:
        message = (f"No papers here list an author named {author.strip()!r}. Check the "
                   "spelling as arXiv shows it, or import your papers from a BibTeX file.")
    else:
        message = f"Found {found} papers by {author.strip()}; {added} added to your library."
    return _after_settings(request, container, message=message)


@router.post("/for-you/feed-token", summary="Make (or replace) your private feed URL")
def feed_token_submit(request: Request, container: ContainerDep) -> Response:
    try:
        raw = library.new_feed_token(container.engine, current_user(request))
    except CommunityError as exc:
        return html_error(request, exc)
    return _after_settings(request, container, new_token=raw)


@router.post("/for-you/feed-token/delete", summary="Revoke your private feed URL")
def feed_token_delete(request: Request, container: ContainerDep) -> Response:
    try:
        library.revoke_feed_token(container.engine, current_user(request))
    except CommunityError as exc:
        return html_error(request, exc)
    return see_other("/for-you")


class FeedSettingsBody(BaseModel):
    includeKeywords: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=100)
    excludeKeywords: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=100)


@router.get("/api/me/feed-settings", summary="Your For-you keywords and private feed state")
def api_feed_settings(request: Request, container: ContainerDep) -> Response:
    user = current_user(request)
    if user is None:
        return json_error(CommunityError("Log in first.", 401))
    return FastJSON(library.get_feed_settings(container.engine, user.id).as_json())


@router.put("/api/me/feed-settings", summary="Set your For-you include / exclude keywords")
def api_set_feed_settings(request: Request, container: ContainerDep,
                          body: FeedSettingsBody) -> Response:
    try:
        settings = library.set_keywords(container.engine, current_user(request),
                                        "\n".join(body.includeKeywords),
                                        "\n".join(body.excludeKeywords))
    except CommunityError as exc:
        return json_error(exc)
    return FastJSON(settings.as_json())


@router.get("/for-you/feed/{token}.{ext}", summary="Your private For-you feed (RSS / Atom)",
            include_in_schema=False)
def private_feed(request: Request, container: ContainerDep, token: str, ext: str) -> Response:
    from paperwire.web.routes.feeds import FORMATS, _render

    if ext not in FORMATS:
        return FastJSON({"detail": "Feeds end in .xml (RSS 2.0) or .atom (Atom)."}, 404)
    user = library.user_for_feed_token(container.engine, token)
    if user is None:
        return FastJSON({"detail": "This feed address is unknown or was revoked."}, 404)
    feed = build_feed(container, user, None)
    response = _render(
        container, request, ext,
        title=f"Paperwire: for {user.username}",
        page_path="/for-you",
        description="New papers picked for you from your library and follows.",
        cards=[card for card, _ in feed.picks],
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
