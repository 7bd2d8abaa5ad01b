"""Find code and project links in free text (abstracts, comments)."""

from __future__ import annotations

import re

from paperwire.domain.urls import safe_url

_GITHUB = re.compile(r"https?://(?:www\.)?github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)", re.I)
_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+", re.I)
_TRAILING = ".,;:!?)]}'\""
_NOT_PROJECT_HOSTS = (
    "arxiv.org", "doi.org", "github.com", "huggingface.co/papers", "creativecommons.org"
)


def find_github_repo(*texts: str | None) -> str | None:
    """Return the first github.com/OWNER/REPO URL in the texts, normalised."""
    for text in texts:
        for match in _GITHUB.finditer(text or ""):
            owner, repo = match.group(1), match.group(2).rstrip(_TRAILING)
            repo = repo.removesuffix(".git")
            if owner.lower() not in {"orgs", "features", "topics", "sponsors"} and repo:
                return safe_url(f"https://github.com/{owner}/{repo}")
    return None


def find_project_page(*texts: str | None) -> str | None:
    """Return the first URL that looks like a project page.

    That is a github.io URL, or one after a 'project page' mention.
    """
    for text in texts:
        for match in _URL.finditer(text or ""):
            url = match.group(0).rstrip(_TRAILING)
            lowered = url.lower()
            if any(host in lowered for host in _NOT_PROJECT_HOSTS):
                continue
            before = (text or "")[max(0, match.start() - 40) : match.start()].lower()
            if (".github.io" in lowered or "project" in before or "page" in before
                    or "website" in before) and (checked := safe_url(url)):
                return checked
    return None
