"""Live Hugging Face daily papers: `GET {hf_api_url}/api/daily_papers?date=YYYY-MM-DD`.

The responses have the same shape as the bulk files, so they go through the
same parser (`hf_daily.parse_daily_response`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import orjson

from paperwire.domain.records import Rejected, SourceItem
from paperwire.sources.hf_daily import parse_daily_response
from paperwire.sources.http_client import HttpClient


def daily_papers_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/api/daily_papers"


def fetch_daily(client: HttpClient, base_url: str, day: date) -> Iterator[SourceItem | Rejected]:
    """Fetch and parse the daily-papers page of one day (an empty day yields nothing)."""
    payload = client.get(
        daily_papers_url(base_url),
        {"date": day.isoformat()},
        decode=orjson.loads,
        accept="application/json",
    )
    yield from parse_daily_response(payload, fetched_for=day, origin=f"hf {day.isoformat()}")


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
