"""Rendering digests and subscription mails to text + HTML (inline CSS) from templates."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from paperwire.domain.digest_selection import Digest, DigestEntry, DigestPaper
from paperwire.domain.urls import safe_url

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "web" / "templates"
SUBJECT_MAX = 68


@dataclass(frozen=True, slots=True)
class MailLinks:
    """Links every mail to a subscriber carries."""

    site: str
    settings: str
    unsubscribe: str


@lru_cache(maxsize=1)
def mail_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["two_lines"] = two_lines
    env.filters["author_line"] = author_line
    env.filters["checked_url"] = lambda value: safe_url(value) or ""
    return env


def two_lines(text: str, width: int = 90) -> str:
    """The abstract cut at a word to about two lines, ending in an ellipsis when cut."""
    flat = " ".join((text or "").split())
    limit = width * 2
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 2].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return f"{cut} …"


def author_line(authors: tuple[str, ...], shown: int = 4) -> str:
    if len(authors) <= shown:
        return ", ".join(authors)
    return f"{', '.join(authors[:shown])} and {len(authors) - shown} more"


def one_line(text: str) -> str:
    """Collapse all whitespace (line breaks included) for use in a header."""
    return " ".join((text or "").split())


def digest_subject(site_name: str, digest: Digest) -> str:
    first = next((s.entries[0].paper for s in digest.sections if s.entries), None)
    day = f"{digest.digest_date:%a %d %b %Y}"
    if first is None:
        return one_line(f"{site_name} digest, {day}")
    prefix = one_line(f"{site_name} digest, {day}:") + " "
    title = one_line(first.title)
    room = max(10, SUBJECT_MAX - len(prefix))  # one header line: no folding in clients
    if len(title) > room:
        title = title[: room - 1].rstrip() + "…"
    return prefix + title


def render_digest(
    *, site_name: str, base_url: str, digest: Digest, links: MailLinks, email: str,
    fragments: dict[tuple[str, str | None, str], str] | None = None,
) -> tuple[str, str, str]:
    """(subject, text, html) of one digest.

    Each paper's block is rendered once into `fragments` (pass the same dict for
    every subscriber of a run) and reused by the mails that show it.
    """
    env = mail_environment()
    cache = fragments if fragments is not None else {}
    url = lambda paper: paper_url(base_url, paper)  # noqa: E731

    def fragment(entry: DigestEntry, kind: str) -> str:
        key = (entry.paper.id, entry.reason, kind)
        found = cache.get(key)
        if found is None:
            found = env.get_template(f"digest/_entry.{kind}").render(entry=entry, paper_url=url)
            if kind == "html":
                found = Markup(found)
            cache[key] = found
        return found

    context = {
        "site_name": site_name,
        "digest": digest,
        "links": links,
        "email": email,
        "fragment": fragment,
        "paper_count": len(digest.paper_ids),
    }
    text = env.get_template("digest/digest.txt").render(context)
    html = env.get_template("digest/digest.html").render(context)
    return digest_subject(site_name, digest), text, html


def paper_url(base_url: str, paper: DigestPaper) -> str:
    return f"{base_url.rstrip('/')}/papers/{paper.id}"


def render_confirmation(*, site_name: str, confirm_url: str, settings_url: str | None,
                        already_confirmed: bool, email: str) -> tuple[str, str, str]:
    env = mail_environment()
    context = {"site_name": site_name, "confirm_url": confirm_url, "settings_url": settings_url,
               "already_confirmed": already_confirmed, "email": email}
    subject = (f"Your {site_name} digest settings" if already_confirmed
               else f"Confirm your {site_name} digest subscription")
    return (one_line(subject), env.get_template("digest/confirm.txt").render(context),
            env.get_template("digest/confirm.html").render(context))
