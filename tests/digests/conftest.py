"""Fixtures for digest tests: a real SMTP sink, mail-ready settings, a few papers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from paperwire.config import Settings, load_settings
from paperwire.domain.records import DailyEntryRecord, PaperRecord, SourceItem
from paperwire.services.ingest import ingest
from paperwire.wiring import Container, build_container
from tests.digests.smtp_sink import SmtpSink

DIGEST_DAY = date(2025, 6, 16)  # a Monday


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    try:
        yield sink
    finally:
        sink.stop()


def mail_settings(tmp_path, database_url: str, smtp_url: str = "", **extra) -> Settings:
    values = dict(
        data_dir=tmp_path / "data", database_url=database_url, embedder="none",
        base_url="https://paperwire.example.org", smtp_url=smtp_url,
        mail_from="Paperwire Digest <digest@paperwire.example.org>",
        mail_reply_to="editors@paperwire.example.org",
        smtp_retries=2, smtp_backoff_s=0.05, smtp_timeout_s=3.0,
        subscribe_resend_interval_s=0.0, digest_max_bounces=1,
    )
    values.update(extra)
    return load_settings(**values)


@pytest.fixture
def smtp_settings(tmp_path, database_url, smtp_sink) -> Settings:
    return mail_settings(tmp_path, database_url, smtp_sink.url)


@pytest.fixture
def smtp_container(smtp_settings) -> Iterator[Container]:
    container = build_container(smtp_settings)
    container.prepare_database()
    try:
        yield container
    finally:
        container.close()


@pytest.fixture
def smtp_client(smtp_container):
    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app

    with TestClient(create_app(smtp_container), base_url="https://testserver") as client:
        yield client


def make_paper(n: int, *, day: date, title: str, abstract: str = "", upvotes: int = 0,
               authors: tuple[str, ...] = ("Ada Lovelace",), categories=("cs.CL",),
               stars: int | None = None) -> SourceItem:
    published = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    record = PaperRecord(
        id=f"2506.{n:05d}", title=title, abstract=abstract or f"An abstract about {title}.",
        authors=authors, primary_category=categories[0], categories=tuple(categories),
        published_at=published, github_stars=stars, source_upvotes=upvotes,
        sources=frozenset({"test"}),
    )
    entry = DailyEntryRecord(paper_id=record.id, day=day, source="test")
    return SourceItem(paper=record, daily_entry=entry)


def seed_papers(engine, day: date = DIGEST_DAY, count: int = 12) -> list[str]:
    """`count` papers on the daily page of `day`, upvotes descending by index."""
    topics = ["retrieval augmented generation", "diffusion models for video",
              "speech recognition", "graph neural networks"]
    items = [
        make_paper(i, day=day, title=f"Paper {i} on {topics[i % len(topics)]}",
                   upvotes=100 - i, authors=("Ada Lovelace", f"Author {i}"))
        for i in range(1, count + 1)
    ]
    ingest(engine, items, source="test", parameters={})
    return [item.paper.id for item in items]
