"""The search service: keyword, semantic and hybrid search, similar papers.

Used by the web pages, the API, the feeds, digests and `paperwire search`/`eval`. One way
through: `search.plan.build_plan` parses the query once into a plan (terms, phrases,
filters, mode, sort, page); the service resolves its candidate set once, asks the
semantic side for the papers above the calibrated floor, and `services.search_results`
builds the mode's result set, sorts, pages and adds snippets. Query-by-example (similar
papers, eval-rec) is a plan too (`build_example_plan`: the example papers in
`SearchPlan.more_like`), carried out by `run`. The embedder and vector index are loaded only
when a semantic or hybrid search needs them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import Engine, select

from paperwire.domain.fusion import (
    CHANCE_PROBES,
    background,
    chance_ceiling,
    example_keyword_share,
    fuse,
    semantic_floor,
)
from paperwire.search.arrays import small_product
from paperwire.search.keyword import KeywordSearcher
from paperwire.search.plan import (
    EMPTY_QUERY_NOTICE,
    MAX_EXAMPLE_LIMIT,
    MAX_LIMIT,
    SearchFilters,
    SearchPlan,
    build_example_plan,
    build_plan,
)
from paperwire.services.search_results import (
    EMPTY,
    FUSION_DEPTH,
    ResultSet,
    ResultStages,
    SearchHit,
    SearchResults,
)
from paperwire.store.tables import papers

if TYPE_CHECKING:
    from paperwire.ports import Embedder, KeywordIndex, VectorIndex

log = logging.getLogger(__name__)

__all__ = ["SearchHit", "SearchResults", "SearchService", "SemanticProvider"]

QUERY_VECTOR_CACHE = 2048  # recent query embeddings kept (search-as-you-type repeats)
# How many of the most similar papers are checked against the semantic floor.
SEMANTIC_DEPTH = 300
# The fixed sample of papers that calibrates the semantic floor, re-read this often.
BACKGROUND_SAMPLE = 512
BACKGROUND_TTL_S = 600.0
# A semantic provider (model, index) that failed is tried again after this long.
SEMANTIC_RETRY_S = 60.0


# (embedder, vector index, reason when unavailable)
SemanticParts = tuple["Embedder | None", "VectorIndex | None", "str | None"]
SemanticProvider = Callable[[], SemanticParts]


class SearchService:
    """Search over the papers in one database."""

    def __init__(
        self,
        engine: Engine,
        semantic: SemanticProvider | None = None,
        *,
        keyword_index: KeywordIndex | None = None,
    ) -> None:
        self.engine = engine
        self.keyword = KeywordSearcher(engine, keyword_index)
        self.stages = ResultStages(engine, self.keyword)
        self._semantic_provider = semantic
        self._semantic: SemanticParts | None = None
        self._semantic_checked_at = 0.0
        self._background: tuple[float, int, list[str]] | None = None
        self._background_vectors: tuple[list[str], list[str], np.ndarray] | None = None
        self._ceiling: tuple[float, float] | None = None
        self._lock = threading.Lock()
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_vectors_lock = threading.Lock()

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
        snippets: bool = True,
    ) -> SearchResults:
        """One page of results. ValueError for a bad mode, sort, limit or offset.
        `snippets=False` for callers that only need the ids (For-you's saved searches)."""
        plan = build_plan(query, mode=mode, filters=filters, sort=sort, limit=limit,
                          offset=offset)
        return self.run(plan, snippets=snippets)

    def run(self, plan: SearchPlan, *, snippets: bool = True) -> SearchResults:
        """Carry out a plan: candidates, ranking and fusion, sort and paging, snippets."""
        if plan.by_example:
            return self._run_example(plan)
        if not plan.has_text:
            if plan.spec.active:
                hits, total = self.stages.filter_only(plan)
                return SearchResults(hits, total, plan.mode, _join(plan.notices))
            return SearchResults([], 0, plan.mode, _join([*plan.notices, EMPTY_QUERY_NOTICE]))
        used, coverage = plan.mode, None
        parts: tuple[Embedder, VectorIndex] | None = None
        if plan.mode != "keyword":
            parts, coverage, why = self._semantic_ready()
            if parts is None:
                plan = plan.notice(f"semantic search unavailable ({why}): keyword results shown")
                used = "keyword"
        plan = self.stages.resolve(plan, semantic=used != "keyword")
        found: ResultSet | None = EMPTY if plan.no_candidates else None
        if found is None and parts is not None:
            try:
                found = self._semantic_set(plan, used, parts, coverage)
            except Exception as exc:  # the model failed now: keyword results, retry later
                self._semantic_failed(exc)
                plan = plan.notice(f"semantic search unavailable ({_reason(exc)}): "
                                   "keyword results shown")
                used = "keyword"
        if found is None:
            found = self.stages.keyword_set(plan)
        page = self.stages.page(plan, found)
        if snippets:
            page = self.stages.with_snippets(plan, page)
        return SearchResults(page, found.total, used, _join(plan.notices), coverage)

    def _semantic_ready(
        self,
    ) -> tuple[tuple[Embedder, VectorIndex] | None, tuple[int, int] | None, str]:
        """((embedder, index) or None, embedding coverage, why unavailable)."""
        embedder, index, reason = self._semantic_parts()
        try:
            coverage = index.coverage() if index is not None else (0, 0)
        except Exception as exc:  # an index that cannot load: keyword search still works
            self._semantic_failed(exc)
            return None, (0, 0), _reason(exc)
        if embedder is None or index is None or coverage[0] == 0:
            return None, coverage, reason or "no embeddings yet"
        return (embedder, index), coverage, ""

    def _semantic_set(
        self,
        plan: SearchPlan,
        mode: str,
        parts: tuple[Embedder, VectorIndex],
        coverage: tuple[int, int],
    ) -> ResultSet:
        """Semantic and hybrid result sets, from the papers above the calibrated floor."""
        embedder, index = parts
        above, query_vector = self._above_floor(plan, index, coverage)
        if mode == "hybrid":
            def similarities(ids: list[str]) -> dict[str, float]:
                return dict(index.search(query_vector, len(ids), candidates=ids)) if ids else {}

            return self.stages.hybrid_set(plan, above, similarities)
        if coverage[0] < coverage[1]:  # papers without a vector compete by keyword score
            model_id = index.model_id
            return self.stages.partial_semantic_set(plan, above, model_id)
        return self.stages.semantic_set(plan, above)

    def _above_floor(
        self, plan: SearchPlan, index: VectorIndex, coverage: tuple[int, int]
    ) -> tuple[dict[str, float], np.ndarray]:
        """The papers above the semantic floor for this plan's query (with their
        similarity), and the query's vector."""
        query_vector = self._query_vector(plan.query.embed_text)
        dense = index.search(query_vector, max(plan.pool, SEMANTIC_DEPTH),
                             candidates=plan.candidates)
        floor = self._floor(query_vector, index, coverage[0])
        return {pid: v for pid, v in dense if v >= floor}, query_vector

    def _floor(self, query_vector: np.ndarray, index: VectorIndex, embedded: int) -> float:
        """The similarity a paper needs before semantic search may return it for this query.

        Calibrated against unrelated papers, on the model's own scale. Per query: its cosine
        to a fixed sample of papers gives its background (robust centre and spread); chance
        reaches centre + sqrt(2 ln N) spreads among N papers, and `semantic_floor` sits one
        spread above that. A junk query, whose best hits are no closer than chance, gets
        none. Per model: a paper more similar than nonsense ever is (`chance_ceiling`) also
        counts, so a broad topic whose background is wide still finds its papers.
        """
        sample, matrix = self._background_sample(index, embedded)
        if len(sample) < 16:
            return -1.0  # too few papers to calibrate: the similarity alone ranks
        centre, spread = background(small_product(matrix, query_vector).tolist())
        floor = semantic_floor(centre, spread, max(2, embedded))
        return min(floor, self._chance_ceiling(index, matrix) + 1e-6)

    def _chance_ceiling(self, index: VectorIndex, matrix: np.ndarray) -> float:
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
            spreads.append(background((matrix @ vector).tolist())[1])
        ceiling = chance_ceiling(tops, spreads)
        self._ceiling = (now, ceiling)
        return ceiling

    def _background_sample(self, index: VectorIndex, embedded: int) -> tuple[list[str], np.ndarray]:
        """The background sample's ids and their vectors (one row each), cached with it: the
        floor is then one small matrix product per query."""
        ids = self._background_ids(index, embedded)
        cached = self._background_vectors
        if cached is not None and cached[0] is ids:
            return cached[1], cached[2]
        stored = index.vectors_for(ids)  # one read (pgvector: one query, not 512)
        kept = [pid for pid in ids if pid in stored]
        rows = [np.asarray(stored[pid], dtype=np.float32) for pid in kept]
        dim = rows[0].shape[0] if rows else 1
        matrix = np.stack(rows) if rows else np.zeros((0, dim), dtype=np.float32)
        self._background_vectors = (ids, kept, matrix)
        return kept, matrix

    def _background_ids(self, index: VectorIndex, embedded: int) -> list[str]:
        """A fixed sample of the papers that have a vector (every n-th by id).

        Drawn from the embedded papers, not from all papers: while only 2% have a vector, a
        sample of all papers would hold too few embedded ones to calibrate the floor. Re-read
        after BACKGROUND_TTL_S, and sooner while the sample is still short of
        BACKGROUND_SAMPLE and more papers have been embedded since.
        """
        from sqlalchemy import func

        from paperwire.store.tables import paper_embeddings

        now = time.monotonic()
        cached = self._background
        if cached is not None and now - cached[0] < BACKGROUND_TTL_S and (
                len(cached[2]) >= BACKGROUND_SAMPLE or cached[1] == embedded):
            return cached[2]
        model_id = getattr(index, "model_id", None)
        table = paper_embeddings if model_id else papers
        key = paper_embeddings.c.paper_id if model_id else papers.c.id
        where = [paper_embeddings.c.model_id == model_id] if model_id else []
        with self.engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
            step = max(1, n // BACKGROUND_SAMPLE)
            rows = conn.execute(select(key).where(*where).order_by(key)).scalars()
            ids = [pid for i, pid in enumerate(rows) if i % step == 0][:BACKGROUND_SAMPLE]
        self._background = (now, embedded, ids)
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

        A plan like any search (`build_example_plan`, carried out by `run`). The example
        papers themselves never appear; `candidates` restricts the ranking to these ids.
        """
        plan = build_example_plan(paper_ids, mode=mode, candidates=candidates,
                                  limit=max(1, min(limit, MAX_EXAMPLE_LIMIT)))
        if limit < 1:
            return []
        return self.run(plan).hits

    def _run_example(self, plan: SearchPlan) -> SearchResults:
        """Carry out a query-by-example plan: candidates, the keyword and dense pools,
        fusion, sort and paging (no snippets: the query is whole abstracts)."""
        examples = self._example_texts(plan.more_like)
        if plan.spec.active:  # the filters' papers, once; within the caller's candidates
            allowed = self.keyword.filtered_ids(plan.spec)
            if plan.candidates is not None:
                keep = set(allowed)
                allowed = [c for c in plan.candidates if c in keep]
            plan = plan.with_candidates(allowed)
        if plan.candidates is not None and examples:
            plan = plan.with_candidates([c for c in plan.candidates if c not in examples])
        if not examples or plan.no_candidates:
            return SearchResults([], 0, plan.mode, _join(plan.notices))
        ranked, used = self._example_ranking(plan, examples)
        found = ResultSet(total=len(ranked), ranked=ranked)
        return SearchResults(self.stages.page(plan, found), found.total, used,
                             _join(plan.notices))

    def _example_ranking(
        self, plan: SearchPlan, examples: dict[str, str]
    ) -> tuple[list[SearchHit], str]:
        """(the plan's best `pool` papers like the examples, the mode used).

        keyword: BM25 over the examples' most specific words; semantic: cosine to the
        examples' mean vector; hybrid: both fused per paper. While only some papers have a
        vector, papers without one keep their keyword score and the dense side's share
        shrinks with the embedded share of the corpus (so a 2%-embedded corpus ranks like
        keyword mode instead of like "the 2% that happen to be embedded").
        """
        mode, candidates, limit = plan.mode, plan.candidates, plan.pool
        texts = list(examples.values())
        depth = limit + (len(examples) if candidates is None else 0)
        vector, index, coverage = None, None, 0.0
        if mode != "keyword":
            vector, index, coverage = self._example_vector(examples)
        if vector is None or mode == "keyword":
            found = self.keyword.search_example(texts, limit=depth, candidates=candidates)
            return [SearchHit(h.paper_id, h.score, keyword_score=h.score) for h in found
                    if h.paper_id not in examples][:limit], "keyword"
        if mode == "semantic" and coverage >= 1.0:
            found_dense = index.search(vector, depth, candidates=candidates)
            return [SearchHit(pid, score, semantic_score=score) for pid, score in found_dense
                    if pid not in examples][:limit], mode
        pool = max(depth, FUSION_DEPTH)
        dense = {pid: score for pid, score in index.search(vector, pool, candidates=candidates)
                 if pid not in examples}
        # The keyword pool, and the dense hits' real keyword scores (not a made-up 0), from
        # one keyword query.
        found, dense_keyword = self.keyword.search_example_with(
            texts, limit=pool, candidates=candidates, also=sorted(dense))
        keyword = {h.paper_id: h.score for h in found if h.paper_id not in examples}
        keyword_only = sorted(keyword.keys() - dense.keys())
        if keyword_only:  # the similarity of the keyword hits that have a vector, in one call
            dense.update(index.search(vector, len(keyword_only), candidates=keyword_only))
        for pid, score in dense_keyword.items():
            keyword.setdefault(pid, score)
        share = example_keyword_share(coverage)
        fused = fuse(keyword, dense, keyword_share=share, limit=limit)
        return [SearchHit(f.paper_id, f.score, None, f.keyword, f.semantic)
                for f in fused], mode

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

    def _example_vector(
        self, examples: dict[str, str]
    ) -> tuple[np.ndarray | None, VectorIndex | None, float]:
        """(the examples' mean unit vector or None, the vector index, embedded share)."""
        embedder, index, _ = self._semantic_parts()
        if embedder is None or index is None:
            return None, None, 0.0
        try:
            have, total = index.coverage()
            if have == 0:
                return None, None, 0.0
            stored = index.vectors_for(list(examples))
            vectors = [np.asarray(stored[pid], dtype=np.float32)
                       for pid in examples if pid in stored]
            missing = [text for pid, text in examples.items() if pid not in stored]
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

    def _semantic_parts(self) -> SemanticParts:
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
        # Requests run in several threads: the LRU is only touched under its lock (the
        # embedding itself runs outside it).
        with self._query_vectors_lock:
            cached = self._query_vectors.get(text)
            if cached is not None:
                self._query_vectors.move_to_end(text)
                return cached
        embedder, _, _ = self._semantic_parts()
        vector = np.asarray(embedder.embed([text])[0], dtype=np.float32)
        with self._query_vectors_lock:
            self._query_vectors[text] = vector
            while len(self._query_vectors) > QUERY_VECTOR_CACHE:
                self._query_vectors.popitem(last=False)
        return vector


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _join(notices: Sequence[str]) -> str | None:
    unique = list(dict.fromkeys(n for n in notices if n))
    return "; ".join(unique) if unique else None

