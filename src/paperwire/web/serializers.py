"""JSON shapes: Paperwire's own twins of the pages, and Hugging Face-compatible objects.

The Hugging Face shapes follow https://huggingface.co/api/daily_papers and
/api/papers/{id}: same names, same nesting, so `huggingface_hub.HfApi` parses them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from paperwire.domain.trending import TrendingScore
from paperwire.services.papers import OrgView, PaperCard


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


def hf_time(value: datetime | None) -> str | None:
    """A timestamp as Hugging Face writes it: UTC with milliseconds, 2025-06-13T12:19:00.000Z."""
    if value is None:
        return None
    utc = value.astimezone(UTC) if value.tzinfo else value
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def org_json(org: OrgView | None) -> dict[str, Any] | None:
    if org is None:
        return None
    return {"name": org.name, "fullname": org.fullname or org.name, "avatarUrl": org.avatar_url}


def card_json(card: PaperCard, *, full: bool = False) -> dict[str, Any]:
    """Paperwire's JSON for one paper card (the JSON twin of pages)."""
    data: dict[str, Any] = {
        "id": card.id,
        "title": card.title,
        "summary": card.abstract,  # whole: only the HTML cuts it
        "authors": card.authors,
        "numAuthors": len(card.authors),
        "categories": card.categories,
        "publishedAt": iso(card.published_at),
        "upvotes": card.upvotes,
        "numComments": card.num_comments,
        "githubRepo": card.github_repo,
        "githubStars": card.github_stars,
        "projectPage": card.project_page,
        "ai_summary": card.ai_summary,
        "ai_keywords": card.ai_keywords,
        **enrichment_json(card),
        "organization": org_json(card.organization),
        "day": iso(card.day),
        "submittedBy": card.submitted_by,
        "thumbnail": card.thumbnail,
        "url": f"/papers/{card.id}",
        "arxivUrl": card.abs_url,
        "pdfUrl": card.pdf_url,
    }
    if full:
        data |= {
            "version": card.version,
            "updatedAt": iso(card.updated_at),
            "doi": card.doi,
            "journalRef": card.journal_ref,
            "comments": card.arxiv_comments,
            "submittedByName": card.submitted_by_name,
            "submittedAt": iso(card.submitted_at),
        }
    return data


def enrichment_json(card: PaperCard) -> dict[str, Any]:
    """What the pages show as keywords and one-line summary, with where each came from."""
    return {
        "keywords": card.keywords,
        "keywordsOrigin": card.keywords_origin,
        "keywordsProvenance": card.provenance(card.keywords_origin),
        "summaryLine": card.summary_line,
        "summaryLineOrigin": card.summary_origin,
        "summaryLineModel": (card.computed_summary_model
                             if card.summary_origin == "generated" else None),
        "summaryLineProvenance": card.provenance(card.summary_origin),
    }


def hf_computed(card: PaperCard) -> dict[str, Any] | None:
    """Paperwire's computed values in the Hugging Face shapes, under their own marked key.

    `ai_keywords` / `ai_summary` stay Hugging Face's own values (clients read them as
    Hugging Face's AI output); what Paperwire extracted or generated is served beside
    them, each with its origin, and only for fields the source did not fill.
    """
    computed: dict[str, Any] = {}
    if card.keywords_origin == "extracted":
        computed |= {"ai_keywords": card.computed_keywords, "ai_keywords_origin": "extracted"}
    if card.summary_origin in ("extracted", "generated"):
        computed |= {"ai_summary": card.computed_summary,
                     "ai_summary_origin": card.summary_origin,
                     "ai_summary_model": (card.computed_summary_model
                                          if card.summary_origin == "generated" else None)}
    return computed or None


def score_json(score: TrendingScore) -> dict[str, Any]:
    return {
        "score": round(score.score, 6),
        "upvotes": score.upvotes,
        "stars": score.stars,
        "ageHours": round(score.age_hours, 2),
        "votePoints": round(score.vote_points, 4),
        "starPoints": round(score.star_points, 4),
        "decay": round(score.decay, 4),
    }


# The submitter fields Hugging Face gives, in its order; only those the source had.
_SUBMITTER_KEYS = (
    "_id", "avatarUrl", "fullname", "name", "type", "isPro", "isHf", "isHfAdmin", "isMod",
    "followerCount",
)


def _hf_user(card: PaperCard, *, as_daily_by: bool = False) -> dict[str, Any] | None:
    """The submitter object: `submittedBy` of an item (`name`), or the paper's
    `submittedOnDailyBy` (`user`). Fields come from the source; a local submitter
    (or an entry stored before they were kept) gets the minimal object."""
    if not card.submitted_by:
        return None
    stored = card.submitter or {}
    data: dict[str, Any] = {key: stored[key] for key in _SUBMITTER_KEYS if key in stored}
    data.setdefault("_id", card.submitted_by)
    data.setdefault("avatarUrl", None)
    data.setdefault("fullname", card.submitted_by_name or card.submitted_by)
    data.setdefault("type", "user")
    data["name"] = card.submitted_by
    if as_daily_by:
        data["user"] = card.submitted_by
    return data


def hf_paper(card: PaperCard) -> dict[str, Any]:
    """The `paper` object of Hugging Face (also the body of GET /api/papers/{id})."""
    data: dict[str, Any] = {
        "id": card.id,
        "authors": [
            {"_id": f"{card.id}-{i}", "name": name, "hidden": False}
            for i, name in enumerate(card.authors)
        ],
        "publishedAt": hf_time(card.published_at),
        "submittedOnDailyAt": hf_time(card.added_at) if card.day else None,
        "title": card.title,
        "summary": card.abstract,
        "upvotes": card.upvotes,
        "discussionId": card.id,
        "projectPage": card.project_page,
        "githubRepo": card.github_repo,
        "githubStars": card.github_stars,
        "ai_summary": card.ai_summary,
        "ai_keywords": card.ai_keywords,
        "numComments": card.num_comments,
    }
    computed = hf_computed(card)
    if computed:
        data["paperwire_computed"] = computed
    submitter = _hf_user(card, as_daily_by=True)
    if submitter:
        data["submittedOnDailyBy"] = submitter
    if card.organization:
        data["organization"] = org_json(card.organization)
    return data


def hf_daily_item(card: PaperCard, score: TrendingScore | None = None) -> dict[str, Any]:
    """One item of GET /api/daily_papers (and /api/papers/search)."""
    item: dict[str, Any] = {
        "paper": hf_paper(card),
        "publishedAt": hf_time(card.entry_published_at or card.published_at),
        "title": card.title,
        "summary": card.abstract,
        "thumbnail": card.thumbnail,
        "numComments": card.num_comments,
        "submittedBy": _hf_user(card),
        "isAuthorParticipating": False,
        # Duplicated at the top level (as huggingface_hub's PaperInfo reads them there).
        "ai_summary": card.ai_summary,
        "ai_keywords": card.ai_keywords,
        "githubRepo": card.github_repo,
        "githubStars": card.github_stars,
        "projectPage": card.project_page,
    }
    if card.organization:
        item["organization"] = org_json(card.organization)
    if score is not None:
        item["trending"] = score_json(score)
    return item
