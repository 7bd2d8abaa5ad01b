"""Fixtures for the site: the demo papers plus a few hand-written ones, on a real database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from paperwire.demo import demo_items
from paperwire.domain.records import DailyEntryRecord, OrganizationRecord, PaperRecord, SourceItem
from paperwire.services.ingest import ingest

DEMO_DAY = date(2025, 6, 16)  # a Monday: demo papers land on 16, 13, 12 and 11 June
XSS_TITLE = '<script>alert("pwned")</script> Attention <b>Is</b> & All'


def fixture_items() -> list[SourceItem]:
    nvidia = OrganizationRecord("nvidia", "NVIDIA")
    added = datetime(2025, 6, 16, 9, tzinfo=UTC)
    return [
        SourceItem(
            PaperRecord(
                id="2506.11924",
                title=XSS_TITLE,
                abstract='An abstract with <img src=x onerror="alert(1)"> markup & ampersands.',
                version=2,
                authors=("Min-Seop Kwak", "Jin-Hwa Kim", "O'Brien, Jr."),
                primary_category="cs.CV",
                categories=("cs.CV", "cs.LG"),
                published_at=datetime(2025, 6, 13, 16, tzinfo=UTC),
                github_repo="https://github.com/cvlab-kaist/MoAI",
                github_stars=1234,
                project_page="https://cvlab-kaist.github.io/MoAI/",
                ai_summary="A diffusion framework for aligned novel views.",
                ai_keywords=("diffusion", "novel-view synthesis"),
                organization=nvidia,
                sources=frozenset({"fixture"}),
                source_upvotes=99,
                source_comments=3,
            ),
            DailyEntryRecord(
                "2506.11924",
                DEMO_DAY,
                "fixture",
                submitted_by="bracio9623",
                submitted_by_name="Bracio",
                submitted_at=added,
            ),
        ),
        SourceItem(
            PaperRecord(
                id="hep-th/9901001",
                title="An old-style paper about strings",
                abstract="Strings, branes and old identifiers.",
                authors=("Min-Seop Kwak",),
                primary_category="hep-th",
                categories=("hep-th",),
                published_at=datetime(1999, 1, 5, tzinfo=UTC),
                sources=frozenset({"fixture"}),
            ),
            None,
        ),
    ]


def seed(engine) -> None:
    ingest(engine, demo_items(DEMO_DAY), source="demo", parameters={})
    ingest(engine, fixture_items(), source="fixture", parameters={})


@pytest.fixture
def seeded(container):
    seed(container.engine)
    return container
