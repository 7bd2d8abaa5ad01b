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

from paperwire.domain.fusion import (
    CHANCE_PROBES,
    background,
    chance_ceiling,
    example_keyword_share,
    fuse,
    keyword_weight,
    semantic_floor,
)
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
# How many of the most similar papers are checked against the semantic floor.
SEMANTIC_DEPTH = 300
# The fixed sample of papers that calibrates the semantic floor, re-read this often.
BACKGROUND_SAMPLE = 512
BACKGROUND_TTL_S = 600.0
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
    # (papers with an embedding, all papers) when semantic ranking took part; shown once,
    # in the page header, rather than as a warning on every search.
    embedding_coverage: tuple[int, int] | None = None


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
        self._background: tuple[float, list[str]] | None = None
        self._ceiling: tuple[float, float] | None = None
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
        coverage: tuple[int, int] | None = None
        if mode != "keyword":
            embedder, index, reason = self._semantic_parts()
            try:
                coverage = index.coverage() if index is not None else (0, 0)
            except Exception as exc:  # an index that cannot load: keyword search still works
                self._semantic_failed(exc)
                embedder, index, reason, coverage = None, None, _reason(exc), (0, 0)
            if embedder is None or index is None or coverage[0] == 0:
                why = reason or "no embeddings yet"
                notices.append(f"semantic search unavailable ({why}): keyword results shown")
                used = "keyword"
        if used != "keyword":
            try:
                page, total = self._semantic_page(parsed, spec, used, sort, limit, offset)
            except Exception as exc:  # the model failed now: keyword results, retry later
                self._semantic_failed(exc)
                notices.append(f"semantic search unavailable ({_reason(exc)}): "
                               "keyword results shown")
                used = "keyword"
        if used == "keyword":
            page, total = self._keyword_page(parsed, spec, sort, limit, offset)
        page = self._with_snippets(parsed, page)
        return SearchResults(page, total, used, _join(notices), coverage)

    def _keyword_page(
        self, parsed: ParsedQuery, spec: FilterSpec, sort: str, limit: int, offset: int
    ) -> tuple[list[SearchHit], int]:
        """Keyword mode: every paper that matches; the count is the same for every sort."""
        if sort == "relevance":
            found, matched = self.keyword.search_page(parsed, spec, limit=offset + limit)
            page = [SearchHit(h.paper_id, h.score, keyword_score=h.score)
                    for h in found[offset:]]
            if matched is None:
                matched = (len(found) if len(found) < offset + limit
                           else self.keyword.count(parsed, spec))
            return page, matched
        ids = self.keyword.ordered_matches(parsed, spec, _order_columns(sort), limit=limit,
                                           offset=offset)
        scores = self.keyword.scores_for(parsed, spec, ids)
        page = [SearchHit(pid, scores.get(pid, 0.0), keyword_score=scores.get(pid, 0.0))
                for pid in ids]
        _, matched = self.keyword.search_page(parsed, spec, limit=1)  # the ranker counts free
        return page, matched if matched is not None else self.keyword.count(parsed, spec)

    def _semantic_page(
        self, parsed: ParsedQuery, spec: FilterSpec, mode: str, sort: str, limit: int,
        offset: int,
    ) -> tuple[list[SearchHit], int]:
        """Semantic and hybrid: the result set is explicit, so paging and sorting share it.

        semantic: the papers whose similarity clears the calibrated floor (`_floor`).
        hybrid: every keyword match, plus the papers above the floor that match no keyword
        (none when the query has a quoted phrase: a phrase is a requirement, and every paper
        that holds it is already a keyword match). Nothing pads the list to a fixed size.
        """
        _, index, _ = self._semantic_parts()
        candidates = self.keyword.filtered_ids(spec) if spec.active else None
        if candidates is not None and not candidates:
            return [], 0
        pool = offset + limit
        query_vector = self._query_vector(parsed.embed_text)
        dense = dict(index.search(query_vector, max(pool, SEMANTIC_DEPTH), candidates=candidates))
        floor = self._floor(query_vector, index)
        above = {pid: v for pid, v in dense.items() if v >= floor}
        if mode == "semantic":
            ranked = [SearchHit(pid, v, semantic_score=v)
                      for pid, v in sorted(above.items(), key=lambda kv: (-kv[1], kv[0]))]
            total = len(ranked)
            if sort != "relevance":
                ranked = self._resort(ranked, sort)
            return ranked[offset : offset + limit], total
        # hybrid
        found, matched = self.keyword.search_page(parsed, spec, limit=max(pool, FUSION_DEPTH),
                                                  candidates=candidates)
        keyword = {h.paper_id: h.score for h in found}
        if matched is None:
            matched = (len(found) if len(found) < max(pool, FUSION_DEPTH)
                       else self.keyword.count(parsed, spec))
        # Which of the dense hits match the keywords too (and how well): real scores.
        keyword.update(self.keyword.scores_for(parsed, spec, [p for p in above
                                                              if p not in keyword]))
        semantic_only = {} if parsed.phrases else {
            pid: v for pid, v in above.items() if pid not in keyword}
        total = matched + len(semantic_only)
        if sort != "relevance":
            return self._merged_by_order(parsed, spec, sort, semantic_only, keyword, dense,
                                         limit, offset), total
        scored = {pid: v for pid, v in above.items() if pid in keyword or pid in semantic_only}
        for pid in keyword.keys() - scored.keys():
            vector = index.vector_for(pid)
            if vector is not None:
                scored[pid] = float(np.dot(vector, query_vector))
        n_words = len(parsed.terms) + sum(len(p) for p in parsed.phrases)
        fused = fuse(keyword, scored, keyword_share=keyword_weight(n_words))
        ranked = [SearchHit(f.paper_id, f.score, None, f.keyword, f.semantic) for f in fused]
        return ranked[offset : offset + limit], total

    def _merged_by_order(
        self, parsed: ParsedQuery, spec: FilterSpec, sort: str, extra: dict[str, float],
        keyword: dict[str, float], dense: dict[str, float], limit: int, offset: int,
    ) -> list[SearchHit]:
        """Keyword matches (in SQL order) and the semantic-only hits, merged in that order."""
        ids = self.keyword.ordered_matches(parsed, spec, _order_columns(sort),
                                           limit=offset + limit)
        merged = [SearchHit(pid, 0.0) for pid in dict.fromkeys([*ids, *extra])]
        ordered = self._resort(merged, sort)[offset : offset + limit]
        missing = [h.paper_id for h in ordered if h.paper_id not in keyword
                   and h.paper_id not in extra]
        keyword = keyword | self.keyword.scores_for(parsed, spec, missing)
        return [SearchHit(h.paper_id, keyword.get(h.paper_id, extra.get(h.paper_id, 0.0)),
                          None, keyword.get(h.paper_id), dense.get(h.paper_id))
                for h in ordered]

    def _floor(self, query_vector: np.ndarray, index: Any) -> float:
        """The similarity a paper needs before semantic search may return it for this query.

        Calibrated against unrelated papers, on the model's own scale. Per query: its cosine
        to a fixed sample of papers gives its background (robust centre and spread); chance
        reaches centre + sqrt(2 ln N) spreads among N papers, and `semantic_floor` sits one
        spread above that. A junk query, whose best hits are no closer than chance, gets
        none. Per model: a paper more similar than nonsense ever is (`chance_ceiling`) also
        counts, so a broad topic whose background is wide still finds its papers.
        """
        sample = self._background_ids()
        found = index.search(query_vector, len(sample), candidates=sample) if sample else []
        if len(found) < 16:
            return -1.0  # too few papers to calibrate: the similarity alone ranks
        centre, spread = background([v for _, v in found])
        floor = semantic_floor(centre, spread, max(2, index.coverage()[0]))
        return min(floor, self._chance_ceiling(index, sample) + 1e-6)

    def _chance_ceiling(self, index: Any, sample: list[str]) -> float:
        now = time.monotonic()
        cached = self._ceiling
        if cached is not None and now - cached[0] < BACKGROUND_TTL_S:
            return cached[1]
        embedder, _, _ = self._semantic_parts()
        tops, spreads = [], []
        for vector in np.asarray(embedder.embed(list(CHANCE_PROBES)), dtype=np.float32):
            best = index.search(vector, 1)
            if best:
                tops.append(best[0][1])
            spreads.append(background(
                [v for _, v in index.search(vector, len(sample), candidates=sample)])[1])
        ceiling = chance_ceiling(tops, spreads)
        self._ceiling = (now, ceiling)
        return ceiling

    def _background_ids(self) -> list[str]:
        now = time.monotonic()
        cached = self._background
        if cached is not None and now - cached[0] < BACKGROUND_TTL_S:
            return cached[1]
        from sqlalchemy import func

        with self.engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(papers)).scalar_one()
            step = max(1, n // BACKGROUND_SAMPLE)
            rows = conn.execute(select(papers.c.id).order_by(papers.c.id)).scalars()
            ids = [pid for i, pid in enumerate(rows) if i % step == 0][:BACKGROUND_SAMPLE]
        self._background = (now, ids)
        return ids

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

