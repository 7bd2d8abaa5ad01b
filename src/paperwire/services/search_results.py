"""From a search plan to a page of hits: each mode's result set, then sort, paging, snippets.

The stages run one way. The service hands in a `SearchPlan` (query parsed once, filters
merged, candidate ids resolved once) and, for semantic ranking, the papers above the
calibrated floor. A *result set* is what the mode really found: its relevance order, its
honest total, and which papers are members, so that sorting by date or upvotes and every
page draw on that same set:

* keyword: every keyword match.
* hybrid: every keyword match, plus the papers above the semantic floor that match no
  keyword (none when the query has a quoted phrase), fused per paper.
* semantic: the papers above the floor; while only some papers have a vector, also the
  keyword matches among the papers without one, ranked by their keyword score, so an
  unembedded paper is neither hidden nor favoured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Engine, func, select

from paperwire.domain.fusion import fuse, keyword_weight
from paperwire.search.filters import FilterSpec, filter_conditions
from paperwire.search.keyword import KeywordSearcher
from paperwire.search.plan import SearchPlan
from paperwire.store.tables import papers

# How many candidates the keyword ranker contributes to fusion.
FUSION_DEPTH = 100
# Sorted by date or upvotes, up to this many keyword matches are listed by the in-memory
# ranker (the same matcher as the count) and ordered in SQL; more are paged by the
# database's full-text index in SQL order.
ORDERED_FROM_RANKER = 2000
# The most matches listed that way when the database's index cannot match the words at
# all (a stopword-only query on PostgreSQL, whose English configuration drops them).
ORDERED_FROM_RANKER_MAX = 10_000


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


@dataclass
class ResultSet:
    """Every paper a mode found for a plan.

    `ranked` is the relevance order as far as the plan's pool (offset + limit), or shorter
    when fewer exist. When the plan sorts by date or upvotes it is empty (the order comes
    from SQL), or, for a set with no `keyword_spec`, every member (SQL orders them).
    Members: every keyword match under `keyword_spec` (None: no keyword matches belong),
    plus the papers in `extra` (semantic-only hits, with their similarity).
    """

    total: int
    ranked: list[SearchHit] = field(default_factory=list)
    keyword_spec: FilterSpec | None = None
    extra: dict[str, float] = field(default_factory=dict)
    keyword: dict[str, float] = field(default_factory=dict)  # keyword scores known so far
    dense: dict[str, float] = field(default_factory=dict)  # similarities known so far
    keyword_total: int = 0  # how many keyword matches are members
    keyword_candidates: list[str] | None = None  # the ranker's candidates for keyword_spec


EMPTY = ResultSet(total=0)


class ResultStages:
    """The stages after planning, over one database's keyword index."""

    def __init__(self, engine: Engine, keyword: KeywordSearcher) -> None:
        self.engine = engine
        self.keyword = keyword

    # ---- candidate set ------------------------------------------------------------

    def resolve(self, plan: SearchPlan, *, semantic: bool) -> SearchPlan:
        """The ids that pass the filters, once, where a ranker needs them as a list (the
        in-memory keyword ranker, the vector index); SQL applies `spec` directly."""
        if not plan.spec.active or plan.candidates is not None:
            return plan
        if not semantic and not self.keyword.takes_candidates(plan.query):
            return plan
        return plan.with_candidates(self.keyword.filtered_ids(plan.spec))

    # ---- result sets --------------------------------------------------------------

    def keyword_set(self, plan: SearchPlan) -> ResultSet:
        """Every keyword match."""
        spec, candidates = plan.spec, plan.candidates
        # Ordered: only the count is needed. Relevance: whole blocks of FUSION_DEPTH, so every
        # page of a block comes from the same ranking (papers with equal scores at the
        # cut-off would otherwise be chosen afresh for each page size).
        depth = 1 if plan.ordered else -(-plan.pool // FUSION_DEPTH) * FUSION_DEPTH
        found, matched = self.keyword.search_page(plan.query, spec, limit=depth,
                                                  candidates=candidates)
        if matched is None:
            matched = (len(found) if len(found) < depth
                       else self.keyword.count(plan.query, spec))
        scores = {h.paper_id: h.score for h in found}
        ranked = [] if plan.ordered else [
            SearchHit(h.paper_id, h.score, keyword_score=h.score) for h in found[: plan.pool]]
        return ResultSet(total=matched, ranked=ranked, keyword_spec=spec, keyword=scores,
                         keyword_total=matched, keyword_candidates=candidates)

    def semantic_set(self, plan: SearchPlan, above: Mapping[str, float]) -> ResultSet:
        """Every embedded paper is embedded: the papers above the floor, by similarity."""
        ordered = sorted(above.items(), key=lambda kv: (-kv[1], kv[0]))
        if not plan.ordered:  # a date or upvote order is taken over all of them
            ordered = ordered[: plan.pool]
        ranked = [SearchHit(pid, v, semantic_score=v) for pid, v in ordered]
        return ResultSet(total=len(above), ranked=ranked, dense=dict(above))

    def partial_semantic_set(
        self, plan: SearchPlan, above: Mapping[str, float], model_id: str
    ) -> ResultSet:
        """Embeddings are partial: the embedded papers above the floor, and the keyword
        matches among the papers without a vector, fused per paper (each by the score it
        has: similarity for the embedded, keyword score for the others)."""
        spec = replace(plan.spec, unembedded_for=model_id)
        candidates = (self.keyword.filtered_ids(spec)
                      if self.keyword.takes_candidates(plan.query) else None)
        unembedded = self.keyword_set(replace(
            plan, spec=spec, candidates=candidates, sort="relevance",
            limit=max(plan.pool, FUSION_DEPTH), offset=0))
        above = dict(above)
        ranked = []
        if not plan.ordered:
            fused = fuse(unembedded.keyword, above, keyword_share=0.0, limit=plan.pool)
            ranked = [SearchHit(f.paper_id, f.score, None, f.keyword, f.semantic)
                      for f in fused]
        return ResultSet(total=unembedded.total + len(above), ranked=ranked, keyword_spec=spec,
                         extra=above, keyword=unembedded.keyword, dense=above,
                         keyword_total=unembedded.total, keyword_candidates=candidates)

    def hybrid_set(
        self,
        plan: SearchPlan,
        above: Mapping[str, float],
        similarities: Callable[[list[str]], dict[str, float]],
    ) -> ResultSet:
        """Every keyword match, plus the semantic-only papers above the floor (none when
        the query has a quoted phrase: every paper that holds it is a keyword match).

        `similarities(ids)`: those papers' cosine to the query (papers without a vector are
        absent), in one call.
        """
        depth = 1 if plan.ordered else max(plan.pool, FUSION_DEPTH)
        found, matched = self.keyword.search_page(plan.query, plan.spec, limit=depth,
                                                  candidates=plan.candidates)
        keyword = {h.paper_id: h.score for h in found}
        if matched is None:
            matched = (len(found) if len(found) < depth
                       else self.keyword.count(plan.query, plan.spec))
        # Which of the semantic hits match the keywords too (and how well): real scores.
        keyword.update(self.keyword.scores_for(plan.query, plan.spec,
                                               [p for p in above if p not in keyword]))
        semantic_only = {} if plan.phrase_required else {
            pid: v for pid, v in above.items() if pid not in keyword}
        total = matched + len(semantic_only)
        dense = dict(above)
        if plan.ordered:
            return ResultSet(total=total, keyword_spec=plan.spec, extra=semantic_only,
                             keyword=keyword, dense=dense, keyword_total=matched,
                             keyword_candidates=plan.candidates)
        scored = {pid: v for pid, v in above.items() if pid in keyword or pid in semantic_only}
        scored.update(similarities(sorted(keyword.keys() - scored.keys())))
        fused = fuse(keyword, scored, keyword_share=keyword_weight(plan.n_words),
                     limit=plan.pool)
        ranked = [SearchHit(f.paper_id, f.score, None, f.keyword, f.semantic) for f in fused]
        return ResultSet(total=total, ranked=ranked, keyword_spec=plan.spec,
                         extra=semantic_only, keyword=keyword, dense=dense | scored,
                         keyword_total=matched, keyword_candidates=plan.candidates)

    # ---- sort and paging ----------------------------------------------------------

    def page(self, plan: SearchPlan, found: ResultSet) -> list[SearchHit]:
        """The plan's page of the set, in the plan's order."""
        start, end = plan.offset, plan.pool
        if not plan.ordered:
            return found.ranked[start:end]
        if found.keyword_spec is None:  # an explicit set: order it in SQL
            return self._in_order(found.ranked, plan.sort)[start:end]
        if not found.extra:  # only keyword matches: SQL pages them directly
            ids = self._ordered_matches(plan, found, limit=plan.limit, offset=plan.offset)
        else:  # keyword matches and semantic-only hits, merged in that order
            ids = self._ordered_matches(plan, found, limit=end, offset=0)
            merged = [SearchHit(pid, 0.0) for pid in dict.fromkeys([*ids, *found.extra])]
            ids = [h.paper_id for h in self._in_order(merged, plan.sort)[start:end]]
        missing = [pid for pid in ids if pid not in found.keyword and pid not in found.extra]
        keyword = found.keyword | self.keyword.scores_for(plan.query, found.keyword_spec,
                                                          missing)
        return [SearchHit(pid, keyword.get(pid, found.extra.get(pid, 0.0)), None,
                          keyword.get(pid), found.dense.get(pid)) for pid in ids]

    def _ordered_matches(
        self, plan: SearchPlan, found: ResultSet, *, limit: int, offset: int
    ) -> list[str]:
        """The keyword members' ids in the plan's SQL order, from the matcher that counted
        them: the in-memory ranker's matches ordered in SQL while they are few, else the
        database's full-text index (which pages in SQL order at any size)."""
        spec, n = found.keyword_spec, found.keyword_total
        if n <= offset:
            return []
        ranker = self.keyword.takes_candidates(plan.query)
        if not ranker or n > ORDERED_FROM_RANKER:
            ids = self.keyword.ordered_matches(plan.query, spec, order_columns(plan.sort),
                                               limit=limit, offset=offset)
            if not ranker or len(ids) >= min(limit, n - offset):
                return ids
        hits, _ = self.keyword.search_page(plan.query, spec,
                                           limit=min(n, ORDERED_FROM_RANKER_MAX),
                                           candidates=found.keyword_candidates)
        if not hits:
            return []
        with self.engine.connect() as conn:
            return list(conn.execute(
                select(papers.c.id).where(papers.c.id.in_([h.paper_id for h in hits]))
                .order_by(*order_columns(plan.sort)).limit(limit).offset(offset)
            ).scalars())

    def filter_only(self, plan: SearchPlan) -> tuple[list[SearchHit], int]:
        """No words, only filters: the papers that pass them, in the plan's order."""
        conditions = filter_conditions(plan.spec)
        with self.engine.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(papers).where(*conditions)
            ).scalar_one()
            ids = conn.execute(
                select(papers.c.id).where(*conditions).order_by(*order_columns(plan.sort))
                .limit(plan.limit).offset(plan.offset)
            ).scalars()
            return [SearchHit(pid, 0.0) for pid in ids], total

    def _in_order(self, hits: Sequence[SearchHit], sort: str) -> list[SearchHit]:
        if not hits:
            return []
        by_id = {h.paper_id: h for h in hits}
        with self.engine.connect() as conn:
            ids = conn.execute(
                select(papers.c.id).where(papers.c.id.in_(list(by_id)))
                .order_by(*order_columns(sort))
            ).scalars()
            return [by_id[pid] for pid in ids]

    # ---- snippets -----------------------------------------------------------------

    def with_snippets(self, plan: SearchPlan, hits: list[SearchHit]) -> list[SearchHit]:
        """Abstract snippets, marked, for the hits that match the keywords."""
        ids = [h.paper_id for h in hits if h.keyword_score is not None]
        if not ids:
            return hits
        snippets = self.keyword.snippets(plan.query, ids)
        return [SearchHit(h.paper_id, h.score, snippets.get(h.paper_id), h.keyword_score,
                          h.semantic_score) for h in hits]


def order_columns(sort: str) -> list:
    if sort == "upvotes":
        votes = papers.c.source_upvotes + papers.c.local_upvotes
        return [votes.desc(), papers.c.published_at.desc().nulls_last(), papers.c.id]
    return [papers.c.published_at.desc().nulls_last(), papers.c.id.desc()]

