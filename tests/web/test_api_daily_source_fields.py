"""/api/daily_papers against the stored Hugging Face response for 2025-06-16.

The day is imported from the shared file; the API answer must agree with the file on
order (upvotes, then the source's order), thumbnails, the item-level publishedAt and
the submitter fields the source had.
"""

from __future__ import annotations

import json

import httpx
import pytest
from huggingface_hub import HfApi

from paperwire.services.ingest import ingest
from paperwire.sources.bulk_files import iter_records, plan_import
from tests.web.live_server import live_server

DAY = "2025-06-16"


@pytest.fixture
def stored(shared_dir):
    return json.loads((shared_dir / "data" / "hf-daily-papers" / f"{DAY}.json").read_text())


@pytest.fixture
def served(container, shared_dir):
    files = plan_import([shared_dir / "data" / "hf-daily-papers" / f"{DAY}.json"])
    ingest(container.engine, iter_records(files), source="hf", parameters={})
    with live_server(container) as url:
        yield url


def test_day_matches_the_stored_hugging_face_response(served, stored):
    answer = httpx.get(f"{served}/api/daily_papers", params={"date": DAY}).json()
    assert [i["paper"]["id"] for i in answer] == [i["paper"]["id"] for i in stored]
    assert answer[0]["paper"]["id"] == "2506.11924" and answer[0]["paper"]["upvotes"] == 20
    for mine, theirs in zip(answer, stored, strict=True):
        assert mine["thumbnail"] == theirs["thumbnail"]
        assert mine["publishedAt"] == theirs["publishedAt"]  # the item's, not the paper's
        assert mine["paper"]["publishedAt"] == theirs["paper"]["publishedAt"]
        assert mine["summary"] == mine["paper"]["summary"]
        expected = {k: v for k, v in theirs["submittedBy"].items() if k != "isUserFollowing"}
        assert mine["submittedBy"] == expected
        daily_by = mine["paper"]["submittedOnDailyBy"]
        for key, value in theirs["paper"]["submittedOnDailyBy"].items():
            assert daily_by[key] == value
    assert answer[0]["publishedAt"] == "2025-06-13T12:19:00.000Z"  # the paper says 16:19


def test_hf_client_sees_the_source_fields(served, stored):
    papers = list(HfApi(endpoint=served, token=False).list_daily_papers(date=DAY))
    assert [p.id for p in papers] == [i["paper"]["id"] for i in stored]
    top = papers[0]
    assert top.submitted_by.fullname == "Bracio"
    assert top.submitted_by.avatar_url == "/avatars/289d611e0907f02f72d4e489468e039c.svg"


def test_other_sorts_keep_working(served):
    by_date = httpx.get(
        f"{served}/api/daily_papers", params={"date": DAY, "sort": "publishedAt"}
    ).json()
    stamps = [i["publishedAt"] for i in by_date]
    assert stamps == sorted(stamps, reverse=True) and len(stamps) == 9
    trending = httpx.get(
        f"{served}/api/daily_papers", params={"date": DAY, "sort": "trending"}
    ).json()
    scores = [i["trending"]["score"] for i in trending]
    assert scores == sorted(scores, reverse=True) and len(scores) == 9
    bad = httpx.get(f"{served}/api/daily_papers", params={"date": DAY, "sort": "upvote"})
    assert bad.status_code == 422


def test_page_json_twin_has_the_full_summary(served, stored):
    twin = httpx.get(f"{served}/", params={"date": DAY, "format": "json"})
    assert twin.status_code == 200, twin.text
    summaries = {p["id"]: p["summary"] for p in twin.json()["papers"]}
    api = httpx.get(f"{served}/api/daily_papers", params={"date": DAY}).json()
    full = {i["paper"]["id"]: i["paper"]["summary"] for i in api}
    assert summaries == full  # the whole abstract, as stored
    first = stored[0]["paper"]
    assert len(summaries[first["id"]]) > 1000 and not summaries[first["id"]].endswith("…")
    thumbs = {p["id"]: p["thumbnail"] for p in twin.json()["papers"]}
    assert thumbs[first["id"]] == stored[0]["thumbnail"]
