"""Enrichment: keyphrases and a one-line summary for papers whose source gave none.

`enrich_papers` is incremental: it looks only at papers that lack a source value and
whose enrichment is missing or older than the paper, recomputes a row only when the
title or abstract changed, and writes each batch in one transaction. The optional
abstractive step (`generate_summaries`) replaces extracted summaries through an
OpenAI-compatible endpoint; a failure leaves the extracted summary and schedules a retry.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select

from paperwire.domain.keyphrases import extract_keyphrases, idf_from_frequencies
from paperwire.domain.summaries import extractive_summary
from paperwire.store import enrichments as store
from paperwire.store.db import utcnow
from paperwire.store.tables import papers

log = logging.getLogger(__name__)

BATCH_SIZE = 500
IDF_SAMPLE = 20_000  # papers read to estimate document frequencies
GENERATION_MAX_ATTEMPTS = 5
GENERATION_BACKOFF = timedelta(minutes=30)  # doubles per failed attempt


@dataclass(slots=True)
class EnrichReport:
    checked: int = 0
    enriched: int = 0
    unchanged: int = 0
    superseded: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary_line(self) -> str:
        line = (f"enriched {self.enriched} papers ({self.unchanged} unchanged, "
                f"{self.superseded} replaced by source values)")
        if self.failed:
            line += f"; {self.failed} failed: {'; '.join(self.errors[:3])}"
        return line


def corpus_idf(engine: Engine, *, sample: int = IDF_SAMPLE,
               seed: int = 0) -> Callable[[str], float]:
    """IDF of words over (a sample of) the stored papers, with the keyword index's analysis.

    A sample of 20,000 papers estimates document frequencies well enough to rank phrases
    (an IDF error of a few percent) and takes seconds rather than a minute at 80k papers.
    """
    from paperwire.search.text_analysis import Analyzer

    analyzer = Analyzer()
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(papers)).scalar_one()
        query = select(papers.c.title, papers.c.abstract)
        if total > sample:
            ids = list(conn.execute(select(papers.c.id)).scalars())
            chosen = random.Random(seed).sample(ids, sample)
            rows = []
            for start in range(0, len(chosen), 1000):
                rows.extend(conn.execute(query.where(papers.c.id.in_(chosen[start:start + 1000]))))
        else:
            rows = list(conn.execute(query))
    df: Counter[str] = Counter()
    for title, abstract in rows:
        df.update(set(analyzer.analyze(f"{title or ''} {abstract or ''}")))
    n = len(rows)
    return idf_from_frequencies(lambda term: df.get(term, 0), n, analyze=analyzer.analyze)


def compute(text: store.PaperText, idf: Callable[[str], float] | None) -> store.Enrichment:
    """The enrichment of one paper: only the fields its source lacks."""
    keywords = None
    if not text.has_source_keywords:
        keywords = tuple(extract_keyphrases(text.title, text.abstract, idf=idf))
    summary = origin = model = None
    if not text.has_source_summary:
        content = store.text_hash(text.title, text.abstract)
        if (text.stored_summary_origin == store.GENERATED and text.stored_hash == content
                and text.stored_summary):
            summary, origin, model = text.stored_summary, store.GENERATED, text.stored_summary_model
        else:
            summary = extractive_summary(text.title, text.abstract)
            origin = store.EXTRACTED
    return store.Enrichment(text.id, store.text_hash(text.title, text.abstract), keywords,
                            summary, origin, model)


def enrich_papers(
    engine: Engine,
    *,
    idf: Callable[[str], float] | None = None,
    limit: int | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> EnrichReport:
    """Compute what is missing for up to `limit` papers; one transaction per batch."""
    report = EnrichReport()
    with engine.begin() as conn:
        superseded = store.superseded(conn)
        store.drop(conn, superseded)
    report.superseded = len(superseded)
    with engine.connect() as conn:
        ids = store.papers_to_enrich(conn, limit=limit)
    if progress is not None:
        progress(0, len(ids))
    if ids and idf is None:
        idf = corpus_idf(engine)
    for start in range(0, len(ids), batch_size):
        if should_stop is not None and should_stop():
            break
        batch = ids[start:start + batch_size]
        with engine.connect() as conn:
            texts = store.read_texts(conn, batch)
        rows: list[store.Enrichment] = []
        unchanged: list[str] = []
        for text in texts:
            content = store.text_hash(text.title, text.abstract)
            if text.stored_hash == content and _same_fields(text):
                unchanged.append(text.id)
                continue
            try:
                rows.append(compute(text, idf))
            except Exception as exc:  # one odd paper never stops the step
                report.failed += 1
                report.errors.append(f"{text.id}: {type(exc).__name__}: {exc}")
                log.exception("enrichment of %s failed", text.id)
        now = utcnow()
        with engine.begin() as conn:
            store.save_enrichments(conn, rows, now=now)
            store.touch(conn, unchanged, now=now)
        report.checked += len(texts)
        report.enriched += len(rows)
        report.unchanged += len(unchanged)
        if progress is not None:
            progress(min(start + batch_size, len(ids)), len(ids))
    return report


def _same_fields(text: store.PaperText) -> bool:
    """Whether the stored row still covers exactly the fields the source lacks."""
    keywords_ok = text.stored_has_keywords != text.has_source_keywords
    summary_ok = not (text.has_source_summary and text.stored_summary is not None)
    return keywords_ok and summary_ok


# ---- the optional abstractive path --------------------------------------------------------


@dataclass(slots=True)
class GenerationReport:
    generated: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary_line(self) -> str:
        line = f"generated {self.generated} summaries"
        if self.failed:
            line += f"; {self.failed} failed (kept the extracted summary, retried later)"
        return line


def retry_delay(attempts: int) -> timedelta:
    """How long after its n-th failure a paper is tried again."""
    return GENERATION_BACKOFF * (2 ** max(0, min(attempts, 8)))


def generate_summaries(
    engine: Engine,
    summarizer,
    *,
    limit: int = 200,
    max_attempts: int = GENERATION_MAX_ATTEMPTS,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> GenerationReport:
    """Replace extracted summaries by generated ones, through `summarizer` (a ChatSummarizer).

    Each result is written alone, after the whole answer arrived and passed the checks, so
    nothing is half-written; a failure records the error and a retry time.
    """
    now = now or utcnow()
    report = GenerationReport()
    with engine.connect() as conn:
        candidates = store.generation_candidates(conn, now=now, limit=limit,
                                                 max_attempts=max_attempts)
    if not candidates:
        return report
    results = summarizer.summarize_many([(c.title, c.abstract) for c in candidates])
    for done, (candidate, result) in enumerate(zip(candidates, results, strict=True), 1):
        with engine.begin() as conn:
            if isinstance(result, str):
                store.save_generated(conn, candidate.paper_id, candidate.content_hash, result,
                                     summarizer.model, now=utcnow())
                report.generated += 1
            else:
                retry_at = now + retry_delay(candidate.attempts)
                store.record_failure(conn, candidate.paper_id, str(result), retry_at=retry_at)
                report.failed += 1
                report.errors.append(f"{candidate.paper_id}: {result}")
        if progress is not None:
            progress(done, len(candidates))
    return report

