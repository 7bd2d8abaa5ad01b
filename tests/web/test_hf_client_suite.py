"""The real huggingface_hub client and `hf papers` CLI against a running Paperwire.

Every HfApi call that touches papers, each parameter of list_daily_papers, and the
`hf papers` commands with `--format json`; answers are checked against the database
through the same services the pages use. Bad input gets a clear error, never a 500.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from paperwire.domain.periods import parse_period
from paperwire.services import feeds as feed_service
from paperwire.services import papers as paper_service
from tests.web.live_server import live_server

HF = Path(sys.executable).with_name("hf")


@pytest.fixture
def server(seeded):
    with live_server(seeded) as url:
        yield HfApi(endpoint=url, token=False), url, seeded


def _feed_ids(container, *, sort="upvotes", page=0, limit=50, submitter=None, **period):
    with container.engine.connect() as conn:
        chosen = parse_period(**period, today=date.today()) if period else None
        feed = feed_service.feed_page(
            conn, chosen, sort=sort, page=page, limit=limit, submitter=submitter
        )
    return [c.id for c in feed.papers]


def _card(container, paper_id):
    with container.engine.connect() as conn:
        return paper_service.cards_by_id(conn, [paper_id])[paper_id]


def test_list_daily_papers_each_parameter_matches_the_database(server):
    api, _, db = server

    def ids(**kwargs):
        return [p.id for p in api.list_daily_papers(**kwargs)]

    assert ids(date="2025-06-16") == _feed_ids(db, day="2025-06-16")
    assert ids(week="2025-W24", limit=100) == _feed_ids(db, week="2025-W24", limit=100)
    assert ids(month="2025-06", limit=100) == _feed_ids(db, month="2025-06", limit=100)
    assert ids(month="2025-06", p=1, limit=3) == _feed_ids(db, month="2025-06", page=1, limit=3)
    assert ids(submitter="bracio9623") == _feed_ids(db, submitter="bracio9623") == ["2506.11924"]
    assert ids(date="2025-06-16", sort="publishedAt") == _feed_ids(
        db, day="2025-06-16", sort="publishedAt"
    )
    assert ids(date="2025-06-16", sort="trending") == _feed_ids(
        db, day="2025-06-16", sort="trending"
    )
    assert ids(limit=2) == _feed_ids(db, limit=2)
    assert len(ids(month="2025-06", limit=100)) > 3


def test_paper_info_matches_the_database(server):
    api, _, db = server
    card = _card(db, "2506.11924")
    info = api.paper_info("2506.11924")
    assert (info.id, info.title, info.upvotes) == (card.id, card.title, card.upvotes)
    assert [a.name for a in info.authors] == card.authors
    assert info.summary == card.abstract and info.ai_keywords == card.ai_keywords
    assert info.published_at == card.published_at


def test_list_papers_search_and_limit(server):
    api, _, db = server
    results = list(api.list_papers(query="gaussian splatting scene editing", limit=3))
    assert 1 <= len(results) <= 3
    for paper in results:
        assert paper.title == _card(db, paper.id).title


def test_read_paper_is_the_markdown_document(server):
    api, _, db = server
    card = _card(db, "2506.11924")
    text = api.read_paper("2506.11924")
    assert text.startswith("# ") and "## Abstract" in text
    assert "Min-Seop Kwak" in text and card.ai_summary in text
    assert api.read_paper("hep-th/9901001").startswith("# An old-style paper about strings")


@pytest.mark.parametrize(
    ("call", "status", "message"),
    [
        (lambda api: api.paper_info("2101.00001"), 404, "Paper 2101.00001 not found."),
        (lambda api: api.read_paper("2101.00001"), 404, "Paper 2101.00001 not found."),
        (lambda api: api.paper_info("not-an-id"), 404, "is not an arXiv id"),
        (lambda api: api.read_paper("2513.00001"), 404, "the month must be 01 to 12"),
        (lambda api: list(api.list_papers(query="x" * 501)), 422, "at most 500 characters"),
        (lambda api: list(api.list_daily_papers(limit="ten")), 422, "limit: "),
        (lambda api: list(api.list_daily_papers(limit=1000)), 422, "limit: "),
        (lambda api: list(api.list_daily_papers(date="2025-13-45")), 422, ""),
        (lambda api: list(api.list_daily_papers(sort="upvote")), 422, "sort: "),
    ],
)
def test_bad_input_gets_a_clear_error_through_the_client(server, call, status, message):
    api, _, _ = server
    with pytest.raises(HfHubHTTPError) as err:
        call(api)
    assert err.value.response.status_code == status
    server_message = str(err.value).split("\n\n", 1)[-1]
    assert message in server_message and server_message.strip()


# ------------------------------------------------------------------ the `hf papers` CLI


def _hf(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env |= {"HF_ENDPOINT": url, "HF_HOME": str(tmp_path / "hf-home"), "NO_COLOR": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1"}
    return subprocess.run(
        [str(HF), "papers", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def hf_cli():
    if not HF.exists() and shutil.which("hf") is None:
        pytest.fail("the `hf` command of huggingface_hub is not installed (make install-test)")
    help_text = subprocess.run([str(HF), "papers", "--help"], capture_output=True, text=True)
    assert help_text.returncode == 0 and "read" in help_text.stdout
    return _hf


def test_hf_papers_cli_json_matches_the_database(server, hf_cli, tmp_path):
    _, url, db = server
    listed = hf_cli(url, tmp_path, "ls", "--date", "2025-06-16", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert [p["id"] for p in json.loads(listed.stdout)] == _feed_ids(db, day="2025-06-16")

    trending = hf_cli(url, tmp_path, "ls", "--sort", "trending", "--limit", "3", "--format",
                      "json")
    assert trending.returncode == 0, trending.stderr
    assert [p["id"] for p in json.loads(trending.stdout)] == _feed_ids(
        db, sort="trending", limit=3
    )

    found = hf_cli(url, tmp_path, "search", "gaussian splatting", "--limit", "2", "--format",
                   "json")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert 1 <= len(hits) <= 2 and all(_card(db, h["id"]).title == h["title"] for h in hits)

    info = hf_cli(url, tmp_path, "info", "2506.11924", "--format", "json")
    assert info.returncode == 0, info.stderr
    data = json.loads(info.stdout)
    card = _card(db, "2506.11924")
    assert data["id"] == card.id and data["title"] == card.title
    assert data["upvotes"] == card.upvotes

    read = hf_cli(url, tmp_path, "read", "2506.11924")
    assert read.returncode == 0, read.stderr
    assert "## Abstract" in read.stdout and "Min-Seop Kwak" in read.stdout
    # `hf papers read` prints text only in human/agent mode (json and quiet print nothing).
    read_human = hf_cli(url, tmp_path, "read", "2506.11924", "--format", "human")
    assert read_human.returncode == 0 and read_human.stdout.strip() == read.stdout.strip()
    read_json = hf_cli(url, tmp_path, "read", "2506.11924", "--format", "json")
    assert read_json.returncode == 0, read_json.stderr


def test_hf_papers_cli_errors_are_clear(server, hf_cli, tmp_path):
    _, url, _ = server
    # The CLI turns any 404 into its own sentence; the API's is checked above.
    missing = hf_cli(url, tmp_path, "info", "2101.00001")
    assert missing.returncode == 1 and "Paper '2101.00001' not found" in missing.stderr
    unread = hf_cli(url, tmp_path, "read", "not-an-id")
    assert unread.returncode == 1 and "Paper 'not-an-id' not found" in unread.stderr
    too_long = hf_cli(url, tmp_path, "search", "x" * 501)
    assert too_long.returncode == 1 and "at most 500 characters" in too_long.stderr
    bad_day = hf_cli(url, tmp_path, "ls", "--date", "2025-02-30")
    assert bad_day.returncode == 1 and "2025-02-30" in bad_day.stderr
    assert "Traceback" not in missing.stderr + unread.stderr
