"""Provenance and merge rules of enrichment, on the configured database (SQLite or PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from paperwire import worker as worker_module
from paperwire.domain.records import PaperRecord
from paperwire.llm.chat_summarizer import ChatSettings, ChatSummarizer
from paperwire.services.enrichment import enrich_papers, generate_summaries
from paperwire.services.papers import cards_by_id
from paperwire.store.papers import upsert_papers
from paperwire.store.tables import paper_enrichments
from tests.enrichment.chat_server import MODEL, ChatServer

ABSTRACT = (
    "Large language models (LLMs) decode one token at a time, which makes serving slow. "
    "Existing speculative methods need a second model. In this paper, we propose Draft "
    "Heads, a speculative decoding method that drafts tokens with light heads on the LLM "
    "itself. Draft Heads speed up decoding of large language models by 2.5 times."
)


def paper(pid: str, **fields) -> PaperRecord:
    values = {"title": f"Draft Heads for Speculative Decoding {pid}", "abstract": ABSTRACT,
              "sources": frozenset({"arxiv"}), "version": 1,
              "published_at": datetime(2025, 6, 1, tzinfo=UTC)}
    values.update(fields)
    return PaperRecord(id=pid, **values)


def store(engine, *records: PaperRecord) -> None:
    with engine.begin() as conn:
        upsert_papers(conn, records)


def card(engine, pid: str):
    with engine.connect() as conn:
        return cards_by_id(conn, [pid])[pid]


def rows(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r.paper_id: r._asdict() for r in conn.execute(select(paper_enrichments))}


def test_papers_without_source_values_get_extracted_ones(container):
    engine = container.engine
    store(engine, paper("2506.00001"), paper("2506.00002"))
    report = enrich_papers(engine, idf=None)
    assert report.enriched == 2 and report.failed == 0
    shown = card(engine, "2506.00001")
    assert shown.ai_summary is None and shown.ai_keywords == []  # source fields stay empty
    assert shown.summary_line.startswith("This paper proposes Draft Heads")
    assert shown.summary_origin == "extracted" and shown.keywords_origin == "extracted"
    assert shown.provenance(shown.summary_origin) == "extracted"
    assert 5 <= len(shown.keywords) <= 8
    assert "large language models" in [k.lower() for k in shown.keywords]


def test_enrichment_is_incremental(container):
    engine = container.engine
    store(engine, paper("2506.00001"), paper("2506.00002"), paper("2506.00003"))
    assert enrich_papers(engine, limit=2).enriched == 2
    assert enrich_papers(engine).enriched == 1
    again = enrich_papers(engine)
    assert again.enriched == 0 and again.checked == 0
    # Votes change the paper row but not its text: checked, not recomputed.
    store(engine, paper("2506.00001", source_upvotes=5))
    report = enrich_papers(engine)
    assert report.checked == 1 and report.unchanged == 1 and report.enriched == 0
    # A new arXiv version with another abstract is recomputed.
    store(engine, paper("2506.00001", version=2,
                        abstract="We introduce a benchmark for tokamak plasma control."))
    assert enrich_papers(engine).enriched == 1
    assert "tokamak" in card(engine, "2506.00001").summary_line


def test_source_values_are_never_overwritten_and_win_when_they_arrive_later(container):
    engine = container.engine
    store(engine, paper("2506.00001", ai_summary="HF's own summary.", ai_keywords=("hf kw",)),
          paper("2506.00002", ai_keywords=("only keywords",)),
          paper("2506.00003"))
    enrich_papers(engine)
    stored = rows(engine)
    assert "2506.00001" not in stored  # the source has both: nothing to compute
    assert stored["2506.00002"]["keywords"] is None  # only the missing summary was computed
    assert stored["2506.00002"]["summary"]
    first = card(engine, "2506.00001")
    assert first.summary_line == "HF's own summary." and first.keywords == ["hf kw"]
    assert first.provenance(first.summary_origin) == "from Hugging Face"
    second = card(engine, "2506.00002")
    assert second.keywords == ["only keywords"] and second.keywords_origin == "source"
    assert second.summary_origin == "extracted"
    # Hugging Face sends values for the third paper later: they replace the computed ones.
    store(engine, paper("2506.00003", sources=frozenset({"hf"}), ai_summary="Later HF line.",
                        ai_keywords=("later", "keywords")))
    third = card(engine, "2506.00003")
    assert third.summary_line == "Later HF line." and third.summary_origin == "source"
    assert third.keywords == ["later", "keywords"]
    report = enrich_papers(engine)
    assert report.superseded == 1
    assert "2506.00003" not in rows(engine)
    # A source value that arrives for one field only: the computed field it replaces goes.
    store(engine, paper("2506.00002", sources=frozenset({"hf"}), ai_summary="HF line."))
    enrich_papers(engine)
    assert "2506.00002" not in rows(engine)


def test_bad_papers_never_stop_the_step(container):
    engine = container.engine
    huge = "We propose Quasar, a method for $\\mathcal{O}(n)$ attention. " * 400
    store(engine, paper("2506.00001", abstract=""), paper("2506.00002", title="x", abstract="y"),
          paper("2506.00003", abstract=huge[:20_000]),
          paper("2506.00004", title="图像分割", abstract="我们提出了一种新的图像分割方法。"))
    report = enrich_papers(engine)
    assert report.failed == 0 and report.enriched == 4
    assert card(engine, "2506.00001").summary_line is None
    assert enrich_papers(engine).enriched == 0  # an empty result is stored, not redone


def test_generated_summaries_replace_extracted_ones_and_failures_retry_later(container):
    engine = container.engine
    store(engine, paper("2506.00001"), paper("2506.00002"),
          paper("2506.00003", ai_summary="HF summary stays."))
    enrich_papers(engine)
    with ChatServer() as server:
        server.script.extend([
            ("ok", "Draft Heads double decoding speed of language models with small heads."),
            ("status", 500), ("status", 500), ("junk",),
        ])
        summarizer = ChatSummarizer(ChatSettings(url=server.url, model=MODEL, timeout_s=2,
                                                 retries=2, backoff_s=0.01, concurrency=1))
        now = datetime(2026, 1, 1, tzinfo=UTC)
        with summarizer:
            report = generate_summaries(engine, summarizer, now=now)
        assert report.generated == 1 and report.failed == 1
        assert len(server.requests) == 4  # the HF paper was never sent
        done = [pid for pid in ("2506.00001", "2506.00002")
                if card(engine, pid).summary_origin == "generated"]
        assert len(done) == 1
        generated = card(engine, done[0])
        assert generated.provenance(generated.summary_origin) == f"generated by {MODEL}"
        failed_id = ({"2506.00001", "2506.00002"} - set(done)).pop()
        failed = card(engine, failed_id)
        assert failed.summary_origin == "extracted"  # kept, nothing half-written
        assert failed.summary_line.startswith("This paper proposes")
        row = rows(engine)[failed_id]
        assert row["generation_attempts"] == 1 and row["generation_error"]
        # Not due yet: nothing is sent. Due later: retried and stored.
        with ChatSummarizer(summarizer.settings) as summarizer_again:
            assert generate_summaries(engine, summarizer_again,
                                      now=now + timedelta(minutes=1)).generated == 0
            server.script.append(("ok", "A second try that works well and reads as one line."))
            later = generate_summaries(engine, summarizer_again, now=now + timedelta(days=1))
        assert later.generated == 1
        assert card(engine, failed_id).summary_origin == "generated"
    # A re-enrich run with the same text keeps the generated summaries.
    store(engine, paper("2506.00001", source_upvotes=9))
    enrich_papers(engine)
    assert card(engine, "2506.00001").summary_origin == "generated"


def test_the_worker_enriches_after_embedding_and_before_the_digests(container):
    steps = worker_module.STEPS
    assert steps.index("embed") < steps.index("enrich") < steps.index("digests")
    store(container.engine, paper("2506.00001"))
    line = worker_module.Worker(container)._enrich(date(2026, 1, 1))
    assert line.startswith("enriched 1 papers")
    with container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(paper_enrichments)).scalar_one() == 1
