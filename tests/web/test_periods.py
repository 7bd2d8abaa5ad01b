"""Weeks and months count distinct papers, say their days, and link only to periods with papers."""

from __future__ import annotations

from datetime import date

from paperwire.domain.records import DailyEntryRecord, PaperRecord, SourceItem
from paperwire.services.ingest import ingest


def _again(engine, paper_id: str, day: date) -> None:
    paper = PaperRecord(id=paper_id, title="again", abstract="", sources=frozenset({"fixture"}))
    ingest(engine, [SourceItem(paper, DailyEntryRecord(paper_id, day, "fixture"))],
           source="fixture", parameters={})


def test_a_paper_on_two_days_counts_once_and_lists_both(seeded, client):
    month = client.get("/?month=2025-06&format=json").json()
    before = month["total"]
    first = month["papers"][0]["id"]
    day = date.fromisoformat(month["papers"][0]["featuredOn"][0])
    other = date(2025, 6, 11) if day != date(2025, 6, 11) else date(2025, 6, 12)
    _again(seeded.engine, first, other)
    after = client.get("/?month=2025-06&format=json").json()
    ids = [p["id"] for p in after["papers"]]
    assert after["total"] == before == len(ids) == len(set(ids))
    listed = next(p for p in after["papers"] if p["id"] == first)
    assert sorted(listed["featuredOn"]) == sorted({day.isoformat(), other.isoformat()})
    # Pages hold distinct papers too, and together they cover the total.
    seen = []
    for page in range(3):
        data = client.get(f"/?month=2025-06&format=json&p={page}").json()
        seen += [p["id"] for p in data["papers"]]
    assert len(seen) == len(set(seen)) == before
    html = client.get("/?month=2025-06").text
    assert "On the feed" in html and f'href="/?date={other.isoformat()}"' in html


def test_next_and_previous_skip_empty_periods(seeded, client):
    # The demo set is on 11-16 June 2025; the fixture's old paper is not on the feed.
    week = client.get("/?week=2025-W25&format=json").json()
    assert week["prev"] == "2025-W24" and week["next"] is None
    assert client.get("/?week=2025-W24&format=json").json()["prev"] is None
    month = client.get("/?month=2025-06&format=json").json()
    assert month["prev"] is None and month["next"] is None
    _again(seeded.engine, "2506.11924", date(2025, 9, 3))
    june = client.get("/?month=2025-06&format=json").json()
    assert june["next"] == "2025-09"  # July and August are empty
    assert client.get("/?week=2025-W25&format=json").json()["next"] == "2025-W36"
    html = client.get("/?month=2025-06").text
    assert 'href="/?month=2025-09"' in html and 'href="/?month=2025-07"' not in html
    for key in (june["next"],):
        assert client.get(f"/?month={key}&format=json").json()["total"] >= 1


def test_trending_label_ends_on_the_last_day_of_the_window(seeded, client):
    data = client.get("/trending?format=json").json()
    assert data["until"] == "2025-06-16" and data["since"] == "2025-06-10"
    html = client.get("/trending").text
    assert "Papers added 10 Jun 2025 – 16 Jun 2025" in html or "10 Jun – 16 Jun 2025" in html, (
        html[html.index("period-label"):][:200]
    )
