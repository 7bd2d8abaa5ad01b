"""The MCP server through the SDK's own client, over streamable HTTP (/mcp) and stdio.

Each tool is called and its answer checked against the database; bad arguments, a
missing paper, no token and a revoked token are tool errors with a sentence (or, over
HTTP, the site's own 401 for a revoked bearer), and the server keeps serving.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from paperwire.domain.periods import parse_period
from paperwire.services import feeds as feed_service
from paperwire.services import papers as paper_service
from paperwire.services.accounts.api_tokens import (
    create_api_token,
    list_api_tokens,
    revoke_api_token,
)
from paperwire.services.accounts.users import create_user
from tests.web.live_server import live_server

PAPERWIRE = Path(sys.executable).with_name("paperwire")
TOOLS = {"search_papers", "daily_papers", "trending_papers", "get_paper", "similar_papers",
         "save_paper", "my_library", "my_collections", "for_you"}


@pytest.fixture
def user_token(seeded):
    user = create_user(seeded.engine, username="agentuser", email="agent@example.org",
                       password="a long enough password 1", verified=True)
    return user, create_api_token(seeded.engine, user.id, "mcp test")


def _http_client(url: str, token: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(streamable_http_client(f"{url}/mcp", http_client=httpx2.AsyncClient(
        headers=headers, timeout=60)))


def _stdio_client(container, token: str | None) -> Client:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")}
    env |= {
        "PAPERWIRE_DATABASE_URL": container.settings.database_url,
        "PAPERWIRE_DATA_DIR": str(container.settings.data_dir),
        "PAPERWIRE_CONFIG": str(container.settings.data_dir / "absent.toml"),
        "PAPERWIRE_EMBEDDER": "none", "PAPERWIRE_FULLTEXT_FETCH": "false",
    }
    if token:
        env["PAPERWIRE_MCP_TOKEN"] = token
    return Client(StdioServerParameters(command=str(PAPERWIRE), args=["mcp"], env=env))


def _run(body: Callable[[], Awaitable[None]]) -> None:
    # A thread of its own: Playwright's sync API (browser tests on the same xdist worker)
    # keeps an event loop running in the main thread, where anyio.run would refuse.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, body).result()


def _data(result) -> dict:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content.get("result", result.structured_content)
    return json.loads(result.content[0].text)


def _text(result) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def _feed_ids(container, *, sort="upvotes", limit=20, **period) -> list[str]:
    with container.engine.connect() as conn:
        chosen = parse_period(**period, today=date.today()) if period else None
        if chosen is None:
            latest = feed_service.latest_feed_day(conn)
            chosen = parse_period(day=latest.isoformat(), today=date.today())
        return [c.id for c in feed_service.feed_page(conn, chosen, sort=sort, limit=limit).papers]


async def _exercise(client: Client, db, user) -> None:
    """Every tool, answers checked against the database; errors as sentences."""
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert len(tool.description) > 40 and tool.input_schema["type"] == "object"
    schema = tools["search_papers"].input_schema["properties"]
    assert schema["query"]["maxLength"] == 500 and set(schema["mode"]["enum"]) == {
        "hybrid", "keyword", "semantic"}

    day = _data(await client.call_tool("daily_papers", {"date": "2025-06-16"}))
    assert [p["id"] for p in day["papers"]] == _feed_ids(db, day="2025-06-16")
    week = _data(await client.call_tool("daily_papers", {"week": "2025-W24", "limit": 50}))
    assert [p["id"] for p in week["papers"]] == _feed_ids(db, week="2025-W24", limit=50)
    latest = _data(await client.call_tool("daily_papers", {}))
    assert [p["id"] for p in latest["papers"]] == _feed_ids(db)

    trending = _data(await client.call_tool("trending_papers", {"limit": 5}))
    with db.engine.connect() as conn:
        expected = [c.id for c, _ in feed_service.trending_page(conn, limit=5).items]
    assert [p["id"] for p in trending["papers"]] == expected

    found = _data(await client.call_tool(
        "search_papers", {"query": "gaussian splatting scene editing", "mode": "keyword",
                          "limit": 3}))
    assert found["papers"] and found["papers"][0]["id"] == "0001.0004"

    paper = await client.call_tool("get_paper", {"paper_id": "2506.11924v2"})
    assert not paper.is_error
    with db.engine.connect() as conn:
        card = paper_service.cards_by_id(conn, ["2506.11924"])["2506.11924"]
    assert "## Abstract" in _text(paper) and card.ai_summary in _text(paper)

    similar = await client.call_tool("similar_papers", {"paper_id": "0001.0004", "limit": 3})
    assert not similar.is_error and _data(similar)["paperId"] == "0001.0004"

    # Bad input and missing papers: tool errors with a sentence; the session goes on.
    for name, args, message in [
        ("get_paper", {"paper_id": "2101.00001"}, "Paper 2101.00001 not found."),
        ("get_paper", {"paper_id": "not-an-id"}, "is not an arXiv id"),
        ("similar_papers", {"paper_id": "2101.00001"}, "Paper 2101.00001 not found."),
        ("search_papers", {"query": "x" * 501}, "500"),
        ("search_papers", {"query": "ok", "limit": "ten"}, "limit"),
        ("search_papers", {"query": "ok", "published_after": "yesterday"}, "2025-06-16"),
        ("daily_papers", {"date": "2025-02-30"}, "2025-02-30"),
        ("daily_papers", {"date": "2025-06-16", "month": "2025-06"}, ""),
        ("daily_papers", {"sort": "random"}, "sort"),
        ("no_such_tool", {}, "no_such_tool"),
    ]:
        result = await client.call_tool(name, args)
        assert result.is_error, (name, args)
        assert message in _text(result) and _text(result).strip(), (name, _text(result))

    if user is None:
        refused = await client.call_tool("save_paper", {"paper_id": "2506.11924"})
        assert refused.is_error and "needs an API token" in _text(refused)
        return
    saved = _data(await client.call_tool("save_paper", {"paper_id": "2506.11924"}))
    assert saved["saved"] is True
    library = _data(await client.call_tool("my_library", {}))
    assert [p["id"] for p in library["papers"]] == ["2506.11924"] and library["total"] == 1
    collections = _data(await client.call_tool("my_collections", {}))
    assert collections["collections"] == []
    feed = _data(await client.call_tool("for_you", {}))
    assert feed["coldStart"] is True and feed["advice"]  # one saved paper: still a cold start
    with db.engine.connect() as conn:
        trending_ids = {c.id for c, _ in feed_service.trending_page(conn, limit=30).items}
    assert feed["trending"] and {p["id"] for p in feed["trending"]} <= trending_ids
    bad_since = await client.call_tool("for_you", {"since": "last week"})
    assert bad_since.is_error and "YYYY-MM-DD" in _text(bad_since)
    missing = await client.call_tool("save_paper", {"paper_id": "2101.00001"})
    assert missing.is_error and "Paper 2101.00001 not found." in _text(missing)


@pytest.fixture
def site(seeded):
    with live_server(seeded, lifespan="on") as url:
        yield url


def test_http_transport_every_tool_with_a_token(site, seeded, user_token):
    user, token = user_token

    async def body():
        async with _http_client(site, token) as client:
            await _exercise(client, seeded, user)

    _run(body)


def test_http_transport_without_a_token_and_with_a_revoked_one(site, seeded, user_token):
    user, token = user_token

    async def anonymous():
        async with _http_client(site) as client:
            await _exercise(client, seeded, None)

    _run(anonymous)
    (active,) = list_api_tokens(seeded.engine, user.id)
    assert revoke_api_token(seeded.engine, user.id, active.id)

    async def revoked():
        async with _http_client(site, token) as client:
            refused = await client.call_tool("save_paper", {"paper_id": "2506.11924"})
            assert refused.is_error and "invalid or revoked" in _text(refused)
            # The same session goes on: public tools still answer.
            assert not (await client.call_tool("trending_papers", {"limit": 1})).is_error

    _run(revoked)
    # Elsewhere on the site a revoked bearer is still a 401.
    api = httpx2.get(f"{site}/api/papers", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


def test_stdio_transport_every_tool_and_a_revoked_token(seeded, user_token):
    user, token = user_token

    async def body():
        async with _stdio_client(seeded, token) as client:
            await _exercise(client, seeded, user)
            (active,) = list_api_tokens(seeded.engine, user.id)
            assert revoke_api_token(seeded.engine, user.id, active.id)
            refused = await client.call_tool("my_library", {})
            assert refused.is_error and "invalid or revoked" in _text(refused)
            # The session survives: public tools still answer.
            assert not (await client.call_tool("trending_papers", {"limit": 1})).is_error

    _run(body)


def test_stdio_without_a_token(seeded):
    async def body():
        async with _stdio_client(seeded, None) as client:
            refused = await client.call_tool("my_collections", {})
            assert refused.is_error and "needs an API token" in _text(refused)

    _run(body)


def test_mcp_refuses_foreign_origins(site):
    response = httpx2.post(
        f"{site}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"Origin": "https://evil.example", "Accept": "application/json, text/event-stream"},
    )
    assert response.status_code in (400, 403)

