"""The For-you feed: new papers since a day, ranked for one reader by `domain.for_you`.

This module gathers the ranker's plain inputs: the reader's seeds (saved and upvoted
papers, minus not-interested ones), the seeds' and candidates' analysed words (from the
in-memory keyword index, which `domain.library_match` turns into the library view),
follows, saved searches, keywords and marks. It also keeps the feed settings
(include/exclude keywords) and the private feed token.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, select, update

from paperwire.domain import library_rules as rules
from paperwire.domain.for_you import Candidate, Interests, Pick, rank_for_you
from paperwire.domain.library_match import feature_terms, match_library
from paperwire.search.plan import SearchFilters
from paperwire.search.term_view import TermView, view_of_sequences
from paperwire.services.accounts import User, secret_hash
from paperwire.services.library.common import (
    CommunityError,
    checked,
    library_changed,
    require_active,
)
from paperwire.services.library.features import LIBRARY_FEATURES, features_of
from paperwire.services.library.follows import list_follows
from paperwire.services.library.ranking_cache import RankingCache, ranking_stamp
from paperwire.services.library.saved import marked_ids, save_papers
from paperwire.services.papers import VISIBLE, PaperCard, cards_by_id
from paperwire.services.search import SearchService
from paperwire.store.accounts_tables import paper_votes
from paperwire.store.db import aware_utc, insert_ignore, utcnow
from paperwire.store.library_tables import feed_settings, library_items
from paperwire.store.papers import author_key
from paperwire.store.tables import organizations, paper_authors, papers

DEFAULT_DAYS = 7
MAX_DAYS = 90
LIBRARY_SEEDS = 500  # the newest library papers the library view compares against
LIBRARY_DEPTH = 500  # candidates kept from the library view
SEARCH_DEPTH = 50
MAX_CANDIDATES = 20_000
COLD_START = 3
FEED_TOKEN_PREFIX = "fy_"


@dataclass(slots=True)
class ForYouFeed:
    since: date
    picks: list[tuple[PaperCard, Pick]]
    seeds: int
    follows: int
    cold_start: bool
    include_keywords: list[str] = field(default_factory=list)
    exclude_keywords: list[str] = field(default_factory=list)
    trending: list[PaperCard] = field(default_factory=list)

    @property
    def advice(self) -> str | None:
        if not self.cold_start:
            return None
        return (
            f"Your feed learns from the papers in your library ({self.seeds} so far): save at "
            f"least {COLD_START}, import a BibTeX, RIS or CSL-JSON export of your reference "
            "manager, add your own papers by author name, or follow authors and searches. "
            "Meanwhile, here is what is trending."
        )


@dataclass(frozen=True, slots=True)
class FeedSettings:
    include_keywords: list[str]
    exclude_keywords: list[str]
    has_token: bool
    token_created_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "includeKeywords": self.include_keywords,
            "excludeKeywords": self.exclude_keywords,
            "privateFeed": self.has_token,
            "privateFeedCreatedAt": self.token_created_at.isoformat()
            if self.token_created_at else None,
        }


# ------------------------------------------------------------------ settings and token


def _split(text: str) -> list[str]:
    return [w for w in (text or "").split("\n") if w]


def get_feed_settings(engine: Engine, user_id: int) -> FeedSettings:
    with engine.connect() as conn:
        row = conn.execute(select(feed_settings).where(feed_settings.c.user_id == user_id)).first()
    if row is None:
        return FeedSettings([], [], False, None)
    return FeedSettings(_split(row.include_keywords), _split(row.exclude_keywords),
                        row.feed_token_hash is not None, aware_utc(row.feed_token_created_at))


def _ensure_row(conn, user_id: int) -> None:
    conn.execute(insert_ignore(conn, feed_settings).values(
        user_id=user_id, include_keywords="", exclude_keywords="", updated_at=utcnow()))


def set_keywords(engine: Engine, user: User | None, include: str, exclude: str) -> FeedSettings:
    user = require_active(user)
    inc = checked(rules.keyword_list, include, "include")
    exc = checked(rules.keyword_list, exclude, "exclude")
    with engine.begin() as conn:
        _ensure_row(conn, user.id)
        conn.execute(update(feed_settings).where(feed_settings.c.user_id == user.id).values(
            include_keywords="\n".join(inc), exclude_keywords="\n".join(exc),
            updated_at=utcnow()))
        library_changed(conn, user.id)
    return get_feed_settings(engine, user.id)


def new_feed_token(engine: Engine, user: User | None) -> str:
    """A new secret for the private RSS/Atom URL (the old one stops working at once)."""
    user = require_active(user)
    raw = FEED_TOKEN_PREFIX + secrets.token_urlsafe(24)
    with engine.begin() as conn:
        _ensure_row(conn, user.id)
        conn.execute(update(feed_settings).where(feed_settings.c.user_id == user.id).values(
            feed_token_hash=secret_hash(raw), feed_token_created_at=utcnow(),
            updated_at=utcnow()))
    return raw


def revoke_feed_token(engine: Engine, user: User | None) -> None:
    user = require_active(user, verified=False)
    with engine.begin() as conn:
        conn.execute(update(feed_settings).where(feed_settings.c.user_id == user.id).values(
            feed_token_hash=None, feed_token_created_at=None, updated_at=utcnow()))


def user_for_feed_token(engine: Engine, raw: str) -> User | None:
    from paperwire.services.accounts.common import row_to_user
    from paperwire.store.accounts_tables import users

    if not raw.startswith(FEED_TOKEN_PREFIX) or len(raw) > 100:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(users).join(feed_settings, feed_settings.c.user_id == users.c.id)
            .where(feed_settings.c.feed_token_hash == secret_hash(raw))
        ).first()
    if row is None or row.suspended:
        return None
    return row_to_user(row)


# ------------------------------------------------------------------ "these are my papers"


def papers_by_author(engine: Engine, name: str, *, limit: int = 500) -> list[str]:
    key = author_key(checked(rules.follow_value, name))
    with engine.connect() as conn:
        return list(conn.scalars(
            select(paper_authors.c.paper_id)
            .join(papers, papers.c.id == paper_authors.c.paper_id)
            .where(paper_authors.c.name_key == key, VISIBLE)
            .order_by(papers.c.published_at.desc().nulls_last())
            .limit(limit)
        ))


def add_my_papers(engine: Engine, user: User | None, name: str) -> tuple[int, int]:
    """Save every paper by this author name; (papers found, newly saved)."""
    user = require_active(user)
    ids = papers_by_author(engine, name)
    with engine.begin() as conn:
        added = save_papers(conn, user.id, ids)
    return len(ids), added


# ------------------------------------------------------------------ the feed


def parse_since(text: str | None, today: date) -> date:
    if not text:
        return today - timedelta(days=DEFAULT_DAYS - 1)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise CommunityError("Give the day as YYYY-MM-DD, e.g. since=2025-06-01.", 400) from None
    if day > today:
        raise CommunityError("The day is in the future.", 400)
    if (today - day).days > MAX_DAYS:
        raise CommunityError(f"The feed reaches back at most {MAX_DAYS} days.", 400)
    return day


def seed_ids(engine: Engine, user_id: int) -> list[str]:
    """Saved and upvoted papers, newest first, minus not-interested ones."""
    with engine.connect() as conn:
        saved = conn.execute(
            select(library_items.c.paper_id, library_items.c.saved_at)
            .where(library_items.c.user_id == user_id)
        ).all()
        voted = conn.execute(
            select(paper_votes.c.paper_id, paper_votes.c.created_at)
            .where(paper_votes.c.user_id == user_id)
        ).all()
        dropped = marked_ids(conn, user_id, "not_interested")
    when: dict[str, datetime] = {}
    for pid, at in [*saved, *voted]:
        at = aware_utc(at)
        if pid not in when or at > when[pid]:
            when[pid] = at
    ordered = sorted(when, key=lambda pid: (when[pid], pid), reverse=True)
    return [pid for pid in ordered if pid not in dropped]


@dataclass(frozen=True, slots=True)
class LibraryView:
    similar: list[str]  # candidates, best first
    nearest: dict[str, str]  # candidate -> closest library paper
    shared_terms: dict[str, list[str]]  # candidate -> driving words, strongest first


def library_view(engine: Engine, search: SearchService | None, seeds: Sequence[str],
                 candidate_ids: Sequence[str], *, depth: int = LIBRARY_DEPTH) -> LibraryView:
    """The candidates closest to these library papers (`domain.library_match`), from the
    papers' analysed words: in memory when the keyword index is ready, else read and
    analysed here (corpus statistics are then those of these papers alone)."""
    seeds = list(dict.fromkeys(seeds))
    seed_set = set(seeds)
    candidate_ids = [c for c in dict.fromkeys(candidate_ids) if c not in seed_set]
    if search is None or not seeds or not candidate_ids:
        return LibraryView([], {}, {})
    ranker = search.keyword.ranker
    skip = stop_stems(search.keyword.analyzer)
    view = None
    if ranker is not None:
        ranker.start()  # inline for a small database, else in the background
        view = ranker.term_view(skip=skip) if ranker.ready else None
    if view is not None:
        lib_ids, library = LIBRARY_FEATURES.features(view, seeds)
        cand_ids, candidates = LIBRARY_FEATURES.pool(view, candidate_ids)
    else:
        view = _analysed_here(engine, search.keyword.analyzer, [*seeds, *candidate_ids], skip)
        lib_ids, library = features_of(view, seeds)
        cand_ids, candidates = features_of(view, candidate_ids)
    match = match_library(library, candidates)
    ranked = match.ranked[:depth]
    # The drivers' words as the library writes them, from the library papers the best
    # candidates are closest to (the rest are never shown).
    near = {lib_ids[int(match.nearest[r])] for r in match.drivers}
    words = _surface_words(engine, search.keyword.analyzer, [p for p in lib_ids if p in near])
    n_terms = view.n_terms

    def spelled(key: int) -> str | None:
        """The library's own words for a feature (None for one its titles and abstracts
        do not write, e.g. from author names)."""
        spelt = [words.get(view.stems[t]) for t in feature_terms(key, n_terms)]
        return None if None in spelt else " ".join(spelt)

    shared: dict[str, list[str]] = {}
    for r in ranked:
        if r in match.drivers:
            phrases: list[str] = []
            for key in match.drivers[r]:  # a pair subsumes its words
                phrase = spelled(key)
                if phrase and not any(phrase in p for p in phrases):
                    phrases = [p for p in phrases if p not in phrase] + [phrase]
            shared[cand_ids[r]] = phrases
    return LibraryView(
        [cand_ids[r] for r in ranked],
        {cand_ids[r]: lib_ids[int(match.nearest[r])] for r in ranked if match.nearest[r] >= 0},
        shared,
    )


_STOP_STEMS: frozenset[str] | None = None


def stop_stems(analyzer) -> frozenset[str]:
    """The search stopwords as the index stems them (left out of the library view, as
    arxiv-sanity-lite's tf-idf leaves English stopwords out)."""
    global _STOP_STEMS
    if _STOP_STEMS is None:
        from paperwire.search.query_parser import STOPWORDS

        _STOP_STEMS = frozenset(analyzer.stems(sorted(STOPWORDS)))
    return _STOP_STEMS


def _analysed_here(engine: Engine, analyzer, ids: Sequence[str],
                   skip: frozenset[str]) -> TermView:
    """A term view of these papers alone, without the keyword index (still building)."""
    import numpy as np

    from paperwire.search.text_analysis import document_text

    texts: dict[str, str] = {}
    with engine.connect() as conn:
        for start in range(0, len(ids), 900):
            chunk = list(ids[start:start + 900])
            for row in conn.execute(select(papers.c.id, papers.c.title, papers.c.abstract,
                                           papers.c.authors_text).where(papers.c.id.in_(chunk))):
                texts[row.id] = document_text(row.title, row.abstract, row.authors_text)
    vocab: dict[str, int] = {}
    found, sequences = [], []
    for pid in ids:
        if pid in texts:
            found.append(pid)
            sequences.append(np.array([vocab.setdefault(s, len(vocab))
                                       for s in analyzer.analyze(texts[pid]) if s not in skip],
                                      dtype=np.int64))
    return view_of_sequences(found, sequences, list(vocab))


def _surface_words(engine: Engine, analyzer, seeds: Sequence[str]) -> dict[str, str]:
    """stem -> the word the library writes most often for it (for readable reasons)."""
    from collections import Counter

    if not seeds:
        return {}
    counts: Counter[tuple[str, str]] = Counter()
    with engine.connect() as conn:
        rows = conn.execute(select(papers.c.title, papers.c.abstract).where(
            papers.c.id.in_(list(seeds[:LIBRARY_SEEDS])))).all()
    for row in rows:
        words = analyzer.words(f"{row.title} {row.abstract or ''}")
        counts.update(zip(analyzer.stems(words), words, strict=True))
    best: dict[str, tuple[int, str]] = {}
    for (stem, word), n in counts.items():
        if n > best.get(stem, (0, ""))[0]:
            best[stem] = (n, word)
    return {stem: word for stem, (_, word) in best.items()}


def gather_interests(
    engine: Engine,
    search: SearchService | None,
    user_id: int,
    seeds: Sequence[str],
    candidate_ids: Sequence[str],
    *,
    since: date | None,
    settings: FeedSettings | None = None,
) -> Interests:
    """The ranker's inputs for one reader over these candidates."""
    settings = settings or get_feed_settings(engine, user_id)
    follows = list_follows(engine, user_id)
    with engine.connect() as conn:
        dropped = marked_ids(conn, user_id, "not_interested")
        read = marked_ids(conn, user_id, "read")
        saved = set(conn.scalars(select(library_items.c.paper_id).where(
            library_items.c.user_id == user_id)))
    view = library_view(engine, search, seeds[:LIBRARY_SEEDS], candidate_ids)
    searches: dict[str, list[str]] = {}
    if search is not None:
        allowed = set(candidate_ids)
        for f in follows:
            if f.kind != "search":
                continue
            filters = SearchFilters(
                after=since, category=f.filters.get("category"),
                organization=f.filters.get("organization"), author=f.filters.get("author"),
                has_code=bool(f.filters.get("has_code")),
            )
            try:
                results = search.search(f.value, mode="keyword", filters=filters,
                                        limit=SEARCH_DEPTH, snippets=False)
            except ValueError:
                continue
            searches[f.label] = [h.paper_id for h in results.hits if h.paper_id in allowed]
    return Interests(
        similar=view.similar,
        nearest=view.nearest,
        shared_terms=view.shared_terms,
        seed_titles=_titles(engine, set(view.nearest.values())),
        followed_authors={author_key(f.value): f.value for f in follows if f.kind == "author"},
        followed_orgs={f.value.lower() for f in follows if f.kind == "organization"},
        followed_categories={f.value.lower() for f in follows if f.kind == "category"},
        saved_searches=searches,
        include_keywords=settings.include_keywords,
        exclude_keywords=settings.exclude_keywords,
        excluded=frozenset(saved | dropped | read | set(seeds)),
    )


def _titles(engine: Engine, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    with engine.connect() as conn:
        return dict(conn.execute(select(papers.c.id, papers.c.title).where(
            papers.c.id.in_(list(ids)))).all())


def load_candidates(engine: Engine, ids: Sequence[str]) -> list[Candidate]:
    if not ids:
        return []
    out: list[Candidate] = []
    with engine.connect() as conn:
        for start in range(0, len(ids), 900):
            chunk = list(ids[start:start + 900])
            rows = conn.execute(
                select(papers.c.id, papers.c.title, papers.c.abstract, papers.c.published_at,
                       papers.c.authors, papers.c.categories, organizations.c.name.label("org"))
                .select_from(papers.outerjoin(organizations,
                                              organizations.c.id == papers.c.organization_id))
                .where(papers.c.id.in_(chunk))
            )
            for r in rows:
                authors = tuple(r.authors or ())
                text = f"{r.title} {r.abstract or ''}"
                out.append(Candidate(
                    id=r.id, title=r.title, text=text, published_at=aware_utc(r.published_at),
                    authors=authors, author_keys=tuple(author_key(a) for a in authors),
                    organization=r.org, categories=tuple((r.categories or "").split()),
                ))
    return out


def window_ids(engine: Engine, since: date, *, until: datetime | None = None) -> list[str]:
    start = datetime.combine(since, time(), tzinfo=UTC)
    query = select(papers.c.id).where(papers.c.published_at >= start, VISIBLE)
    if until is not None:
        query = query.where(papers.c.published_at <= until)
    with engine.connect() as conn:
        return list(conn.scalars(query.order_by(papers.c.published_at.desc())
                                 .limit(MAX_CANDIDATES)))


def rank_candidates(
    engine: Engine,
    search: SearchService | None,
    user_id: int,
    candidate_ids: Sequence[str],
    *,
    since: date | None,
    now: datetime | None,
    limit: int,
    seeds: Sequence[str] | None = None,
) -> list[Pick]:
    """Ranked picks among `candidate_ids` (shared by the page, the digest and eval-rec)."""
    seeds = list(seeds) if seeds is not None else seed_ids(engine, user_id)
    interests = gather_interests(engine, search, user_id, seeds, candidate_ids, since=since)
    signalled = set(interests.similar) | {
        pid for ranked in interests.saved_searches.values() for pid in ranked}
    need_scan = bool(interests.followed_authors or interests.followed_orgs
                     or interests.followed_categories or interests.include_keywords)
    ids = list(dict.fromkeys(candidate_ids)) if need_scan else [
        pid for pid in dict.fromkeys(candidate_ids) if pid in signalled]
    return rank_for_you(load_candidates(engine, ids), interests, now=now, limit=limit)


def for_you_feed(
    engine: Engine,
    search: SearchService | None,
    user: User | None,
    *,
    since: date,
    now: datetime | None = None,
    limit: int = 50,
    trending=None,
    cache: RankingCache | None = None,
) -> ForYouFeed:
    """The reader's feed. With `cache`, the ranking is reused while `ranking_stamp` (the
    reader's library, marks, upvotes, follows, keywords, and the papers' watermark) is
    unchanged; without a search service nothing is cached (that answer is a fallback)."""
    user = require_active(user, verified=False)
    now = now or datetime.now(UTC)
    settings = get_feed_settings(engine, user.id)
    seeds = seed_ids(engine, user.id)
    follows = list_follows(engine, user.id)
    wanted = bool(seeds or follows or settings.include_keywords)
    use_cache = cache is not None and search is not None and wanted
    key = (user.id, since, limit)
    stamp = ranking_stamp(engine, user.id) if use_cache else None
    picks = cache.get(key, stamp) if use_cache else None
    if picks is None:
        picks = rank_candidates(engine, search, user.id, window_ids(engine, since), since=since,
                                now=now, limit=limit, seeds=seeds) if wanted else []
        if use_cache:
            cache.put(key, stamp, tuple(picks))
    picks = list(picks)
    with engine.connect() as conn:
        cards = cards_by_id(conn, [p.paper_id for p in picks])
    feed = ForYouFeed(
        since=since,
        picks=[(cards[p.paper_id], p) for p in picks if p.paper_id in cards],
        seeds=len(seeds),
        follows=len(follows),
        cold_start=len(seeds) < COLD_START,
        include_keywords=settings.include_keywords,
        exclude_keywords=settings.exclude_keywords,
    )
    if feed.cold_start and trending is not None:
        shown = {c.id for c, _ in feed.picks}
        with engine.connect() as conn:
            dropped = marked_ids(conn, user.id, "not_interested")
        feed.trending = [c for c in trending() if c.id not in shown and c.id not in dropped][:20]
    return feed


def rank_by_library(
    engine: Engine,
    search: SearchService,
    library: Sequence[str],
    candidate_ids: Sequence[str],
    *,
    limit: int,
) -> list[Pick]:
    """The For-you ranking from a library alone (no account): what `paperwire eval-rec`
    scores as the `for-you` mode. `library` is newest first."""
    seeds = list(dict.fromkeys(library))
    view = library_view(engine, search, seeds[:LIBRARY_SEEDS], candidate_ids,
                        depth=max(limit, LIBRARY_DEPTH))
    interests = Interests(similar=view.similar, nearest=view.nearest,
                          shared_terms=view.shared_terms, excluded=frozenset(seeds))
    return rank_for_you([Candidate(pid) for pid in view.similar], interests, now=None,
                        limit=limit)
