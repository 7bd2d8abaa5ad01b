"""The search service: keyword, semantic and hybrid search, similar papers.

Used by the web pages, the API, digests and `paperwire search`/`eval`.
User text goes through the safe query parser; the embedder and vector index
are loaded only when a semantic or hybrid search needs them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import Engine, select

from paperwire.domain.fusion import example_keyword_share, fuse, keyword_weight
from paperwire.search.bm25 import Bm25Index
from paperwire.search.filters import FilterSpec, filter_conditions
from paperwire.search.keyword import KeywordSearcher
from paperwire.search.query_parser import ParsedQuery, parse_query
from paperwire.store.tables import papers

log = logging.getLogger(__name__)

MODES = ("keyword", "semantic", "hybrid")
SORTS = ("relevance", "date", "upvotes")
MAX_LIMIT = 200
MAX_OFFSET = 10_000
QUERY_VECTOR_CACHE = 2048  # recent query embeddings kept (search-as-you-type repeats)
# How many candidates each ranker contributes to hybrid fusion.
FUSION_DEPTH = 100
# Date/upvote sorting reorders this many of the most relevant results.
RESORT_POOL = 300
# A semantic provider (model, index) that failed is tried again after this long.
SEMANTIC_RETRY_S = 60.0
EMPTY_QUERY_NOTICE = "Type some words to search, e.g. diffusion transformers author:\"Jane Doe\"."


@dataclass(frozen=True)
class SearchFilters:
    after: date | None = None
    before: date | None = None
    category: str | None = None
    organization: str | None = None
    author: str | None = None
    has_code: bool = False
    # Search only among these papers (a user's library); None: all papers.
    paper_ids: frozenset[str] | None = None


@dataclass(frozen=True)
class SearchHit:
    paper_id: str
    score: float
    snippet: str | None = None  # HTML-safe, <mark> around matched words
    keyword_score: float | None = None
    semantic_score: float | None = None


@dataclass
class SearchResults:
    hits: list[SearchHit]
    total: int
    mode: str
    notice: str | None


# (embedder, vector index, reason when unavailable)
SemanticProvider = Callable[[], tuple[Any, Any, str | None]]


def merge_filters(parsed: ParsedQuery, filters: SearchFilters | None) -> FilterSpec:
    """Filters typed in the query and filters passed by the caller all apply."""
    f = filters or SearchFilters()
    after = max((d for d in (parsed.after, f.after) if d), default=None)
    before = min((d for d in (parsed.before, f.before) if d), default=None)
    categories = parsed.categories + ((f.category,) if f.category and f.category.strip() else ())
    authors = parsed.authors + ((f.author,) if f.author and f.author.strip() else ())
    return FilterSpec(
        after=after,
        before=before,
        categories=categories,
        organization=f.organization.strip() if f.organization and f.organization.strip() else None,
        authors=authors,
        has_code=parsed.has_code or f.has_code,
        paper_ids=f.paper_ids,
    )


class SearchService:
    """Search over the papers in one database."""

    def __init__(
        self,
        engine: Engine,
        semantic: SemanticProvider | None = None,
        *,
        keyword_index: Bm25Index | None = None,
    ) -> None:
        self.engine = engine
        self.keyword = KeywordSearcher(engine, keyword_index)
        self._semantic_provider = semantic
        self._semantic: tuple[Any, Any, str | None] | None = None
        self._semantic_checked_at = 0.0
        self._lock = threading.Lock()
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    # ---- public API -----------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        mode: str = "hybrid",
        filters: SearchFilters | None = None,
        sort: str = "relevance",
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResults:
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
        if sort not in SORTS:
            raise ValueError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        if not 0 <= offset <= MAX_OFFSET:
            raise ValueError(f"offset must be between 0 and {MAX_OFFSET}")
        parsed = parse_query(query or "")
        spec = merge_filters(parsed, filters)
        notices = list(parsed.notices)
        if not parsed.has_text:
            if spec.active:
                hits, total = self._filter_only(spec, sort, limit, offset)
                return SearchResults(hits, total, mode, _join(notices))
            return SearchResults([], 0, mode, _join([*notices, EMPTY_QUERY_NOTICE]))
        used = mode
        if mode != "keyword":
            embedder, index, reason = self._semantic_parts()
            coverage = index.coverage() if index is not None else (0, 0)
            if embedder is None or index is None or coverage[0] == 0:
                why = reason or "no embeddings yet"
                notices.append(f"semantic search unavailable ({why}): keyword results shown")
                used = "keyword"
            elif coverage[0] < coverage[1]:
                missing = coverage[1] - coverage[0]
                notices.append(
                    f"{missing} of {coverage[1]} papers have no embedding yet: "
                    + ("they are ranked by keywords only" if mode == "hybrid"
                       else "they cannot appear in semantic results")
                )
        pool = offset + limit if sort == "relevance" else RESORT_POOL
        matched: int | None = None
        if used == "keyword":
            found, matched = self.keyword.search_page(parsed, spec, limit=pool)
            ranked = [SearchHit(h.paper_id, h.score, keyword_score=h.score) for h in found]
        elif used == "semantic":
            ranked = self._semantic_ranked(parsed, spec, pool)
        else:
            ranked = self._hybrid_ranked(parsed, spec, max(pool, FUSION_DEPTH))
        if sort == "relevance":
            total = len(ranked)
            if len(ranked) >= pool and used == "keyword":
                total = matched if matched is not None else self.keyword.count(parsed, spec)
            page = ranked[offset : offset + limit]
        else:
            total = len(ranked)
            page = self._resort(ranked, sort)[offset : offset + limit]
        page = self._with_snippets(parsed, page)
        return SearchResults(page, total, used, _join(notices))

    def similar(self, paper_id: str, *, limit: int = 10) -> list[SearchHit]:
        """Papers like this one (from its title and abstract), the paper itself excluded.

        The same query-by-example path as `more_like` (and `paperwire eval-rec`).
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        with self.engine.connect() as conn:
            known = conn.execute(select(papers.c.id).where(papers.c.id == paper_id)).first()
        if known is None:
            raise KeyError(f"unknown paper {paper_id!r}")
        return self.more_like([paper_id], mode="hybrid", limit=limit)

    def more_like(
        self,
        paper_ids: Sequence[str],
        *,
        mode: str = "hybrid",
        candidates: Sequence[str] | None = None,
        limit: int = 10,
    ) -> list[SearchHit]:
        """Query-by-example: papers like these (their titles and abstracts), best first.

        The example papers themselves never appear. `candidates` restricts the ranking to
        these ids. keyword: BM25 over the examples' most specific words; semantic: cosine
        to the examples' mean vector; hybrid: both fused per paper. While only some papers
        have a vector, papers without one keep their keyword score and the dense side's
        share shrinks with the embedded share of the corpus (so a 2%-embedded corpus ranks
        like keyword mode instead of like "the 2% that happen to be embedded").
        """
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
        if limit < 1:
            return []
        examples = self._example_texts(paper_ids)
        if not examples:
            return []
        if candidates is not None:
            candidates = [c for c in dict.fromkeys(candidates) if c not in examples]
            if not candidates:
                return []
        texts = list(examples.values())
        depth = limit + (len(examples) if candidates is None else 0)
        vector, index, coverage = None, None, 0.0
        if mode != "keyword":
            vector, index, coverage = self._example_vector(examples)
        if vector is None or mode == "keyword":
            found = self.keyword.search_example(texts, limit=depth, candidates=candidates)
            return [SearchHit(h.paper_id, h.score, keyword_score=h.score) for h in found
                    if h.paper_id not in examples][:limit]
        if mode == "semantic" and coverage >= 1.0:
            found_dense = index.search(vector, depth, candidates=candidates)
            return [SearchHit(pid, score, semantic_score=score) for pid, score in found_dense
                    if pid not in examples][:limit]
        pool = max(depth, FUSION_DEPTH)
        keyword = {h.paper_id: h.score for h in self.keyword.search_example(
            texts, limit=pool, candidates=candidates) if h.paper_id not in examples}
        dense = {pid: score for pid, score in index.search(vector, pool, candidates=candidates)
                 if pid not in examples}
        for pid in keyword.keys() - dense.keys():  # keyword hits that have a vector
            v = index.vector_for(pid)
            if v is not None:
                dense[pid] = float(np.dot(v, vector))
        dense_only = sorted(dense.keys() - keyword.keys())
        if dense_only:  # their real keyword score, not a made-up 0
            for h in self.keyword.search_example(texts, limit=len(dense_only),
                                                 candidates=dense_only):
                keyword[h.paper_id] = h.score
        share = example_keyword_share(coverage)
        fused = fuse(keyword, dense, keyword_share=share)
        return [SearchHit(f.paper_id, f.score, None, f.keyword, f.semantic)
                for f in fused[:limit]]

    def _example_texts(self, paper_ids: Sequence[str]) -> dict[str, str]:
        from paperwire.search.embedder import paper_text

        ids = list(dict.fromkeys(paper_ids))
        if not ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(papers.c.id, papers.c.title, papers.c.abstract).where(papers.c.id.in_(ids))
            )
            texts = {row.id: paper_text(row.title, row.abstract) for row in rows}
        return {pid: texts[pid] for pid in ids if pid in texts}

    def _example_vector(self, examples: dict[str, str]) -> tuple[Any, Any, float]:
        """(the examples' mean unit vector or None, the vector index, embedded share)."""
        embedder, index, _ = self._semantic_parts()
        if embedder is None or index is None:
            return None, None, 0.0
        try:
            have, total = index.coverage()
            if have == 0:
                return None, None, 0.0
            vectors = []
            missing = []
            for pid, text in examples.items():
                v = index.vector_for(pid)
                if v is None:
                    missing.append(text)
                else:
                    vectors.append(np.asarray(v, dtype=np.float32))
            if missing:
                vectors.extend(np.asarray(embedder.embed(missing), dtype=np.float32))
        except Exception as exc:  # a failing model must not break "similar papers"
            self._semantic_failed(exc)
            return None, None, 0.0
        mean = np.mean(np.stack(vectors), axis=0)
        norm = float(np.linalg.norm(mean))
        if norm <= 1e-12:
            return None, None, 0.0
        return (mean / norm).astype(np.float32), index, have / max(1, total)

    # ---- rankers --------------------------------------------------------------------

    def _semantic_ranked(self, parsed: ParsedQuery, spec: FilterSpec, n: int) -> list[SearchHit]:
        found = self._dense(parsed, spec, n)
        return [SearchHit(pid, score, semantic_score=score) for pid, score in found]

    def _hybrid_ranked(self, parsed: ParsedQuery, spec: FilterSpec, n: int) -> list[SearchHit]:
        candidates = self.keyword.filtered_ids(spec) if spec.active else None  # read once
        keyword = {
            h.paper_id: h.score
            for h in self.keyword.search(parsed, spec, limit=n, candidates=candidates)
        }
        dense = dict(self._dense(parsed, spec, n, candidates))
        _, index, _ = self._semantic_parts()
        query_vector = self._query_vector(parsed.text)
        for pid in keyword.keys() - dense.keys():
            vector = index.vector_for(pid)
            if vector is not None:
                dense[pid] = float(np.dot(vector, query_vector))
        n_words = len(parsed.terms) + sum(len(p) for p in parsed.phrases)
        fused = fuse(keyword, dense, keyword_share=keyword_weight(n_words))
        return [SearchHit(f.paper_id, f.score, None, f.keyword, f.semantic) for f in fused[:n]]

    def _dense(
        self, parsed: ParsedQuery, spec: FilterSpec, n: int, candidates: list[str] | None = None
    ) -> list[tuple[str, float]]:
        _, index, _ = self._semantic_parts()
        if spec.active and candidates is None:
            candidates = self.keyword.filtered_ids(spec)
        if candidates is not None and not candidates:
            return []
        return index.search(self._query_vector(parsed.text), n, candidates=candidates)

    # ---- helpers --------------------------------------------------------------------

    def _semantic_parts(self) -> tuple[Any, Any, str | None]:
        """(embedder, index, reason unavailable); a failed provider is retried later."""
        with self._lock:
            stale = (
                self._semantic is not None
                and self._semantic[0] is None
                and self._semantic_provider is not None
                and time.monotonic() - self._semantic_checked_at >= SEMANTIC_RETRY_S
            )
            if self._semantic is None or stale:
                self._semantic_checked_at = time.monotonic()
                if self._semantic_provider is None:
                    self._semantic = (None, None, "no embedder configured")
                else:
                    try:
                        self._semantic = self._semantic_provider()
                    except Exception as exc:  # a broken model must not break keyword search
                        log.warning("semantic search unavailable: %s", exc)
                        self._semantic = (None, None, _reason(exc))
            return self._semantic

    def _semantic_failed(self, exc: Exception) -> None:
        """The model failed while in use: search by keywords, try it again after a while."""
        log.warning("semantic search failed, retrying in %.0f s: %s", SEMANTIC_RETRY_S, exc)
        with self._lock:
            self._semantic = (None, None, _reason(exc))
            self._semantic_checked_at = time.monotonic()

    def _query_vector(self, text: str) -> np.ndarray:
        cached = self._query_vectors.get(text)
        if cached is not None:
            self._query_vectors.move_to_end(text)
            return cached
        embedder, _, _ = self._semantic_parts()
        vector = np.asarray(embedder.embed([text])[0], dtype=np.float32)
        self._query_vectors[text] = vector
        if len(self._query_vectors) > QUERY_VECTOR_CACHE:
            self._query_vectors.popitem(last=False)
        return vector

    def _filter_only(
        self, spec: FilterSpec, sort: str, limit: int, offset: int
    ) -> tuple[list[SearchHit], int]:
        from sqlalchemy import func

        order = _order_columns(sort)
        with self.engine.connect() as conn:
            conditions = filter_conditions(spec)
            total = conn.execute(
                select(func.count()).select_from(papers).where(*conditions)
            ).scalar_one()
            ids = conn.execute(
                select(papers.c.id).where(*conditions).order_by(*order).limit(limit).offset(offset)
            ).scalars()
            return [SearchHit(pid, 0.0) for pid in ids], total

    def _resort(self, ranked: Sequence[SearchHit], sort: str) -> list[SearchHit]:
        if not ranked:
            return []
        by_id = {h.paper_id: h for h in ranked}
        with self.engine.connect() as conn:
            ids = conn.execute(
                select(papers.c.id).where(papers.c.id.in_(list(by_id))).order_by(*_order_columns(sort))
            ).scalars()
            return [by_id[pid] for pid in ids]

    def _with_snippets(self, parsed: ParsedQuery, page: list[SearchHit]) -> list[SearchHit]:
        ids = [h.paper_id for h in page if h.keyword_score is not None]
        if not ids:
            return page
        snippets = self.keyword.snippets(parsed, ids)
        return [replace(h, snippet=snippets.get(h.paper_id)) for h in page]


def _order_columns(sort: str) -> list:
    if sort == "upvotes":
        votes = papers.c.source_upvotes + papers.c.local_upvotes
        return [votes.desc(), papers.c.published_at.desc().nulls_last(), papers.c.id]
    return [papers.c.published_at.desc().nulls_last(), papers.c.id.desc()]


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _join(notices: Sequence[str]) -> str | None:
    unique = list(dict.fromkeys(n for n in notices if n))
    return "; ".join(unique) if unique else None

