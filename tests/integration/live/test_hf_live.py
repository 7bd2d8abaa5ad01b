"""Live Hugging Face daily papers, fetched from a local server in the real response shapes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from paperwire.services.ingest import ingest
from paperwire.sources import hf_api
from paperwire.store.papers import get_paper
from paperwire.store.tables import daily_entries, ingest_runs
from tests.integration.live.conftest import Reply, fixture_bytes

LIST_DAY = Reply(200, fixture_bytes("hf-2025-06-10.json"), {"Content-Type": "application/json"})
WRAPPED_DAY = Reply(200, fixture_bytes("hf-2025-01-10.json"), {"Content-Type": "application/json"})
EMPTY_DAY = Reply(200, b"[]", {"Content-Type": "application/json"})
PATH = "/api/daily_papers"


def entries(engine) -> list[tuple[str, date, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(daily_entries.c.paper_id, daily_entries.c.day, daily_entries.c.submitted_by)
        ).all()
    return sorted((row.paper_id, row.day, row.submitted_by) for row in rows)


def test_one_day_list_shape_lands_in_the_database(live_container, upstream):
    upstream.route(PATH, LIST_DAY, date="2025-06-10")
    client, base = live_container.http_client, live_container.settings.hf_api_url
    items = hf_api.fetch_daily(client, base, date(2025, 6, 10))
    report = ingest(live_container.engine, items, source="hf-api", parameters={})
    assert (
        report.summary_line() == "imported 3 papers (3 new, 0 updated), 3 daily entries, 0 rejected"
    )
    assert entries(live_container.engine) == [
        ("2506.07044", date(2025, 6, 10), "kenchan0226"),
        ("2506.07900", date(2025, 6, 10), "xcjthu"),
        ("2506.08007", date(2025, 6, 10), "unilm"),
    ]
    with live_container.engine.connect() as conn:
        paper = get_paper(conn, "2506.08007")
    assert paper.title == "Reinforcement Pre-Training"
    assert "\n" not in paper.abstract and paper.source_upvotes == 97
    assert paper.sources == {"hf"} and paper.ai_keywords
    again = ingest(
        live_container.engine,
        hf_api.fetch_daily(client, base, date(2025, 6, 10)),
        source="hf-api",
        parameters={},
    )
    assert (again.new, again.daily_entries) == (0, 0)
    assert upstream.seen(PATH)[0].headers["Accept"] == "application/json"


def test_wrapper_shape_with_repr_string_items_is_recovered(live_container, upstream):
    upstream.route(PATH, WRAPPED_DAY, date="2025-01-10")
    items = list(hf_api.fetch_daily(live_container.http_client, upstream.url, date(2025, 1, 10)))
    report = ingest(live_container.engine, items, source="hf-api", parameters={})
    assert (report.new, report.daily_entries, len(report.rejected)) == (2, 2, 0)
    assert {(pid, day) for pid, day, _ in entries(live_container.engine)} == {
        ("2501.05441", date(2025, 1, 10)),
        ("2501.05453", date(2025, 1, 10)),
    }


def test_since_requests_every_day_up_to_until(http_client, upstream):
    upstream.route(PATH, LIST_DAY, date="2025-06-10")
    upstream.route(PATH, EMPTY_DAY)
    items = list(hf_api.fetch_days(http_client, upstream.url, date(2025, 6, 8), date(2025, 6, 11)))
    assert len(items) == 3
    asked = [seen.params["date"] for seen in upstream.seen(PATH)]
    assert asked == ["2025-06-08", "2025-06-09", "2025-06-10", "2025-06-11"]


def test_full_pages_are_followed_by_the_next(http_client, upstream):
    upstream.route(PATH, EMPTY_DAY, date="2025-06-10", p="1")
    upstream.route(PATH, LIST_DAY, date="2025-06-10")
    items = list(hf_api.fetch_daily(http_client, upstream.url, date(2025, 6, 10), page_size=3))
    assert len(items) == 3
    asked = [(s.params["limit"], s.params.get("p")) for s in upstream.seen(PATH)]
    assert asked == [("3", None), ("3", "1")]


def test_a_server_that_ignores_the_page_number_is_not_looped_on(http_client, upstream):
    upstream.route(PATH, LIST_DAY)
    items = list(hf_api.fetch_daily(http_client, upstream.url, date(2025, 6, 10), page_size=3))
    assert [item.paper.id for item in items] == ["2506.08007", "2506.07044", "2506.07900"]
    assert len(upstream.seen(PATH)) == 2


def test_cli_date_prints_the_import_summary(cli, upstream, db_settings):
    upstream.route(PATH, Reply(500, b"busy"), LIST_DAY, date="2025-06-10")
    result = cli("ingest", "hf", "--date", "2025-06-10")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "imported 3 papers (3 new, 0 updated), 3 daily entries, 0 rejected"
    )
    assert len(upstream.seen(PATH)) == 2


def test_cli_failure_keeps_earlier_days_and_exits_with_one_line(cli, upstream, db_settings):
    from paperwire.wiring import build_container

    upstream.route(PATH, LIST_DAY, date="2025-06-10")
    upstream.route(PATH, Reply(503, b"down"), date="2025-06-11")
    upstream.route(PATH, EMPTY_DAY)
    result = cli("ingest", "hf", "--since", "2025-06-09", "--until", "2025-06-12")
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: GET ") and "date=2025-06-11" in line and "HTTP 503" in line
    assert "3 papers fetched before it were saved" in line
    assert "2025-06-12" not in [s.params["date"] for s in upstream.seen(PATH)]
    container = build_container(db_settings)
    try:
        assert len(entries(container.engine)) == 3
        with container.engine.connect() as conn:
            run = conn.execute(select(ingest_runs)).one()
        assert run.source == "hf-api" and run.status == "failed"
        assert run.papers_new == 3 and "HTTP 503" in run.errors[0]
        assert run.parameters == {"since": "2025-06-09", "until": "2025-06-12"}
    finally:
        container.close()


def test_cli_needs_exactly_one_of_date_and_since(cli, upstream):
    result = cli("ingest", "hf")
    assert result.exit_code == 1 and "exactly one of --date" in result.stderr
    result = cli("ingest", "hf", "--date", "2025-06-10", "--since", "2025-06-01")
    assert result.exit_code == 1
    assert upstream.seen() == []
