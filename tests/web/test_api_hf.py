"""The JSON API, driven by the real huggingface_hub client against a live uvicorn server."""

from __future__ import annotations

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from tests.web.conftest import XSS_TITLE
from tests.web.live_server import live_server


@pytest.fixture
def hf(seeded):
    with live_server(seeded) as url:
        yield HfApi(endpoint=url, token=False), url


def test_list_daily_papers(hf):
    api, _ = hf
    papers = list(api.list_daily_papers(date="2025-06-16"))
    assert len(papers) == 4
    votes = [p.upvotes for p in papers]
    assert votes == sorted(votes, reverse=True)  # as Hugging Face: upvotes first by default
    by_date = [p.published_at for p in api.list_daily_papers(date="2025-06-16", sort="publishedAt")]
    assert by_date == sorted(by_date, reverse=True)
    top = next(p for p in papers if p.id == "2506.11924")
    assert top.title == XSS_TITLE and top.upvotes == 99 and top.comments == 3
    assert [a.name for a in top.authors] == ["Min-Seop Kwak", "Jin-Hwa Kim", "O'Brien, Jr."]
    assert top.summary.startswith("An abstract with")
    assert top.published_at.year == 2025 and top.submitted_by.fullname == "Bracio"
    assert top.organization.name == "nvidia" and top.organization.fullname == "NVIDIA"
    assert top.github_repo == "https://github.com/cvlab-kaist/MoAI" and top.github_stars == 1234
    assert top.ai_keywords == ["diffusion", "novel-view synthesis"]

    week = list(api.list_daily_papers(week="2025-W24", limit=100))
    assert len(week) == 9
    month = list(api.list_daily_papers(month="2025-06", p=1, limit=5))
    assert len(month) == 5
    assert [p.id for p in api.list_daily_papers(submitter="bracio9623")] == ["2506.11924"]
    trending = list(api.list_daily_papers(date="2025-06-16", sort="trending"))
    assert trending[0].trending["score"] >= trending[-1].trending["score"]
    latest = list(api.list_daily_papers(sort="publishedAt", limit=3))
    assert len(latest) == 3


def test_paper_info(hf):
    api, _ = hf
    info = api.paper_info("2506.11924")
    assert info.id == "2506.11924" and info.title == XSS_TITLE and info.upvotes == 99
    assert info.ai_summary == "A diffusion framework for aligned novel views."
    assert info.project_page == "https://cvlab-kaist.github.io/MoAI/"
    assert api.paper_info("2506.11924v2").id == "2506.11924"
    with pytest.raises(HfHubHTTPError) as err:
        api.paper_info("2101.00001")
    assert err.value.response.status_code == 404


def test_list_papers_search(hf, seeded):
    api, _ = hf
    results = list(api.list_papers(query="gaussian splatting scene editing", limit=5))
    assert results and results[0].id == "0001.0004"


def test_cursor_paging_with_link_header(hf):
    _, url = hf
    seen, next_url = [], f"{url}/api/papers?limit=4"
    while next_url:
        response = httpx.get(next_url)
        assert response.status_code == 200
        seen += [p["id"] for p in response.json()]
        next_url = response.links.get("next", {}).get("url")
    assert len(seen) == 14 == len(set(seen)) and seen == sorted(seen)


def test_openapi_and_docs(hf):
    _, url = hf
    schema = httpx.get(f"{url}/openapi.json", timeout=60).json()  # built on first use
    for path in ("/api/daily_papers", "/api/papers/search", "/api/papers", "/api/papers/{ref}"):
        assert path in schema["paths"], path
    assert httpx.get(f"{url}/docs").status_code == 200
