"""The For-you ranker (pure): new papers for one reader, each pick explained.

Design (principles, not tuning on the dev readers; measured in benchmarks/RESULTS.md):
- **The library view** comes from `domain.library_match`: every candidate's closeness to
  the library (its 3 nearest library papers and the reader's term profile, fused by
  rank) as one ranked list, with the library paper each candidate is closest to and the
  terms that drove it. Its rank is turned into a reciprocal-rank score (k = 60) worth two
  first places, as it fuses two views. Upvoted papers are library papers like saved ones.
- **Follows are explicit interest**: a followed author counts as much as one first place;
  an organization half, a category a quarter (categories are broad); each saved search is
  one more ranked list.
- **Include keywords** add half a first place; **exclude keywords**, not-interested, read
  and library papers never appear.
- **Recency**: within the window, newer papers gently win (score x 0.5 to 1 by age).

Every pick carries its reasons, the strongest first: "close to <paper>", "by <author>",
"matches your saved search <q>", "from <organization>", "in <category>", "mentions
<keyword>", and the library's terms it shares (as arxiv-sanity-lite shows the words
behind each pick).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime

RRF_K = 60.0
TOP = 1.0 / (RRF_K + 1.0)  # what the first place of one ranked list is worth
FOLLOW_AUTHOR = 1.0 * TOP
FOLLOW_ORG = 0.5 * TOP
FOLLOW_CATEGORY = 0.25 * TOP
INCLUDE_KEYWORD = 0.5 * TOP
LIBRARY_WEIGHT = 2.0  # the library view fuses two ranked views (neighbours, profile)
RECENCY_HALF_LIFE_DAYS = 7.0


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    title: str = ""
    text: str = ""  # title + abstract, for keywords and explanations
    published_at: datetime | None = None
    authors: tuple[str, ...] = ()  # display names
    author_keys: tuple[str, ...] = ()  # normalised, aligned with authors
    organization: str | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Interests:
    """Everything the ranker knows about the reader, as plain data."""

    similar: Sequence[str] = ()  # candidates ranked by closeness to the library, best first
    nearest: Mapping[str, str] = field(default_factory=dict)  # candidate -> library paper
    shared_terms: Mapping[str, Sequence[str]] = field(default_factory=dict)  # candidate ->
    #                                           the library's words that drove it, strongest first
    seed_titles: Mapping[str, str] = field(default_factory=dict)  # library paper -> title
    followed_authors: Mapping[str, str] = field(default_factory=dict)  # key -> name
    followed_orgs: Set[str] = frozenset()  # lower-case names
    followed_categories: Set[str] = frozenset()  # lower-case
    saved_searches: Mapping[str, Sequence[str]] = field(default_factory=dict)  # label -> ids
    include_keywords: Sequence[str] = ()
    exclude_keywords: Sequence[str] = ()
    excluded: Set[str] = frozenset()  # library, not interested, read


@dataclass(frozen=True, slots=True)
class Pick:
    paper_id: str
    score: float
    reasons: tuple[str, ...]
    kinds: tuple[str, ...]  # similar | author | search | organization | category | keyword |
    #                         terms


def _keyword_re(words: Sequence[str]) -> re.Pattern[str] | None:
    cleaned = [w.strip().lower() for w in words if w and w.strip()]
    if not cleaned:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(cleaned, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def recency_factor(published_at: datetime | None, now: datetime | None) -> float:
    if now is None or published_at is None:
        return 1.0
    age_days = max(0.0, (now - published_at).total_seconds() / 86400.0)
    return 0.5 + 0.5 * 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)


def rank_for_you(
    candidates: Sequence[Candidate],
    interests: Interests,
    *,
    now: datetime | None = None,
    limit: int = 50,
) -> list[Pick]:
    """The best `limit` candidates for this reader, best first, each explained."""
    exclude = _keyword_re(interests.exclude_keywords)
    include = _keyword_re(interests.include_keywords)
    similar = {pid: LIBRARY_WEIGHT / (RRF_K + r)
               for r, pid in enumerate(interests.similar, start=1)}
    searches: dict[str, tuple[float, str]] = {}
    for label, ranked in interests.saved_searches.items():
        for rank, pid in enumerate(ranked, start=1):
            value = 1.0 / (RRF_K + rank)
            if value > searches.get(pid, (0.0, ""))[0]:
                searches[pid] = (value, label)
    picks: list[Pick] = []
    for c in candidates:
        if c.id in interests.excluded:
            continue
        if exclude is not None and exclude.search(c.text or c.title):
            continue
        parts: list[tuple[float, str, str]] = []  # (value, kind, reason)
        base = similar.get(c.id, 0.0)
        authors = [name for name, key in zip(c.authors, c.author_keys, strict=False)
                   if key in interests.followed_authors]
        if authors:
            parts.append((FOLLOW_AUTHOR, "author", "by " + ", ".join(authors[:3])
                          + " (you follow)"))
        if c.id in searches:
            value, label = searches[c.id]
            parts.append((value, "search", f"matches your saved search “{_short(label)}”"))
        if c.organization and c.organization.lower() in interests.followed_orgs:
            parts.append((FOLLOW_ORG, "organization", f"from {c.organization} (you follow)"))
        cats = [cat for cat in c.categories if cat.lower() in interests.followed_categories]
        if cats:
            parts.append((FOLLOW_CATEGORY, "category", f"in {', '.join(cats[:2])} (you follow)"))
        if include is not None and (found := include.findall(c.text or c.title)):
            words = list(dict.fromkeys(w.lower() for w in found))[:3]
            parts.append((INCLUDE_KEYWORD, "keyword", "mentions " + ", ".join(words)))
        if not parts and base == 0.0:
            continue
        score = (base + sum(v for v, _, _ in parts)) * recency_factor(c.published_at, now)
        if base:  # the library view's reasons: the closest library paper, then the terms
            library_reasons = []
            if seed := interests.nearest.get(c.id):
                title = interests.seed_titles.get(seed, seed)
                library_reasons.append(
                    (base, "similar", f"close to “{_short(title)}” in your library"))
            if words := list(interests.shared_terms.get(c.id, ()))[:4]:
                library_reasons.append(
                    (base, "terms", "shares your library's terms: " + ", ".join(words)))
            parts.extend(library_reasons)
        parts.sort(key=lambda p: -p[0])  # stable: "close to" before its terms
        picks.append(Pick(c.id, score, tuple(r for _, _, r in parts),
                          tuple(k for _, k, _ in parts)))
    picks.sort(key=lambda p: (-p.score, p.paper_id))
    return picks[:limit]


def _short(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"
