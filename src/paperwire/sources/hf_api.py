"""Live Hugging Face daily papers: `GET {hf_api_url}/api/daily_papers?date=YYYY-MM-DD`.

The responses have the same shape as the bulk files, so they go through the
same parser (`hf_daily.parse_daily_response`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import count

import orjson

from paperwire.domain.records import Rejected, SourceItem
from paperwire.sources.hf_daily import parse_daily_response
from paperwire.sources.http_client import HttpClient

# The API's default and documented page size.
PAGE_SIZE = 50


def daily_papers_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/api/daily_papers"


def fetch_daily(
    client: HttpClient, base_url: str, day: date, *, page_size: int = PAGE_SIZE
) -> Iterator[SourceItem | Rejected]:
    """Fetch and parse the daily-papers page of one day (an empty day yields nothing).

    The API pages its answer (`limit`, default 50, and page number `p`): a full
    page is followed by the next one, until a short or empty page, or a page
    that brings no paper not seen already (a server that ignores `p`).
    """
    seen: set[str] = set()
    for page in count():
        params: dict[str, str | int] = {"date": day.isoformat(), "limit": page_size}
        if page:
            params["p"] = page
        payload = client.get(
            daily_papers_url(base_url), params, decode=orjson.loads, accept="application/json"
        )
        origin = f"hf {day.isoformat()}" + (f" page {page + 1}" if page else "")
        fresh = 0
        for item in parse_daily_response(payload, fetched_for=day, origin=origin):
            if isinstance(item, SourceItem):
                if item.paper.id in seen:
                    continue
                seen.add(item.paper.id)
                fresh += 1
            yield item
        if _item_count(payload) < page_size or fresh == 0:
            return


def _item_count(payload: object) -> int:
    if isinstance(payload, list):
        return len(payload)
    if isinstance(payload, dict) and isinstance(payload.get("data"), list):
        return len(payload["data"])
    return 0


def fetch_days(
    client: HttpClient, base_url: str, since: date, until: date | None = None
) -> Iterator[SourceItem | Rejected]:
    """Fetch every day from `since` to `until` (default: today, UTC), oldest first."""
    for day in days_between(since, until or datetime.now(UTC).date()):
        yield from fetch_daily(client, base_url, day)


def days_between(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
