"""Live arXiv query API (Atom) against a local server: ids, paging, error entries."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from paperwire.services.ingest import ingest
from paperwire.sources import hf_api
from paperwire.sources.arxiv_api import ArxivApi, PaperNotFound, fetch_arxiv_papers, parse_feed
from paperwire.sources.http_client import SourceUnavailable
from paperwire.store.papers import get_paper
from paperwire.store.tables import ingest_runs, papers
from paperwire.wiring import build_container
from tests.integration.live.conftest import Reply, fixture_bytes

ATOM = {"Content-Type": "application/atom+xml; charset=utf-8"}
IDS_FEED = Reply(200, fixture_bytes("arxiv-ids.xml"), ATOM)
ERROR_FEED = Reply(200, fixture_bytes("arxiv-error.xml"), ATOM)
PATH = "/api/query"
THREE_IDS = "2506.08007,hep-th/9901001,2506.99999"


def route_category_pages(upstream) -> None:
    for start in (0, 2):
        body = fixture_bytes(f"arxiv-cat-cs.CL-start{start}.xml")
        upstream.route(PATH, Reply(200, body, ATOM), search_query="cat:cs.CL", start=str(start))


def test_atom_entries_map_to_full_records():
    page = parse_feed(fixture_bytes("arxiv-ids.xml"))
    assert page.total_results == 2 and page.errors == []
    rpt, old = page.papers
    assert (rpt.id, rpt.version) == ("2506.08007", 2)
    assert rpt.authors == ("Qingxiu Dong", "Li Dong", "Furu Wei")
    assert rpt.abstract.startswith("In this work") and "\n" not in rpt.abstract
    assert (rpt.primary_category, rpt.categories) == ("cs.CL", ("cs.CL", "cs.AI", "cs.LG"))
    assert rpt.published_at == datetime(2025, 6, 9, 17, 59, 53, tzinfo=UTC)
    assert rpt.updated_at == datetime(2025, 6, 12, 9, 30, 11, tzinfo=UTC)
    assert rpt.comments == "19 pages; code at https://github.com/microsoft/rpt."
    assert rpt.journal_ref == "NeurIPS 2025" and rpt.doi == "10.48550/arXiv.2506.08007"
    assert rpt.github_repo == "https://github.com/microsoft/rpt"
    assert (old.id, old.version, old.title) == (
        "hep-th/9901001",
        1,
        "A Note on Old-Style Identifiers",
    )
    assert old.primary_category == "hep-th"


def test_ids_land_and_unknown_ids_are_rejected(live_container, upstream):
    upstream.route(PATH, IDS_FEED, id_list=THREE_IDS, max_results="3")
    api = ArxivApi.from_settings(live_container.http_client, live_container.settings)
    report = ingest(
        live_container.engine,
        api.by_ids(["https://arxiv.org/abs/2506.08007v1", "hep-th/9901001", "2506.99999"]),
        source="arxiv-api",
        parameters={},
    )
    assert (
        report.summary_line() == "imported 2 papers (2 new, 0 updated), 0 daily entries, 1 rejected"
    )
    assert report.rejected[0].where == "arxiv 2506.99999"
    with live_container.engine.connect() as conn:
        assert get_paper(conn, "hep-th/9901001").sources == {"arxiv"}
        assert get_paper(conn, "2506.08007").journal_ref == "NeurIPS 2025"


def test_id_lists_are_chunked_by_page_size(http_client, upstream, net_settings):
    upstream.route(PATH, IDS_FEED, id_list="2506.08007,hep-th/9901001", max_results="2")
    upstream.route(PATH, Reply(200, fixture_bytes("arxiv-error.xml"), ATOM), id_list="2506.0001")
    api = ArxivApi(http_client, net_settings.arxiv_api_url, delay_s=0, page_size=2)
    items = list(api.by_ids(["2506.08007", "hep-th/9901001", "2506.0001"]))
    assert [s.params["id_list"] for s in upstream.seen(PATH)] == [
        "2506.08007,hep-th/9901001",
        "2506.0001",
    ]
    reasons = [item.reason for item in items if not hasattr(item, "paper")]
    assert reasons == ["incorrect id format for 2506.0001", "arXiv has no paper with this id"]


def test_category_pages_until_papers_are_older_than_since(live_container, upstream):
    route_category_pages(upstream)
    api = ArxivApi(
        live_container.http_client, live_container.settings.arxiv_api_url, delay_s=0, page_size=2
    )
    report = ingest(
        live_container.engine,
        api.category_since("cs.CL", date(2025, 6, 10)),
        source="arxiv-api",
        parameters={},
    )
    assert report.new == 3
    with live_container.engine.connect() as conn:
        ids = set(conn.execute(select(papers.c.id)).scalars())
    assert ids == {"2506.12003", "2506.12002", "2506.12001"}
    requests = upstream.seen(PATH)
    assert [r.params["start"] for r in requests] == ["0", "2"]
    assert requests[0].params == {
        "search_query": "cat:cs.CL",
        "sortBy": "submittedDate",
        "sortOrder": "descending",
        "start": "0",
        "max_results": "2",
    }


EMPTY_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="html">ArXiv Query: search_query=cat:cs.CL&amp;id_list=&amp;start=2</title>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">2</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:itemsPerPage>
</feed>
"""


def test_an_empty_page_mid_listing_is_asked_again(http_client, upstream, net_settings):
    page_two = Reply(200, fixture_bytes("arxiv-cat-cs.CL-start2.xml"), ATOM)
    upstream.route(PATH, Reply(200, EMPTY_FEED, ATOM), page_two, start="2")
    route_category_pages(upstream)
    api = ArxivApi(http_client, net_settings.arxiv_api_url, delay_s=0, page_size=2)
    items = list(api.category_since("cs.CL", date(2025, 6, 9)))
    assert [item.paper.id for item in items] == ["2506.12003", "2506.12002", "2506.12001"]
    assert [r.params["start"] for r in upstream.seen(PATH)] == ["0", "2", "2"]


def test_an_empty_category_asks_once(http_client, upstream, net_settings):
    upstream.route(PATH, Reply(200, EMPTY_FEED, ATOM))
    api = ArxivApi(http_client, net_settings.arxiv_api_url, delay_s=0, page_size=2)
    assert list(api.category_since("cs.XX", date(2025, 6, 1))) == []
    assert len(upstream.seen(PATH)) == 1


def test_an_entry_without_content_counts_as_missing():
    body = fixture_bytes("arxiv-ids.xml").replace(
        b"<title>Reinforcement Pre-Training</title>", b"<title/>"
    )
    page = parse_feed(body)
    assert [p.id for p in page.papers] == ["hep-th/9901001"]
    assert page.empty_ids == ["2506.08007"]


def test_truncated_feed_is_retried(http_client, upstream, net_settings):
    body = fixture_bytes("arxiv-ids.xml")
    upstream.route(PATH, Reply(200, body, ATOM, cut_at=len(body) // 2, no_length=True), IDS_FEED)
    papers_found = fetch_arxiv_papers(http_client, net_settings, ["2506.08007", "hep-th/9901001"])
    assert [p.id for p in papers_found] == ["2506.08007", "hep-th/9901001"]
    assert len(upstream.seen(PATH)) == 2


def test_fetch_arxiv_papers_keeps_order_and_reports_missing(http_client, upstream, net_settings):
    upstream.route(PATH, IDS_FEED)
    found = fetch_arxiv_papers(http_client, net_settings, ["hep-th/9901001", "2506.08007v2"])
    assert [p.id for p in found] == ["hep-th/9901001", "2506.08007"]
    with pytest.raises(PaperNotFound, match="arXiv has no paper 2506.99999"):
        fetch_arxiv_papers(http_client, net_settings, ["2506.08007", "2506.99999"])


def test_fetch_arxiv_papers_when_arxiv_is_down(http_client, upstream, net_settings):
    upstream.route(PATH, Reply(503, b"", {"Retry-After": "0"}))
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        fetch_arxiv_papers(http_client, net_settings, ["2506.08007"])


def test_same_paper_from_hf_and_arxiv_merges(live_container, upstream):
    upstream.route("/api/daily_papers", Reply(200, fixture_bytes("hf-2025-06-10.json")))
    upstream.route(PATH, IDS_FEED)
    client, settings = live_container.http_client, live_container.settings
    ingest(
        live_container.engine,
        hf_api.fetch_daily(client, settings.hf_api_url, date(2025, 6, 10)),
        source="hf-api",
        parameters={},
    )
    api = ArxivApi.from_settings(client, settings)
    report = ingest(
        live_container.engine,
        api.by_ids(["2506.08007", "hep-th/9901001"]),
        source="arxiv-api",
        parameters={},
    )
    assert (report.new, report.updated) == (1, 1)
    with live_container.engine.connect() as conn:
        paper = get_paper(conn, "2506.08007")
    assert paper.sources == {"hf", "arxiv"} and paper.version == 2
    assert paper.ai_summary and paper.source_upvotes == 97  # from HF
    assert paper.journal_ref == "NeurIPS 2025" and paper.primary_category == "cs.CL"  # from arXiv


def test_cli_ids_and_category(cli, upstream, db_settings):
    upstream.route(PATH, IDS_FEED, id_list=THREE_IDS)
    route_category_pages(upstream)
    result = cli("ingest", "arxiv", "--ids", "2506.08007", "hep-th/9901001,2506.99999")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "imported 2 papers (2 new, 0 updated), 0 daily entries, 1 rejected",
        "  rejected arxiv 2506.99999: arXiv has no paper with this id",
    ]
    result = cli("ingest", "arxiv", "--category", "cs.CL", "--since", "2025-06-11")
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.strip() == "imported 2 papers (2 new, 0 updated), 0 daily entries, 0 rejected"
    )
    container = build_container(db_settings)
    try:
        with container.engine.connect() as conn:
            runs = conn.execute(select(ingest_runs).order_by(ingest_runs.c.id)).all()
    finally:
        container.close()
    assert [(r.source, r.status) for r in runs] == [("arxiv-api", "ok"), ("arxiv-api", "ok")]
    assert runs[1].parameters == {"category": "cs.CL", "since": "2025-06-11"}


def test_cli_rejects_bad_input_before_any_request(cli, upstream):
    result = cli("ingest", "arxiv", "--ids", "not-an-id")
    assert result.exit_code == 1 and "not an arXiv id" in result.stderr
    result = cli("ingest", "arxiv", "--category", "cs.CL")
    assert result.exit_code == 1 and "--since" in result.stderr
    result = cli("ingest", "arxiv", "--category", "cs CL!", "--since", "2025-06-01")
    assert result.exit_code == 1 and "not an arXiv category" in result.stderr
    assert upstream.seen() == []


def test_cli_when_arxiv_never_answers(cli, upstream):
    upstream.route(PATH, Reply(500, b"Internal Server Error"))
    result = cli("ingest", "arxiv", "--ids", "2506.08007")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "failed after 4 attempts" in result.stderr
    assert "Traceback" not in result.output


def test_arxiv_requests_keep_the_configured_delay(http_client, upstream, net_settings):
    route_category_pages(upstream)
    api = ArxivApi(http_client, net_settings.arxiv_api_url, delay_s=0.3, page_size=2)
    assert len(list(api.category_since("cs.CL", date(2025, 6, 10)))) == 3
    first, second = upstream.seen(PATH)
    assert second.at - first.at >= 0.2  # 0.3 s asked; server clocks see scheduling jitter


def test_old_ids_with_a_subject_class_match_arxivs_answer(http_client, upstream, net_settings):
    body = fixture_bytes("arxiv-ids.xml").replace(b"hep-th/9901001", b"math/0309136")
    upstream.route(PATH, Reply(200, body, ATOM), id_list="math.GT/0309136")
    (paper,) = fetch_arxiv_papers(http_client, net_settings, ["math.GT/0309136v1"])
    assert paper.id == "math/0309136"
