"""Hugging Face `/api/daily_papers` responses -> domain records.

One parser for both the bulk files (`hf-daily-papers/YYYY-MM-DD.json`) and the
live API. It copes with the two corrupt shapes seen in real data: items that
are Python-repr strings instead of objects (recovered with `ast.literal_eval`,
never `eval`) and a `{status, date, count, data}` wrapper instead of a list.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import orjson

from paperwire.clock import aware_utc
from paperwire.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.domain.links import find_github_repo, find_project_page
from paperwire.domain.records import (
    DailyEntryRecord,
    OrganizationRecord,
    PaperRecord,
    Rejected,
    SourceItem,
)
from paperwire.domain.text import normalize_abstract, normalize_title
from paperwire.domain.urls import safe_url

SOURCE = "hf"
_SOURCES = frozenset({SOURCE})
# Repr strings longer than this are refused rather than parsed (a safety bound).
_MAX_REPR_CHARS = 2_000_000


class BadItem(ValueError):
    """An item that cannot be turned into a paper; the message is the reason."""


def parse_daily_response(
    payload: object, *, fetched_for: date | None, origin: str
) -> Iterator[SourceItem | Rejected]:
    """Yield one SourceItem or Rejected per item of a decoded daily-papers response.

    `fetched_for` is the day the response was fetched for (file name or the
    API's `date=`); a wrapper's own `date` wins over it. Items are numbered
    from 1 in `Rejected.where`, e.g. "2025-01-10.json item 7".
    """
    try:
        items, wrapper_day = unwrap_response(payload)
    except BadItem as exc:
        yield Rejected(origin, str(exc))
        return
    default_day = wrapper_day or fetched_for
    for number, raw in enumerate(items, start=1):
        try:
            yield parse_item(raw, default_day=default_day, position=number)
        except BadItem as exc:
            yield Rejected(f"{origin} item {number}", str(exc))


def unwrap_response(payload: object) -> tuple[list[Any], date | None]:
    """Return the item list and the wrapper's date (None for a plain list)."""
    if isinstance(payload, list):
        return payload, None
    if isinstance(payload, dict):
        data = payload.get("data")
        if not isinstance(data, list):
            if payload.get("error"):
                raise BadItem(f"the response is an error: {str(payload['error'])[:200]}")
            raise BadItem("an object without a 'data' list is not a daily-papers response")
        day = payload.get("date")
        return data, _parse_day(day) if isinstance(day, str) else None
    raise BadItem(f"expected a list of items, got {type(payload).__name__}")


def recover_item(raw: object) -> dict[str, Any]:
    """Return the item as a dict, recovering JSON or Python-repr strings safely."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        raise BadItem(f"an item must be an object, got {type(raw).__name__}")
    text = raw.strip()
    if not text.startswith("{"):
        raise BadItem("a string item that is not an object")
    if len(text) > _MAX_REPR_CHARS:
        raise BadItem("a string item too long to recover safely")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
            reason = f"a string item that is not a Python literal ({type(exc).__name__})"
            raise BadItem(reason) from None
    if not isinstance(value, dict):
        raise BadItem("a string item that is not an object")
    return value


def parse_item(
    raw: object, *, default_day: date | None, position: int | None = None
) -> SourceItem:
    """Map one daily-papers item to a paper and its daily entry.

    `position` is the item's place in its response (1 = first): Hugging Face orders
    a day by upvotes, then by this order.
    """
    item = recover_item(raw)
    paper = item.get("paper")
    if not isinstance(paper, dict):
        if "id" not in item:
            raise BadItem("the item has no 'paper' object")
        paper = item  # a bare paper object
    raw_id = paper.get("id")
    if not isinstance(raw_id, str):
        raise BadItem("the paper has no id")
    try:
        arxiv_id = parse_arxiv_id(raw_id)
    except InvalidArxivId as exc:
        raise BadItem(str(exc)) from None
    title = normalize_title(_text(paper.get("title")) or _text(item.get("title")))
    if not title:
        raise BadItem(f"paper {arxiv_id.id} has no title")
    abstract = normalize_abstract(_text(paper.get("summary")) or _text(item.get("summary")))

    dropped = 0
    github_repo = _github(paper.get("githubRepo"))
    if github_repo is None and _text(paper.get("githubRepo")):
        dropped += 1
    github_repo = github_repo or find_github_repo(abstract)
    project_page = safe_url(paper.get("projectPage"))
    if project_page is None and _text(paper.get("projectPage")):
        dropped += 1
    project_page = project_page or find_project_page(abstract)
    organization = _organization(paper.get("organization")) or _organization(
        item.get("organization")
    )
    if organization is not None:
        dropped += organization[1]
    record = PaperRecord(
        id=arxiv_id.id,
        version=arxiv_id.version,
        title=title,
        abstract=abstract,
        authors=_authors(paper.get("authors")),
        published_at=_parse_time(paper.get("publishedAt")) or _parse_time(item.get("publishedAt")),
        github_repo=github_repo,
        project_page=project_page or None,
        github_stars=_int_or_none(paper.get("githubStars")),
        ai_summary=_text(paper.get("ai_summary")) or None,
        ai_keywords=_keywords(paper.get("ai_keywords")),
        organization=organization[0] if organization else None,
        sources=_SOURCES,
        source_upvotes=_int_or_none(paper.get("upvotes")) or 0,
        source_comments=_int_or_none(item.get("numComments")) or 0,
    )
    entry = _daily_entry(record.id, paper, item, default_day, position)
    dropped += bool(_text(item.get("thumbnail"))) and (entry is None or entry.thumbnail is None)
    return SourceItem(record, entry, links_dropped=dropped)


def _daily_entry(
    paper_id: str, paper: dict, item: dict, default_day: date | None, position: int | None
) -> DailyEntryRecord | None:
    submitted_at = _parse_time(paper.get("submittedOnDailyAt"))
    day = submitted_at.date() if submitted_at else default_day
    if day is None:
        return None
    by, by_name = None, None
    daily_by = paper.get("submittedOnDailyBy")
    if isinstance(daily_by, dict):
        by, by_name = _text(daily_by.get("user")), _text(daily_by.get("fullname"))
    submitter = item.get("submittedBy")
    if isinstance(submitter, dict):
        by = by or _text(submitter.get("name")) or _text(submitter.get("user"))
        by_name = by_name or _text(submitter.get("fullname"))
    return DailyEntryRecord(
        paper_id=paper_id,
        day=day,
        source=SOURCE,
        submitted_by=by or None,
        submitted_by_name=by_name or None,
        submitted_at=submitted_at,
        thumbnail=safe_url(item.get("thumbnail"), allow_relative=False),
        published_at=_parse_time(item.get("publishedAt")),
        submitter=_submitter(item.get("submittedBy"), daily_by),
        source_position=position if position and position > 0 else None,
    )


# Submitter fields kept from the source, and the type each must have.
_SUBMITTER_TEXT = {"_id": 64, "name": 200, "fullname": 300, "type": 20}
_SUBMITTER_FLAGS = ("isPro", "isHf", "isHfAdmin", "isMod")
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")


def _submitter(item_by: object, daily_by: object) -> dict[str, str | int | bool] | None:
    """The submitter's fields, from the item's `submittedBy` and the paper's
    `submittedOnDailyBy` (the item's win), as sanitised plain values.

    Text is trimmed and length-bounded, `name` must look like a username, flags must
    be booleans, `followerCount` a non-negative integer, `avatarUrl` a safe URL (or a
    site-relative path, as Hugging Face gives it). Anything else is dropped.
    """
    merged: dict[str, object] = {}
    for source in (daily_by, item_by):
        if isinstance(source, dict):
            merged |= {k: v for k, v in source.items() if v is not None}
    if not merged:
        return None
    if "name" not in merged and "user" in merged:
        merged["name"] = merged["user"]
    out: dict[str, str | int | bool] = {}
    for key, limit in _SUBMITTER_TEXT.items():
        text = " ".join(_text(merged.get(key)).split())
        if text and len(text) <= limit and text.isprintable():
            out[key] = text
    if "name" in out and not _USERNAME.fullmatch(str(out["name"])):
        del out["name"]
    avatar = safe_url(merged.get("avatarUrl"), allow_relative=True)
    if avatar:
        out["avatarUrl"] = avatar
    for flag in _SUBMITTER_FLAGS:
        if isinstance(merged.get(flag), bool):
            out[flag] = merged[flag]
    followers = merged.get("followerCount")
    if isinstance(followers, int) and not isinstance(followers, bool) and followers >= 0:
        out["followerCount"] = followers
    return out or None


def _authors(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    names = []
    for author in value:
        name = author.get("name") if isinstance(author, dict) else author
        if isinstance(name, str) and (clean := " ".join(name.split())):
            names.append(clean)
    return tuple(names)


def _keywords(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(k.strip() for k in value if isinstance(k, str) and k.strip())


def _organization(value: object) -> tuple[OrganizationRecord, int] | None:
    """The organization and how many of its links were refused (0 or 1)."""
    if not isinstance(value, dict):
        return None
    name = _text(value.get("name"))
    if not name:
        return None
    raw_avatar = _text(value.get("avatar")) or _text(value.get("avatarUrl"))
    avatar = safe_url(raw_avatar)
    record = OrganizationRecord(
        name=name, fullname=_text(value.get("fullname")) or None, avatar_url=avatar
    )
    return record, int(bool(raw_avatar) and avatar is None)


def _github(value: object) -> str | None:
    """A GitHub repository URL, or the text itself if it is another safe http(s) link."""
    text = _text(value)
    if not text:
        return None
    return find_github_repo(text) or safe_url(text)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _parse_time(value: object) -> datetime | None:
    """Parse an ISO timestamp such as 2025-06-10T00:43:01.816Z as aware UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return aware_utc(moment)


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
