"""Paperwire as an MCP server (the official `mcp` SDK): tools for agents over stdio and HTTP.

Every tool is a thin call into the services behind the pages and the API. Bad input
and missing papers are tool errors with one sentence (`ToolError`), never a crash.
Library tools need an API token: the `Authorization: Bearer pw_...` header over
HTTP, or `PAPERWIRE_MCP_TOKEN` / `paperwire mcp --token` over stdio. The token is
checked on every call, so a revoked one stops working at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import Field
from starlette.responses import JSONResponse

from paperwire import __version__
from paperwire.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.domain.periods import day_period, parse_period
from paperwire.services import feeds as feed_service
from paperwire.services import papers as paper_service
from paperwire.services.papers import PaperCard

INSTRUCTIONS = (
    "Paperwire is a self-hosted research-paper site (arXiv papers, a Hugging Face-style daily "
    "feed, trending, search). Use search_papers to find papers on a topic, daily_papers for a "
    "day/week/month of the feed, trending_papers for what is popular now, get_paper for one "
    "paper's full Markdown (metadata, abstract, full text when available), similar_papers for "
    "related work. With an API token: save_paper, my_library, my_collections and for_you."
)
MAX_QUERY = 500
PaperId = Annotated[
    str,
    Field(
        min_length=1, max_length=200,
        description="An arXiv id such as 2506.11924 (a version like v2 or an arxiv.org URL "
        "also works; old-style ids such as hep-th/9901001 too).",
    ),
]


def _paper_id(ref: str) -> str:
    try:
        return parse_arxiv_id(ref).id
    except InvalidArxivId as exc:
        raise ToolError(str(exc)) from None


def _summary(card: PaperCard, base_url: str) -> dict[str, Any]:
    """A paper as a tool result: enough to choose; get_paper has the rest."""
    return {
        "id": card.id,
        "title": card.title,
        "authors": card.authors[:10] + (["…"] if len(card.authors) > 10 else []),
        "publishedAt": card.published_at.isoformat() if card.published_at else None,
        "upvotes": card.upvotes,
        "numComments": card.num_comments,
        "aiSummary": card.ai_summary,
        "summary": card.abstract_preview,
        "githubRepo": card.github_repo,
        "url": f"{base_url.rstrip('/')}/papers/{card.id}",
        "arxivUrl": card.abs_url,
    }


def _date(name: str, text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ToolError(f"{name} must be a date like 2025-06-16, not {text!r}.") from None


def build_mcp_server(container, *, token: str | None = None) -> MCPServer:
    """The server with every tool bound to this process's container.

    `token` is the stdio caller's API token; over HTTP each request's bearer header
    is used instead.
    """
    settings = container.settings
    base_url = settings.base_url
    server = MCPServer(
        name="paperwire", title="Paperwire", version=__version__, instructions=INSTRUCTIONS,
        website_url=base_url,
        # The SDK calls logging.basicConfig with this level when the root logger has no
        # handler yet: WARNING keeps `paperwire serve` from printing every INFO line.
        log_level="WARNING",
    )

    def summaries(cards: list[PaperCard]) -> list[dict[str, Any]]:
        return [_summary(c, base_url) for c in cards]

    def caller(ctx: Context | None):
        from paperwire.services.accounts.api_tokens import user_for_api_token

        raw = token
        headers = None
        if ctx is not None:
            try:
                headers = ctx.headers  # None on stdio
            except ValueError:  # no request context (called outside a request)
                headers = None
        if headers:
            authorization = headers.get("authorization") or ""
            if authorization[:7].lower() == "bearer ":
                raw = authorization[7:].strip()
        if not raw:
            raise ToolError(
                "This tool needs an API token: send 'Authorization: Bearer pw_...' over HTTP, "
                "or set PAPERWIRE_MCP_TOKEN (or paperwire mcp --token) for stdio. Create one "
                "in Settings on the site or with `paperwire user token`."
            )
        user = user_for_api_token(container.engine, raw)
        if user is None:
            raise ToolError("The API token is invalid or revoked; create a new one in Settings.")
        return user

    @server.tool(
        title="Search papers",
        description=(
            "Search the papers on this server by topic, title words or author names. "
            "mode: 'hybrid' (default, keywords + meaning), 'keyword' (exact words; supports "
            "\"quoted phrases\", -exclusions, OR), or 'semantic' (meaning only). Optional "
            "filters narrow by publication date, arXiv category, author, organization or "
            "having code. Returns the best matches first with id, title, authors, date and "
            "a short summary; call get_paper for one paper's full text."
        ),
    )
    def search_papers(
        query: Annotated[str, Field(min_length=1, max_length=MAX_QUERY,
                                    description="What to look for.")],
        mode: Annotated[Literal["hybrid", "keyword", "semantic"],
                        Field(description="How to match.")] = "hybrid",
        limit: Annotated[int, Field(ge=1, le=50, description="How many results.")] = 10,
        published_after: Annotated[str | None, Field(
            description="Only papers published on or after this date (YYYY-MM-DD).")] = None,
        published_before: Annotated[str | None, Field(
            description="Only papers published on or before this date (YYYY-MM-DD).")] = None,
        category: Annotated[str | None, Field(
            max_length=40, description="arXiv category such as cs.CL.")] = None,
        author: Annotated[str | None, Field(
            max_length=300, description="An author's name.")] = None,
        organization: Annotated[str | None, Field(
            max_length=200, description="Organization slug such as nvidia.")] = None,
        has_code: Annotated[bool, Field(
            description="Only papers with a code repository.")] = False,
    ) -> dict[str, Any]:
        from paperwire.web.routes.search_pages import run_search

        filters = {
            "after": _date("published_after", published_after),
            "before": _date("published_before", published_before),
            "category": category, "author": author, "organization": organization,
            "has_code": has_code,
        }
        try:
            outcome = run_search(container, query, mode=mode, limit=limit, filters=filters)
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        return {
            "query": query, "mode": outcome.mode, "total": outcome.total,
            "notice": outcome.notice, "papers": summaries([card for card, _ in outcome.items]),
        }

    @server.tool(
        title="Daily papers",
        description=(
            "The daily paper feed (as on Hugging Face's Daily Papers) for one day, one ISO "
            "week or one month; give at most one of date, week, month (none: the latest day "
            "with papers). Sorted by upvotes by default, or by publication time, or by "
            "trending score. Paged with page and limit."
        ),
    )
    def daily_papers(
        date: Annotated[str | None, Field(max_length=40, description="A day, YYYY-MM-DD.")] = None,
        week: Annotated[str | None, Field(
            max_length=40, description="An ISO week, YYYY-Www such as 2025-W24.")] = None,
        month: Annotated[str | None, Field(max_length=40, description="A month, YYYY-MM.")] = None,
        sort: Annotated[Literal["upvotes", "publishedAt", "trending"],
                        Field(description="Order of the papers.")] = "upvotes",
        limit: Annotated[int, Field(ge=1, le=100, description="Papers per page.")] = 20,
        page: Annotated[int, Field(ge=0, le=10_000, description="Page, from 0.")] = 0,
    ) -> dict[str, Any]:
        today = datetime.now(UTC).date()
        try:
            period = parse_period(day=date, week=week, month=month, today=today)
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        with container.engine.connect() as conn:
            if period is None:
                latest = feed_service.latest_feed_day(conn)
                period = day_period(latest) if latest else None
            feed = feed_service.feed_page(conn, period, sort=sort, page=page, limit=limit)
        return {
            "period": period.key if period else None, "total": feed.total, "page": page,
            "papers": summaries(feed.papers),
        }

    @server.tool(
        title="Trending papers",
        description=(
            "Papers trending on this server now: recent feed papers ranked by upvotes and "
            "GitHub stars with time decay (the site's Trending page)."
        ),
    )
    def trending_papers(
        limit: Annotated[int, Field(ge=1, le=100, description="How many papers.")] = 20,
    ) -> dict[str, Any]:
        with container.engine.connect() as conn:
            result = feed_service.trending_page(conn, limit=limit)
        papers = []
        for card, score in result.items:
            papers.append(_summary(card, base_url) | {"trendingScore": round(score.score, 4)})
        return {"windowDays": result.window_days, "papers": papers}

    @server.tool(
        title="Get a paper",
        description=(
            "One paper as Markdown: title, authors, links, dates, AI summary and keywords "
            "when present, the abstract, and the full text converted from arXiv's HTML "
            "rendering when it is available (the document says when it is not)."
        ),
    )
    def get_paper(paper_id: PaperId) -> str:
        arxiv_id = _paper_id(paper_id)
        document = container.fulltext.paper_markdown(arxiv_id)
        if document is None:
            raise ToolError(f"Paper {arxiv_id} not found.")
        return document

    @server.tool(
        title="Similar papers",
        description="Papers most like the given one (by title and abstract), best first.",
    )
    def similar_papers(
        paper_id: PaperId,
        limit: Annotated[int, Field(ge=1, le=50, description="How many papers.")] = 10,
    ) -> dict[str, Any]:
        arxiv_id = _paper_id(paper_id)
        with container.engine.connect() as conn:
            if not paper_service.cards_by_id(conn, [arxiv_id]):
                raise ToolError(f"Paper {arxiv_id} not found.")
        try:
            hits = container.search.similar(arxiv_id, limit=limit)
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        ids = [h.paper_id for h in hits if h.paper_id != arxiv_id]
        with container.engine.connect() as conn:
            cards = paper_service.cards_by_id(conn, ids)
        return {"paperId": arxiv_id, "papers": summaries([cards[i] for i in ids if i in cards])}

    _add_library_tools(server, container, caller, summaries)
    return server


def _add_library_tools(server: MCPServer, container, caller, summaries) -> None:
    """The caller's library (services/library)."""
    from paperwire.services.community.common import CommunityError
    from paperwire.services.library import browse, collections, saved

    @server.tool(
        title="Save a paper",
        description=(
            "Save a paper to your Paperwire library (needs an API token). Saving twice is "
            "harmless. Returns the paper's state in your library."
        ),
    )
    def save_paper(paper_id: PaperId, ctx: Context) -> dict[str, Any]:
        user = caller(ctx)
        arxiv_id = _paper_id(paper_id)
        with container.engine.connect() as conn:
            if not paper_service.cards_by_id(conn, [arxiv_id]):
                raise ToolError(f"Paper {arxiv_id} not found.")
        try:
            state = saved.save_paper(container.engine, user, arxiv_id)
        except CommunityError as exc:
            raise ToolError(exc.message) from None
        return state.as_json()

    @server.tool(
        title="My library",
        description=(
            "Papers in your Paperwire library, newest saved first (needs an API token). "
            "query searches within the library; tag and collection_id narrow it."
        ),
    )
    def my_library(
        ctx: Context,
        query: Annotated[str, Field(max_length=MAX_QUERY, description="Search words.")] = "",
        tag: Annotated[str | None, Field(max_length=100, description="Only this tag.")] = None,
        collection_id: Annotated[int | None, Field(
            ge=1, description="Only this collection (ids from my_collections).")] = None,
        limit: Annotated[int, Field(ge=1, le=100, description="How many papers.")] = 20,
        offset: Annotated[int, Field(ge=0, le=100_000, description="Skip this many.")] = 0,
    ) -> dict[str, Any]:
        user = caller(ctx)
        q = browse.LibraryQuery(q=query, tag=tag, collection_id=collection_id, limit=limit,
                                offset=offset)
        try:
            page = browse.library_page(container.engine, container.search, user, q)
        except CommunityError as exc:
            raise ToolError(exc.message) from None
        return {"total": page.total, "papers": summaries([card for card, _ in page.entries])}

    @server.tool(
        title="For you",
        description=(
            "New papers picked for you from your library, follows and keywords, each with "
            "the reasons it was picked (needs an API token). since: the first day to "
            "consider (YYYY-MM-DD; default: the last week). While your library is small "
            "(cold start) trending papers are added."
        ),
    )
    def for_you(
        ctx: Context,
        since: Annotated[str | None, Field(
            max_length=40, description="First day to consider, YYYY-MM-DD.")] = None,
        limit: Annotated[int, Field(ge=1, le=50, description="How many papers.")] = 20,
    ) -> dict[str, Any]:
        from paperwire.web.routes.for_you import build_feed

        user = caller(ctx)
        try:
            feed = build_feed(container, user, since)
        except CommunityError as exc:
            raise ToolError(exc.message) from None
        papers = [
            _summary(card, container.settings.base_url)
            | {"score": round(pick.score, 6), "reasons": list(pick.reasons)}
            for card, pick in feed.picks[:limit]
        ]
        return {
            "since": feed.since.isoformat(), "coldStart": feed.cold_start,
            "advice": feed.advice, "papers": papers,
            "trending": summaries(feed.trending[:limit]),
        }

    @server.tool(
        title="My collections",
        description="Your collections in Paperwire (needs an API token): id, name, size.",
    )
    def my_collections(ctx: Context) -> dict[str, Any]:
        user = caller(ctx)
        views = collections.list_collections(container.engine, user.id, user)
        return {
            "collections": [
                {"id": v.id, "name": v.name, "description": v.description,
                 "public": v.is_public, "size": v.size}
                for v in views
            ]
        }


def transport_security(base_url: str) -> TransportSecuritySettings:
    """DNS-rebinding protection that also admits the site's own public host."""
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", "testserver"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    parts = urlsplit(base_url)
    if parts.hostname and parts.hostname not in ("127.0.0.1", "localhost"):
        hosts += [parts.netloc, f"{parts.hostname}:*", parts.hostname]
        origins += [f"{parts.scheme}://{parts.netloc}"]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


class HttpEndpoint:
    """The streamable HTTP endpoint at /mcp (stateless, JSON answers, so any web process
    can serve any request). The SDK's session manager runs once per instance, so each
    run of the app's lifespan (`running()`) builds a fresh server; outside it the
    endpoint answers 503 with a sentence."""

    def __init__(self, container) -> None:
        self._container = container
        self._app = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        server = build_mcp_server(self._container)
        app = server.streamable_http_app(
            streamable_http_path="/mcp", stateless_http=True, json_response=True,
            transport_security=transport_security(self._container.settings.base_url),
        )
        async with server.session_manager.run():
            self._app = app
            try:
                yield
            finally:
                self._app = None

    async def __call__(self, scope, receive, send) -> None:
        if self._app is None:
            response = JSONResponse(
                {"error": "The MCP endpoint is not running in this process (it starts with "
                          "the app's lifespan, as under `paperwire serve`)."},
                status_code=503,
            )
            await response(scope, receive, send)
            return
        await self._app(scope, receive, send)
