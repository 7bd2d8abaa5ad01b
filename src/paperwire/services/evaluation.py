"""The relevance harness: index a BEIR folder through the product's own paths, score search.

The corpus goes through `ingest` (and `embed_missing` for semantic modes) into a
database of its own, and every query through `SearchService.search`, so the
figures are those of the product, not of a side implementation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from paperwire.domain.records import PaperRecord, SourceItem
from paperwire.search.beir import BeirDoc, parse_day, read_corpus, read_qrels, read_queries
from paperwire.search.metrics import score_run
from paperwire.search.plan import MODES
from paperwire.services.ingest import ingest
from paperwire.wiring import Container

EVAL_DEPTH = 100
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class EvalReport:
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)
    docs: int = 0


def internal_id(corpus_id: str) -> str:
    """Paper ids are at most 64 characters; longer corpus ids get a stable digest."""
    if 0 < len(corpus_id) <= 64:
        return corpus_id
    return "beir-" + hashlib.sha1(corpus_id.encode("utf-8")).hexdigest()


def _items(docs: Iterable[BeirDoc], ids: dict[str, str]) -> Iterator[SourceItem]:
    for doc in docs:
        pid = internal_id(doc.id)
        ids[pid] = doc.id
        day = parse_day(doc.date)
        published = datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None
        yield SourceItem(
            PaperRecord(id=pid, title=doc.title, abstract=doc.text, published_at=published,
                        sources=frozenset({"beir"}))
        )


def index_folder(
    container: Container,
    docs: Iterable[BeirDoc],
    *,
    folder: Path,
    embed: bool,
    cache_dir: Path | None,
    progress: Progress | None = None,
) -> dict[str, str]:
    """Import `docs` through the product's ingest (and embed them, through the content-hash
    cache, when `embed`); returns internal id -> corpus id. Waits for the search indexes."""
    ids: dict[str, str] = {}
    done = 0

    def on_progress(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("index", done, 0)

    ingest(container.engine, _items(docs, ids), source="beir",
           parameters={"folder": str(folder)}, on_progress=on_progress)
    if embed and container.embedder is not None:
        from paperwire.services.embeddings import embed_missing

        embed_missing(
            container.engine,
            container.embedder,
            cache_dir=cache_dir,
            progress=(lambda d, t: progress("embed", d, t)) if progress else None,
        )
        if container.vector_index is not None:
            container.vector_index.refresh(force=True)
            container.vector_index.build_ann(wait=True)  # score what serving would use
    if container.keyword_index is not None:
        container.keyword_index.wait_ready()  # rank with the product's default ranker
    return ids


def evaluate(
    container: Container,
    folder: Path,
    modes: Iterable[str],
    *,
    cache_dir: Path | None,
    progress: Progress | None = None,
) -> EvalReport:
    """Index `folder` into the container's (empty) database and score each mode."""
    modes = list(modes)
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: use keyword, semantic, hybrid or all")
    queries = read_queries(folder)
    qrels = read_qrels(folder)
    report = EvalReport()
    ids = index_folder(container, read_corpus(folder), folder=folder,
                       embed=any(m != "keyword" for m in modes), cache_dir=cache_dir,
                       progress=progress)
    report.docs = len(ids)
    service = container.search
    judged = [q for q in queries if q in qrels]
    for mode in modes:
        run: dict[str, list[str]] = {}
        for i, qid in enumerate(judged, 1):
            results = service.search(queries[qid], mode=mode, limit=EVAL_DEPTH)
            run[qid] = [ids.get(h.paper_id, h.paper_id) for h in results.hits]
            if results.notice and mode not in report.notices and results.hits:
                report.notices[mode] = results.notice
            if progress:
                progress(mode, i, len(judged))
        report.scores[mode] = score_run(run, {q: qrels[q] for q in judged})
    return report
