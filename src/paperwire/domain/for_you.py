"""The For-you ranker (pure): new papers for one reader, each pick explained.

Design (principles, not tuning on the dev readers):
- **Several views of interest, fused by reciprocal rank** (RRF, k=60: robust to the
  scales of the underlying scores, as in hybrid search). Each library paper is a
  query-by-example of its own ("seed" lists) and the whole library is one more (the
  "profile" list). Seeds fuse by **max**: a reader with two topics should see the best of
  each, not the blur of their average (the centroid's weakness); the profile list adds the
  consensus. Upvoted papers are seeds like saved ones.
- **Follows are explicit interest**: a followed author counts as much as a top hit of one
  seed list; an organization half, a category a quarter (categories are broad); each saved
  search is one more ranked list, fused like the seeds.
- **Include keywords** add half a top hit; **exclude keywords**, not-interested, read and
  library papers never appear.
- **Recency**: within the window, newer papers gently win (score x 0.5 to 1 by age).

Every pick carries its reasons, the strongest first: "close to <paper>", "by <author>",
"matches your saved search <q>", "from <organization>", "in <category>", "mentions
<keyword>", or the library's terms the paper shares.
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
PROFILE_WEIGHT = 1.0
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
    stems: frozenset[str] = frozenset()  # analysed words of `text` (for term reasons)


@dataclass(frozen=True, slots=True)
class Interests:
    """Everything the ranker knows about the reader, as plain data."""

    seed_lists: Mapping[str, Sequence[str]] = field(default_factory=dict)  # seed -> ranked ids
    seed_titles: Mapping[str, str] = field(default_factory=dict)
    profile_list: Sequence[str] = ()  # query-by-example of the whole library, ranked
    profile_terms: Sequence[tuple[str, str]] = ()  # (stem, word), most specific first
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
    #                         terms | profile
    from_profile: bool = False  # the whole-library query ranked it


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
    seed_rank: dict[str, tuple[float, str]] = {}  # candidate -> (best seed contribution, seed)
    for seed, ranked in interests.seed_lists.items():
        for rank, pid in enumerate(ranked, start=1):
            value = 1.0 / (RRF_K + rank)
            if value > seed_rank.get(pid, (0.0, ""))[0]:
                seed_rank[pid] = (value, seed)
    profile = {pid: PROFILE_WEIGHT / (RRF_K + r)
               for r, pid in enumerate(interests.profile_list, start=1)}
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
        if c.id in seed_rank:
            value, seed = seed_rank[c.id]
            title = interests.seed_titles.get(seed, seed)
            parts.append((value, "similar", f"close to “{_short(title)}” in your library"))
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
        base = profile.get(c.id, 0.0)
        if not parts and base == 0.0:
            continue
        score = (base + sum(v for v, _, _ in parts)) * recency_factor(c.published_at, now)
        parts.sort(key=lambda p: -p[0])
        reasons = [reason for _, _, reason in parts]
        kinds = [kind for _, kind, _ in parts]
        pick = Pick(c.id, score, tuple(reasons), tuple(kinds), base > 0.0)
        picks.append(with_term_reason(pick, c.stems, interests.profile_terms))
    picks.sort(key=lambda p: (-p.score, p.paper_id))
    return picks[:limit]


def with_term_reason(
    pick: Pick, stems: Set[str], profile_terms: Sequence[tuple[str, str]]
) -> Pick:
    """Add the library's words this paper shares (as arxiv-sanity-lite shows the words
    behind a pick) when the whole-library query drove it or nothing else explains it."""
    words = [word for stem, word in profile_terms if stem in stems][:4]
    reasons, kinds = list(pick.reasons), list(pick.kinds)
    if "profile" in kinds:
        i = kinds.index("profile")
        del reasons[i], kinds[i]
    if words and (pick.from_profile or not reasons):
        reasons.append("shares your library's terms: " + ", ".join(words))
        kinds.append("terms")
    elif not reasons:
        reasons.append("like your library as a whole")
        kinds.append("profile")
    return Pick(pick.paper_id, pick.score, tuple(reasons), tuple(kinds), pick.from_profile)


def _short(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"
