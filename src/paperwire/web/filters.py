"""Jinja filters for the site's templates (installed once on the shared environment)."""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import quote

from jinja2 import Environment
from markupsafe import Markup, escape

from paperwire.domain.urls import safe_url


def short_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%-d %b %Y")


def compact(value: int | float | None) -> str:
    if value is None:
        return "0"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return str(int(value))


def path_segment(value: str) -> str:
    """Quote text for use as one URL path segment (names with spaces, slashes, quotes)."""
    return quote(value or "", safe="")


def query_terms(query: str) -> list[str]:
    """Words of a search query worth highlighting (quotes and operators dropped)."""
    words = re.findall(r"[\w][\w\-\.]*", query or "")
    return sorted({w for w in words if len(w) > 1}, key=len, reverse=True)[:12]


def highlight(text: str, query: str) -> Markup:
    """Escape `text`, then wrap the query's words in <mark> (case-insensitive, word starts)."""
    terms = query_terms(query)
    safe = str(escape(text or ""))
    if not terms:
        return Markup(safe)
    pattern = re.compile(
        r"(?<![&#])\b(" + "|".join(re.escape(str(escape(t))) for t in terms) + r")", re.IGNORECASE
    )
    return Markup(pattern.sub(r"<mark>\1</mark>", safe))


def thousands(value: int | float | None) -> str:
    """12345 -> "12,345" (the site's numbers are counts)."""
    if value is None:
        return "0"
    return f"{int(value):,}"


_LINKIFY = None


def _linkifier():
    global _LINKIFY
    if _LINKIFY is None:
        from linkify_it import LinkifyIt

        # Only links a reader wrote out: http(s) URLs and www. hosts, no bare "fuzzy" domains
        # (abstracts mention "e.g." and file names like model.py).
        _LINKIFY = LinkifyIt(options={"fuzzy_link": False, "fuzzy_email": False})
    return _LINKIFY


def linkify(text: str | None) -> Markup:
    """Escape `text`, with the http(s) URLs in it as links (rel="nofollow noopener")."""
    text = text or ""
    matches = _linkifier().match(text) or []
    out, at = [], 0
    for m in matches:
        if not m.url.lower().startswith(("http://", "https://")) or not safe_url(m.url):
            continue
        out.append(str(escape(text[at : m.index])))
        out.append(
            str(
                Markup('<a href="{}" rel="nofollow noopener">{}</a>').format(
                    m.url, text[m.index : m.last_index]
                )
            )
        )
        at = m.last_index
    out.append(str(escape(text[at:])))
    return Markup("".join(out))


def checked_url(value: object) -> str:
    """The last guard before `href`/`src`: the URL if `safe_url` accepts it, else ''."""
    return safe_url(value) or ""


def install(env: Environment) -> None:
    env.filters.update(
        short_date=short_date,
        compact=compact,
        path_segment=path_segment,
        highlight=highlight,
        thousands=thousands,
        linkify=linkify,
        checked_url=checked_url,
    )
