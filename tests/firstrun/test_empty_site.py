"""An empty site says what to do next; a running embed shows on the search page."""

from __future__ import annotations

from paperwire.services.activity import EMBED, FIRST_RUN, ActivityBoard


def test_the_empty_front_page_gives_the_next_steps(client):
    page = client.get("/").text
    for expected in (
        "No papers yet: here is how to start",
        ".venv/bin/paperwire import ../shared/data/hf-daily-papers "
        "../shared/data/arxiv-cs-2025.jsonl.gz",
        ".venv/bin/paperwire ingest hf --since ",
        ".venv/bin/paperwire demo load",
        ".venv/bin/paperwire user create YOUR-NAME --email you@example.org --admin",
        "PAPERWIRE_FIRST_RUN_FETCH=false",
    ):
        assert expected in page, expected
    assert 'http-equiv="refresh"' not in page  # nothing running: no reloads


def test_a_finished_first_run_is_not_shown_once_papers_exist(seeded, client):
    ActivityBoard(seeded.settings.data_dir).set(FIRST_RUN, "failed", "Could not fetch: x")
    page = client.get("/").text
    assert "Could not fetch" not in page and "here is how to start" not in page


def test_a_running_embed_shows_in_the_search_notice(seeded, client):
    board = ActivityBoard(seeded.settings.data_dir)
    board.set(EMBED, "running", "embedded 20,000 of 80,000 papers", done=20000, total=80000)
    page = client.get("/search?q=diffusion").text
    assert "Semantic search is catching up: embedded 20,000 of 80,000 papers (25%)" in page
    data = client.get("/search?q=diffusion&format=json").json()
    assert data["embedding"] == {"done": 20000, "total": 80000,
                                 "message": "embedded 20,000 of 80,000 papers"}
    board.set(EMBED, "done", "embedded 80,000 papers")
    assert "catching up" not in client.get("/search?q=transformers").text
