"""Choosing the papers of one subscriber's digest: pure functions, no I/O.

A digest has up to three kinds of section:
- "Trending": the top papers by `trending_score` among the papers that reached
  the feed since the subscriber's last digest;
- one section per topic (saved query, author, category, organization);
- "For you": the For-you ranker's picks for a subscriber with an account (from their
  library, upvotes, follows and keywords; never a not-interested paper), each with its
  reason ("Close to <paper> in your library", "By <followed author>", ...).
A paper already sent to the subscriber is never picked again, and a paper
appears at most once per digest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from paperwire.domain.digest_topics import Topic
from paperwire.domain.trending import trending_score

MONDAY = 0
FIRST_DIGEST_DAYS = {"daily": 1, "weekly": 7}


@dataclass(frozen=True, slots=True)
class DigestPaper:
    id: str
    title: str
    authors: tuple[str, ...]
    abstract: str
    added_at: datetime
    upvotes: int = 0
    stars: int | None = None
    github_repo: str | None = None
    categories: tuple[str, ...] = ()
    organization: str | None = None
    organization_fullname: str | None = None
    summary: str | None = None  # one line: the source's AI summary, else the computed one
    keywords: tuple[str, ...] = ()  # the source's AI keywords, else the extracted ones


@dataclass(frozen=True, slots=True)
class DigestEntry:
    paper: DigestPaper
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class DigestSection:
    kind: str  # trending | topic | for_you
    title: str
    entries: tuple[DigestEntry, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    digest_date: date
    sections: tuple[DigestSection, ...]
    window_start: date  # papers added after this day...
    window_end: date  # ...up to and including this one

    @property
    def paper_ids(self) -> list[str]:
        return [entry.paper.id for section in self.sections for entry in section.entries]

    @property
    def is_empty(self) -> bool:
        return not any(section.entries for section in self.sections)


@dataclass(frozen=True, slots=True)
class ForYouPick:
    """A candidate paper the For-you ranker picked, with its reason."""

    paper_id: str
    reason: str


@dataclass(slots=True)
class _Budget:
    left: int
    taken: set[str] = field(default_factory=set)


def is_digest_due(digest_date: date, frequency: str, weekdays_only: bool) -> bool:
    """Daily digests go out every day (weekdays only by default), weekly ones on Mondays."""
    if frequency == "weekly":
        return digest_date.weekday() == MONDAY
    return not (weekdays_only and digest_date.weekday() >= 5)


def digest_window(
    digest_date: date, frequency: str, weekdays_only: bool, last_digest_date: date | None
) -> tuple[date, date]:
    """(start, end]: the feed days a digest covers, from the day after the last one."""
    if last_digest_date is not None and last_digest_date < digest_date:
        return last_digest_date, digest_date
    days = FIRST_DIGEST_DAYS.get(frequency, 1)
    if frequency == "daily" and weekdays_only and digest_date.weekday() == MONDAY:
        days = 3  # Friday's digest covered up to Friday: include the weekend.
    return digest_date - timedelta(days=days), digest_date


def rank_trending(
    papers: Iterable[DigestPaper], now: datetime, limit: int | None = None
) -> list[DigestPaper]:
    """Papers by trending score as of `now`, best first (ties: more upvotes, then id)."""
    scored = [
        (trending_score(upvotes=p.upvotes, stars=p.stars, added_at=p.added_at, now=now).score, p)
        for p in papers
    ]
    scored.sort(key=lambda item: (-item[0], -item[1].upvotes, item[1].id))
    ranked = [paper for _, paper in scored]
    return ranked if limit is None else ranked[:limit]


def paper_matches_topic(topic: Topic, paper: DigestPaper) -> bool:
    """Structured topics (author, category, organization) match by exact, case-free keys."""
    wanted = " ".join(topic.value.casefold().split())
    if topic.kind == "author":
        return any(" ".join(name.casefold().split()) == wanted for name in paper.authors)
    if topic.kind == "category":
        return any(category.casefold() == wanted for category in paper.categories)
    if topic.kind == "organization":
        names = (paper.organization, paper.organization_fullname)
        return any(name and name.casefold() == wanted for name in names)
    return False


def trending_share(paper_count: int, has_personal: bool) -> int:
    """How many of the digest's papers go to Trending before personal sections fill in."""
    if not has_personal:
        return paper_count
    return max(1, min(paper_count, (paper_count + 1) // 2))


def select_digest(
    *,
    digest_date: date,
    window: tuple[date, date],
    candidates: Sequence[DigestPaper],
    now: datetime,
    paper_count: int,
    topic_hits: Mapping[Topic, Sequence[str]],
    for_you_picks: Sequence[ForYouPick] = (),
    already_sent: Iterable[str] = (),
    trending_order: Sequence[DigestPaper] | None = None,
) -> Digest:
    """Pick at most `paper_count` papers, never one in `already_sent`, none twice.

    `candidates` are the papers in the window; `topic_hits` lists, per topic, ids
    of matching papers best first (ids outside `candidates` are ignored);
    `trending_order`, if given, is `rank_trending(candidates, now)` computed once.
    """
    by_id = {paper.id: paper for paper in candidates}
    sent = set(already_sent)
    fresh = [p for p in candidates if p.id not in sent]
    topic_lists = {
        topic: [by_id[pid] for pid in ids if pid in by_id and pid not in sent]
        for topic, ids in topic_hits.items()
    }
    for_you_list = [(by_id[pick.paper_id], pick) for pick in for_you_picks
                    if pick.paper_id in by_id and pick.paper_id not in sent]
    has_personal = any(topic_lists.values()) or bool(for_you_list)
    budget = _Budget(left=max(0, paper_count))

    if trending_order is None:
        trending_ranked = rank_trending(fresh, now)
    else:  # ranked once for every subscriber of the same window
        trending_ranked = [p for p in trending_order if p.id not in sent]
    trending = _take(trending_ranked, budget, trending_share(budget.left, has_personal))

    topic_entries: dict[Topic, list[DigestEntry]] = {topic: [] for topic in topic_lists}
    for_you_entries: list[DigestEntry] = []
    queues: list[tuple[object, list]] = [(t, list(papers)) for t, papers in topic_lists.items()]
    queues.append(("for_you", list(for_you_list)))
    # Round robin across personal sections, one paper at a time.
    progress = True
    while budget.left > 0 and progress:
        progress = False
        for key, queue in queues:
            while queue and budget.left > 0:
                item = queue.pop(0)
                paper, pick = item if key == "for_you" else (item, None)
                if paper.id in budget.taken:
                    continue
                budget.taken.add(paper.id)
                budget.left -= 1
                progress = True
                if pick is not None:
                    reason = pick.reason[:1].upper() + pick.reason[1:]
                    for_you_entries.append(DigestEntry(paper, reason))
                else:
                    topic_entries[key].append(DigestEntry(paper, None))  # type: ignore[index]
                break
    # Whatever the personal sections could not fill goes back to Trending.
    trending += _take(trending_ranked, budget, budget.left)

    sections: list[DigestSection] = []
    if trending:
        entries = tuple(DigestEntry(p) for p in trending)
        sections.append(DigestSection("trending", "Trending", entries))
    for topic, entries in topic_entries.items():
        if entries:
            title = f"For your topic: {topic.label()}"
            sections.append(DigestSection("topic", title, tuple(entries)))
    if for_you_entries:
        sections.append(DigestSection("for_you", "For you", tuple(for_you_entries)))
    return Digest(digest_date=digest_date, sections=tuple(sections),
                  window_start=window[0], window_end=window[1])


def _take(ranked: Sequence[DigestPaper], budget: _Budget, count: int) -> list[DigestPaper]:
    taken: list[DigestPaper] = []
    for paper in ranked:
        if len(taken) >= count or budget.left <= 0:
            break
        if paper.id in budget.taken:
            continue
        budget.taken.add(paper.id)
        budget.left -= 1
        taken.append(paper)
    return taken


_WORD = re.compile(r"[^\W_]+")


def query_terms(query: str) -> list[str]:
    return [term for term in _WORD.findall(query.casefold()) if len(term) > 1]


def paper_words(paper: DigestPaper) -> frozenset[str]:
    return frozenset(_WORD.findall(f"{paper.title} {paper.abstract}".casefold()))


def build_word_index(papers: Iterable[DigestPaper]) -> dict[str, set[str]]:
    """word -> ids of the papers whose title or abstract contains it."""
    index: dict[str, set[str]] = {}
    for paper in papers:
        for word in paper_words(paper):
            index.setdefault(word, set()).add(paper.id)
    return index


def match_query(index: Mapping[str, set[str]], query: str) -> set[str]:
    """Fallback keyword match: ids of papers containing every term of the query."""
    terms = query_terms(query)
    if not terms:
        return set()
    sets = sorted((index.get(term, set()) for term in terms), key=len)
    return set.intersection(*sets) if sets[0] else set()


def paper_matches_query(query: str, paper: DigestPaper) -> bool:
    terms = query_terms(query)
    return bool(terms) and set(terms) <= paper_words(paper)
