"""Keyword retrieval: the in-memory BM25 ranker, or the database's own full-text index.

Queries of plain words are ranked by `search.bm25.Bm25Index` when it is loaded (the same
scores as FTS5's bm25(), on both databases). Phrase queries, and every query while that
index is still building or switched off, run on FTS5 + BM25 (SQLite) or tsvector + ts_rank
(PostgreSQL). All paths take a ParsedQuery (never raw user text), honour the same filters
and return HTML-safe snippets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)

from paperwire.search.filters import FilterSpec, filter_conditions
from paperwire.search.highlight import highlight
from paperwire.search.query_parser import ParsedQuery, to_fts5_match, to_websearch_text
from paperwire.search.text_analysis import Analyzer, fold
from paperwire.store.db import is_sqlite
from paperwire.store.tables import papers

if TYPE_CHECKING:
    from paperwire.ports import KeywordIndex

# Field weights, tuned on keywords-dev (see benchmarks/RESULTS.md, "## Search").
SQLITE_WEIGHTS = {"title": 1.0, "abstract": 1.0, "authors": 1.0}
# ts_rank_cd weights for {D, C, B, A} = {-, abstract, authors, title}.
PG_WEIGHTS = (0.0, 1.0, 1.0, 1.0)  # equal, as on SQLite: up-weighting titles lost nDCG
# 1 = divide by 1 + log(document length): a mild length normalisation.
PG_NORMALIZATION = 1
# "idf": sum of per-term ts_rank weighted by BM25 idf; "cd": plain ts_rank_cd.
PG_RANKING = "idf"
DF_CACHE_TTL_S = 300.0
# How long a search waits for the in-memory index's first build before asking the database.
BUILD_WAIT_S = 20.0
# Query-by-example on the database's own index: its OR query of this many words.
MAX_TERMS_FALLBACK = 30

_fts = table("papers_fts", column("rowid"))
# Built once: making the IN expression anew costs more than the query (~0.15 ms).
_ABSTRACTS = select(papers.c.id, papers.c.abstract).where(
    papers.c.id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True, slots=True)
class KeywordHit:
    paper_id: str
    score: float  # higher is better


class KeywordSearcher:
    """Runs parsed queries against whichever keyword index the database has."""

    def __init__(self, engine: Engine, ranker: KeywordIndex | None = None) -> None:
        self.engine = engine
        self.sqlite = is_sqlite(engine)
        self.ranker = ranker
        self.analyzer = ranker.analyzer if ranker is not None else Analyzer()
        self._df: dict[str, int] = {}
        self._n_docs = 0
        self._df_stamp = -1e9

    def search(
        self,
        query: ParsedQuery,
        spec: FilterSpec,
        *,
        limit: int,
        offset: int = 0,
        candidates: list[str] | None = None,
    ) -> list[KeywordHit]:
        return self.search_page(query, spec, limit=limit, offset=offset, candidates=candidates)[0]

    def search_page(
        self,
        query: ParsedQuery,
        spec: FilterSpec,
        *,
        limit: int,
        offset: int = 0,
        candidates: list[str] | None = None,
    ) -> tuple[list[KeywordHit], int | None]:
        """Hits, and how many papers match when that comes for free (else None).

        `candidates`: `filtered_ids(spec)` when the caller already has them.
        """
        if not query.has_text:
            return [], 0
        ranker = self._ranker_for(query)
        if ranker is not None:
            if spec.active and candidates is None:
                candidates = self.filtered_ids(spec)
            words, proximity = self._ranker_words(query, ranker)
            found, total = ranker.search(words, offset + limit, candidates=candidates,
                                         proximity=proximity)
            return [KeywordHit(pid, score) for pid, score in found[offset:]], total
        return self._database_search(query, spec, limit, offset), None

    def _ranker_words(self, query: ParsedQuery, ranker: KeywordIndex) -> tuple[list[str], bool]:
        """The words the BM25 ranker scores, and whether word proximity counts.

        A long query (more than LONG_QUERY_TERMS distinct words, e.g. a pasted abstract) is
        ranked by its most specific words, weighted by how often it uses them, as
        query-by-example is.
        """
        terms = [fold(t) for t in query.terms]  # the index holds folded words ("à" is "a")
        if not query.all_terms:
            return terms, True
        from paperwire.domain.example_query import count_terms, select_terms
        from paperwire.search.query_parser import STOPWORDS

        all_terms = [fold(t) for t in query.all_terms]
        stems = self.analyzer.stems(all_terms)
        counts, surface = count_terms(zip(all_terms, stems, strict=True), STOPWORDS)
        if not counts:
            return terms, True
        df, n_docs = ranker.document_frequencies(counts)
        selected = select_terms(counts, surface, df, n_docs)
        if not selected:
            return terms, True
        # In query order first (so adjacent query words keep their proximity bonus), then
        # the repeats that weight frequent words.
        order = {stem: i for i, stem in reversed(list(enumerate(stems)))}
        selected.sort(key=lambda t: order.get(t.stem, 0))
        words = [t.word for t in selected]
        return words + [t.word for t in selected for _ in range(t.weight - 1)], True

    def search_example(
        self,
        texts: Sequence[str],
        *,
        limit: int,
        candidates: Sequence[str] | None = None,
    ) -> list[KeywordHit]:
        """Query-by-example: papers that share the texts' most specific words (BM25).

        The query is the texts' best terms by tf x idf (domain.example_query), not every
        word: see that module. `candidates` restricts the result to these paper ids.
        """
        return self.search_example_with(texts, limit=limit, candidates=candidates)[0]

    def search_example_with(
        self,
        texts: Sequence[str],
        *,
        limit: int,
        candidates: Sequence[str] | None = None,
        also: Sequence[str] = (),
    ) -> tuple[list[KeywordHit], dict[str, float]]:
        """`search_example`, and the keyword score of each paper in `also` that matches
        (others absent), from the same query (the texts are analysed once)."""
        from paperwire.domain.example_query import count_terms, query_words, select_terms
        from paperwire.search.query_parser import STOPWORDS

        pairs = []
        for example in texts:
            found = self.analyzer.words(example)
            pairs.extend(zip(found, self.analyzer.stems(found), strict=True))
        counts, surface = count_terms(pairs, STOPWORDS)
        if not counts or (limit <= 0 and not also):
            return [], {}
        ranker = self._ranker_for(ParsedQuery(terms=("x",)))
        if ranker is not None:
            df, n_docs = ranker.document_frequencies(counts)
            terms = select_terms(counts, surface, df, n_docs)
            if not terms:
                return [], {}
            words = query_words(terms)
            found_hits = ranker.search(words, limit, candidates=candidates,
                                       proximity=False)[0] if limit > 0 else []
            scores = dict(ranker.search(words, len(also), candidates=also, proximity=False,
                                        refresh=limit <= 0)[0]) if also else {}
            return [KeywordHit(pid, score) for pid, score in found_hits], scores
        terms = select_terms(counts, surface, None, 0, max_terms=MAX_TERMS_FALLBACK)
        query = ParsedQuery(terms=tuple(t.word for t in terms))
        allowed = set(candidates) if candidates is not None else None
        depth = limit if allowed is None else max(limit * 5, 500)
        hits = self._database_search(query, FilterSpec(), depth, 0) if limit > 0 else []
        if allowed is not None:
            hits = [h for h in hits if h.paper_id in allowed]
        also_ids = list(dict.fromkeys(also))
        scores: dict[str, float] = {}
        for start in range(0, len(also_ids), 500):
            part = also_ids[start : start + 500]
            scores.update((h.paper_id, h.score) for h in self._database_search(
                query, FilterSpec(), len(part), 0, (papers.c.id.in_(part),)))
        return hits[:limit], scores

    def takes_candidates(self, query: ParsedQuery) -> bool:
        """Whether this query runs on the in-memory ranker, which restricts by a list of
        candidate ids (the database's index applies the filters in SQL instead)."""
        return self._ranker_for(query) is not None

    def _ranker_for(self, query: ParsedQuery) -> KeywordIndex | None:
        """The in-memory ranker when it can answer this query (plain words, index loaded)."""
        if self.ranker is None or query.phrases:
            return None
        ranker = self.ranker
        ranker.start()
        if not ranker.ready and ranker.last_error is None:
            # While the first build runs, every search would fall back to the database's
            # full-text ranking: slow at scale, and under load it starves the build itself.
            ranker.wait_ready(timeout=BUILD_WAIT_S)
        return ranker if ranker.ready else None

    def filtered_ids(self, spec: FilterSpec) -> list[str]:
        """Ids of all papers that pass the filters."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(papers.c.id).where(*filter_conditions(spec))).scalars())

    def _database_search(
        self, query: ParsedQuery, spec: FilterSpec, limit: int, offset: int,
        extra: Sequence = (),
    ) -> list[KeywordHit]:
        with self.engine.connect() as conn:
            if self.sqlite:
                return self._sqlite_search(conn, query, spec, limit, offset, extra)
            return self._pg_search(conn, query, spec, limit, offset, extra)

    def scores_for(
        self, query: ParsedQuery, spec: FilterSpec, paper_ids: Sequence[str]
    ) -> dict[str, float]:
        """The keyword score of each of these papers that matches the query (others absent)."""
        ids = list(dict.fromkeys(paper_ids))
        if not ids or not query.has_text:
            return {}
        ranker = self._ranker_for(query)
        if ranker is not None:
            words, proximity = self._ranker_words(query, ranker)
            # A follow-up of the request's keyword search, which caught the index up.
            found, _ = ranker.search(words, len(ids), candidates=ids, proximity=proximity,
                                     refresh=False)
            return dict(found)
        found = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            hits = self._database_search(query, spec, len(part), 0, (papers.c.id.in_(part),))
            found.update((h.paper_id, h.score) for h in hits)
        return found

    def ordered_matches(
        self, query: ParsedQuery, spec: FilterSpec, order: Sequence, *, limit: int,
        offset: int = 0,
    ) -> list[str]:
        """Ids of the papers matching the query, in the given SQL order (date, upvotes)."""
        if not query.has_text:
            return []
        with self.engine.connect() as conn:
            if self.sqlite:
                stmt = (
                    select(papers.c.id)
                    .select_from(_fts.join(papers, literal_column("papers.rowid") == _fts.c.rowid))
                    .where(text("papers_fts MATCH :match"))
                    .where(*filter_conditions(spec))
                    .order_by(*order).limit(limit).offset(offset)
                )
                return list(conn.execute(stmt, {"match": to_fts5_match(query)}).scalars())
            stmt = (
                select(papers.c.id)
                .where(literal_column("papers.search_vector").op("@@")(_pg_tsquery()))
                .where(*filter_conditions(spec))
                .order_by(*order).limit(limit).offset(offset)
            )
            return list(conn.execute(stmt, {"tsq": _pg_websearch_text(query)}).scalars())

    def count(self, query: ParsedQuery, spec: FilterSpec) -> int:
        """How many papers match at all (for result totals)."""
        if not query.has_text:
            return 0
        with self.engine.connect() as conn:
            if self.sqlite:
                stmt = (
                    select(func.count())
                    .select_from(_fts.join(papers, literal_column("papers.rowid") == _fts.c.rowid))
                    .where(text("papers_fts MATCH :match"))
                    .where(*filter_conditions(spec))
                )
                return conn.execute(stmt, {"match": to_fts5_match(query)}).scalar_one()
            stmt = (
                select(func.count())
                .select_from(papers)
                .where(literal_column("papers.search_vector").op("@@")(_pg_tsquery()))
                .where(*filter_conditions(spec))
            )
            return conn.execute(stmt, {"tsq": _pg_websearch_text(query)}).scalar_one()

    def snippets(self, query: ParsedQuery, paper_ids: Sequence[str]) -> dict[str, str]:
        """HTML-safe abstract snippets with <mark> around matched words."""
        if not query.has_text or not paper_ids:
            return {}
        stems = set(self.analyzer.stems(
            [fold(w) for w in (*query.terms, *(w for p in query.phrases for w in p))]))
        with self.engine.connect() as conn:
            rows = conn.execute(_ABSTRACTS, {"ids": list(paper_ids)}).all()
        return {pid: s for pid, abstract in rows if (s := highlight(abstract, stems,
                                                                     self.analyzer))}

    def _sqlite_search(
        self, conn: Connection, query: ParsedQuery, spec: FilterSpec, limit: int, offset: int,
        extra: Sequence = (),
    ) -> list[KeywordHit]:
        w = SQLITE_WEIGHTS
        bm25 = literal_column(f"bm25(papers_fts, {w['title']}, {w['abstract']}, {w['authors']})")
        stmt = (
            select(papers.c.id, bm25.label("bm25"))
            .select_from(_fts.join(papers, literal_column("papers.rowid") == _fts.c.rowid))
            .where(text("papers_fts MATCH :match"))
            .where(*filter_conditions(spec), *extra)
            .order_by(bm25)
            .limit(limit)
            .offset(offset)
        )
        rows = conn.execute(stmt, {"match": to_fts5_match(query)})
        return [KeywordHit(pid, -float(score)) for pid, score in rows]

    def _pg_search(
        self, conn: Connection, query: ParsedQuery, spec: FilterSpec, limit: int, offset: int,
        extra: Sequence = (),
    ) -> list[KeywordHit]:
        weights = literal_column("'{" + ",".join(str(x) for x in PG_WEIGHTS) + "}'::float4[]")
        vector = literal_column("papers.search_vector")
        params: dict[str, object] = {"tsq": _pg_websearch_text(query)}
        if PG_RANKING == "idf":
            # BM25-like: each term's ts_rank, weighted by the term's inverse document
            # frequency (ts_rank alone has no notion of how rare a word is).
            parts = _pg_parts(query)
            idfs = self._pg_idf(conn, parts)
            rank = None
            for i, part in enumerate(parts):
                params[f"p{i}"] = part
                term_query = func.websearch_to_tsquery(
                    literal_column("'english'::regconfig"), bindparam(f"p{i}")
                )
                term = func.ts_rank(weights, vector, term_query, PG_NORMALIZATION) * idfs[part]
                rank = term if rank is None else rank + term
        else:
            rank = func.ts_rank_cd(weights, vector, _pg_tsquery(), PG_NORMALIZATION)
        stmt = (
            select(papers.c.id, rank.label("rank"))
            .where(vector.op("@@")(_pg_tsquery()))
            .where(*filter_conditions(spec), *extra)
            .order_by(rank.desc(), papers.c.id)
            .limit(limit)
            .offset(offset)
        )
        rows = conn.execute(stmt, params)
        return [KeywordHit(pid, float(score)) for pid, score in rows]

    def _pg_idf(self, conn: Connection, parts: Sequence[str]) -> dict[str, float]:
        """BM25's idf per term, from GIN-indexed counts cached for a few minutes."""
        now = time.monotonic()
        if now - self._df_stamp > DF_CACHE_TTL_S:
            self._df.clear()
            self._n_docs = conn.execute(select(func.count()).select_from(papers)).scalar_one()
            self._df_stamp = now
        idf = {}
        for part in parts:
            if part not in self._df:
                self._df[part] = conn.execute(
                    select(func.count())
                    .select_from(papers)
                    .where(literal_column("papers.search_vector").op("@@")(
                        func.websearch_to_tsquery(literal_column("'english'::regconfig"), part)
                    ))
                ).scalar_one()
            df, n = self._df[part], max(1, self._n_docs)
            idf[part] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return idf


def _pg_tsquery():
    return func.websearch_to_tsquery(literal_column("'english'::regconfig"), bindparam("tsq"))


def _pg_parts(query: ParsedQuery) -> list[str]:
    """One sanitised websearch_to_tsquery input per term or phrase."""
    return [f'"{t}"' for t in query.terms] + ['"' + " ".join(p) + '"' for p in query.phrases]


def _pg_websearch_text(query: ParsedQuery) -> str:
    return to_websearch_text(query) or ""
