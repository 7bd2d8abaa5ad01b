"""Selecting each subscriber's papers, sharing the work between subscribers.

Search is an optional adapter: without it topics fall back to keyword matching and the
"For you" section has only follow and keyword picks (no query-by-example).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from paperwire.domain.digest_selection import (
    Digest,
    DigestPaper,
    ForYouPick,
    build_word_index,
    digest_window,
    match_query,
    paper_matches_topic,
    rank_trending,
    select_digest,
)
from paperwire.domain.digest_topics import Topic
from paperwire.services.digests.window_papers import day_start, load_window_papers
from paperwire.store.subscribers import Subscriber

if TYPE_CHECKING:
    from paperwire.ports import PaperSearch

log = logging.getLogger(__name__)


class DigestBuilder:
    """Builds digests for one digest date, sharing work between subscribers.

    Candidate papers are loaded once per window, each distinct topic is searched
    once per window, whatever the number of subscribers who follow it.
    """

    def __init__(self, engine: Engine, digest_date: date, *,
                 search: PaperSearch | None = None) -> None:
        self.engine = engine
        self.digest_date = digest_date
        self.now = day_start(digest_date + timedelta(days=1))
        self.search = search
        self._candidates: dict[tuple[date, date], list[DigestPaper]] = {}
        self._topic_hits: dict[tuple[Topic, date, date], list[str]] = {}
        # Topic searches and For-you rankings that failed and fell back (never cached as
        # the search's answer beyond this run; the next topic tries the search again).
        self.fallbacks = 0
        self._fallback_lock = threading.Lock()
        self._trending: dict[tuple[date, date], list[DigestPaper]] = {}
        self._word_index: dict[tuple[date, date], dict[str, set[str]]] = {}
        self.fragments: dict[tuple[str, str | None, str], str] = {}  # rendered paper blocks

    def build(self, subscriber: Subscriber, sent_ids: set[str],
              last_digest_date: date | None) -> Digest:
        window = digest_window(self.digest_date, subscriber.frequency,
                               subscriber.weekdays_only, last_digest_date)
        candidates = self.candidates(window)
        hits = {topic: self.topic_hits(topic, window) for topic in subscriber.topics}
        picks: list[ForYouPick] = []
        skipped = set(sent_ids)
        if subscriber.user_id:
            picks = self.for_you_picks(subscriber.user_id, window)
            skipped |= self.not_interested(subscriber.user_id)
        return select_digest(
            digest_date=self.digest_date, window=window, candidates=candidates, now=self.now,
            paper_count=subscriber.paper_count, topic_hits=hits, for_you_picks=picks,
            already_sent=skipped, trending_order=self.trending(window),
        )

    def trending(self, window: tuple[date, date]) -> list[DigestPaper]:
        if window not in self._trending:
            self._trending[window] = rank_trending(self.candidates(window), self.now)
        return self._trending[window]

    def candidates(self, window: tuple[date, date]) -> list[DigestPaper]:
        if window not in self._candidates:
            self._candidates[window] = load_window_papers(self.engine, *window)
        return self._candidates[window]

    def topic_hits(self, topic: Topic, window: tuple[date, date]) -> list[str]:
        key = (topic, *window)
        if key not in self._topic_hits:
            candidates = self.candidates(window)
            if topic.kind == "query":
                ids, keep = self._search_ids(topic.value, window, candidates)
                if not keep:  # a fallback is not the answer: the next use searches again
                    return ids
            else:
                ids = [p.id for p in candidates if paper_matches_topic(topic, p)]
            self._topic_hits[key] = ids
        return self._topic_hits[key]

    def prefetch(self, needs: set[tuple[Topic, tuple[date, date]]], threads: int = 2) -> None:
        """Compute the topic hits many subscribers share, searches in parallel threads
        (the database does the work, outside the GIL)."""
        from concurrent.futures import ThreadPoolExecutor

        for window in {window for _, window in needs}:
            self.candidates(window)
            self.trending(window)
        todo = [(topic, window) for topic, window in needs
                if (topic, *window) not in self._topic_hits]
        with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
            list(pool.map(lambda need: self.topic_hits(*need), todo))

    def _search_ids(self, query: str, window: tuple[date, date],
                    candidates: Sequence[DigestPaper]) -> tuple[list[str], bool]:
        """The topic's papers in the window, and whether that answer may be kept for the
        run (False: the search failed and word matching stood in for it)."""
        if self.search is not None:
            try:
                return run_search(self.search, query, paper_ids=[p.id for p in candidates]), True
            except Exception as exc:  # this topic falls back to plain matching
                log.warning("search failed for digest topic %r (%s); using word matching",
                            query, exc)
                self._count_fallback()
        if window not in self._word_index:
            self._word_index[window] = build_word_index(candidates)
        matched = match_query(self._word_index[window], query)
        hits = [p for p in candidates if p.id in matched]
        hits.sort(key=lambda p: (-p.upvotes, -(p.stars or 0), p.id))
        return [p.id for p in hits], self.search is None

    def for_you_picks(self, user_id: int, window: tuple[date, date]) -> list[ForYouPick]:
        """The same ranker as the For-you page, over this window's papers."""
        from paperwire.services.library.for_you import rank_candidates

        ids = [p.id for p in self.candidates(window)]
        if not ids:
            return []
        try:
            picks = rank_candidates(self.engine, self.search, user_id, ids, since=window[0],
                                    now=self.now, limit=50)
        except Exception as exc:  # a failing ranker must not stop the digest run
            log.warning("For-you picks unavailable for user %s (%s)", user_id, exc)
            self._count_fallback()
            return []
        return [ForYouPick(p.paper_id, p.reasons[0]) for p in picks if p.reasons]

    def _count_fallback(self) -> None:
        with self._fallback_lock:
            self.fallbacks += 1

    def not_interested(self, user_id: int) -> set[str]:
        from paperwire.services.library.saved import marked_ids

        with self.engine.connect() as conn:
            return marked_ids(conn, user_id, "not_interested")


def run_search(search: PaperSearch, query: str, *, paper_ids: Sequence[str],
               limit: int = 200) -> list[str]:
    """The papers among `paper_ids` (a window's) that match the query, best first: the
    search service's hybrid mode, ranked within those papers only, so matches outside the
    window never crowd the window's out of the first `limit`."""
    from paperwire.search.plan import SearchFilters

    if not paper_ids:
        return []
    result = search.search(query, mode="hybrid", filters=SearchFilters(
        paper_ids=frozenset(paper_ids)), limit=limit, snippets=False)
    return [hit.paper_id for hit in result.hits]
