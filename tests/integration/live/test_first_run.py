"""The first start on an empty database: recent HF days with arXiv metadata, in the
background, with progress for the page; one line and the guidance without network."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paperwire.services.activity import FIRST_RUN, ActivityBoard
from paperwire.services.first_run import fetch_recent_days, start_first_run_fetch
from paperwire.store.papers import get_paper
from paperwire.store.tables import daily_entries
from tests.integration.live.conftest import Reply, fixture_bytes

JSON = {"Content-Type": "application/json"}
DAY = date(2025, 6, 10)


def _routes(upstream) -> None:
    upstream.route("/api/daily_papers", Reply(200, fixture_bytes("hf-2025-06-10.json"), JSON),
                   date=DAY.isoformat())
    upstream.route("/api/daily_papers", Reply(200, b"[]", JSON))
    upstream.route("/api/query", Reply(200, fixture_bytes("arxiv-ids.xml"),
                                       {"Content-Type": "application/atom+xml"}))


def test_fetches_the_last_days_with_arxiv_metadata(live_container, upstream):
    _routes(upstream)
    lines: list[str] = []
    stored = fetch_recent_days(live_container, days=3, echo=lines.append,
                               today=date(2025, 6, 11))
    assert stored == 3
    asked = sorted(r.params["date"] for r in upstream.seen("/api/daily_papers"))
    assert asked == ["2025-06-09", "2025-06-10", "2025-06-11"]
    id_lists = [r.params.get("id_list", "") for r in upstream.seen("/api/query")]
    assert id_lists and "2506.08007" in ",".join(id_lists)
    with live_container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(daily_entries)).scalar_one() == 3
        assert get_paper(conn, "2506.08007").version == 2  # from the arXiv record (v2)
    activity = ActivityBoard(live_container.settings.data_dir).get(FIRST_RUN)
    assert activity.state == "done" and "3 papers" in activity.message
    assert any("first start: 2025-06-10: imported 3 papers" in line for line in lines)
    assert lines[-1].startswith("first start: done")


def test_without_network_one_line_and_the_guidance(live_container, upstream):
    upstream.stop()  # nothing listens: connections are refused
    lines: list[str] = []
    stored = fetch_recent_days(live_container, days=7, echo=lines.append)
    assert stored == 0
    failure = [line for line in lines if "could not fetch" in line]
    assert len(failure) == 1 and "\n" not in failure[0]
    from paperwire.web.app import create_app

    with TestClient(create_app(live_container)) as client:
        page = client.get("/").text
        assert "The first-start fetch did not work." in page
        assert "Could not fetch recent papers:" in page
        assert "paperwire import ../shared/data/hf-daily-papers" in page
        data = client.get("/?format=json").json()
        assert data["firstRun"]["state"] == "failed"
    upstream.start = lambda: None  # the fixture's stop() runs again; keep it harmless


def test_the_setting_turns_it_off_and_a_full_database_skips_it(live_container, upstream):
    _routes(upstream)
    live_container.settings.first_run_fetch = False
    stop = start_first_run_fetch(live_container, echo=lambda line: None)
    stop()
    assert upstream.seen() == []
    live_container.settings.first_run_fetch = True
    fetch_recent_days(live_container, days=1, echo=lambda line: None, today=DAY)
    before = len(upstream.seen())
    start_first_run_fetch(live_container, echo=lambda line: None)()  # not empty: no thread
    assert len(upstream.seen()) == before


def test_progress_shows_on_the_front_page_while_running(live_container):
    board = ActivityBoard(live_container.settings.data_dir)
    board.set(FIRST_RUN, "running", "Fetched 2 of 7 days from Hugging Face: 40 papers so far.",
              done=2, total=7)
    from paperwire.web.app import create_app

    with TestClient(create_app(live_container)) as client:
        page = client.get("/").text
    assert "Fetching recent papers now." in page and "2 of 7 days" in page
    assert '<meta http-equiv="refresh" content="5">' in page
    assert '<progress max="7" value="2">' in page


def test_the_built_in_worker_prints_each_step(live_container, upstream):
    from paperwire.worker import Worker

    _routes(upstream)
    lines: list[str] = []
    Worker(live_container, echo=lines.append).run_once(DAY)
    for step in ("hf-daily", "arxiv-oai", "embed", "digests"):
        assert f"worker {DAY} {step}: started" in lines, step
    assert f"worker {DAY} hf-daily: imported 3 papers (3 new, 0 updated), 3 daily entries, " \
        "0 rejected" in lines
    assert any(line.startswith(f"worker {DAY} arxiv-oai failed:") for line in lines)
    assert f"worker {DAY} embed: semantic search is off" in lines


def test_embedding_runs_in_a_child_process_at_lower_priority(live_container):
    import os

    from paperwire.background_embed import NICENESS, run_embed_child

    settings = live_container.settings.model_copy(update={"embedder": "none"})
    lines: list[str] = []
    last = run_embed_child(settings, echo=lines.append, should_stop=lambda: False)
    assert last == "semantic search is off"
    started = next(line for line in lines if "embedding in process" in line)
    child_pid = int(started.split("process ")[1].split()[0])
    assert child_pid != os.getpid()
    assert int(started.rsplit(" ", 1)[1]) >= min(19, os.nice(0) + NICENESS)
