"""arXiv OAI-PMH harvest against a local server: resumption tokens, 503 flow control, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from paperwire.domain.records import SourceItem
from paperwire.services.ingest import ingest
from paperwire.sources.oai_pmh import OaiError, OaiHarvest
from paperwire.store.papers import get_paper
from paperwire.store.tables import ingest_runs
from paperwire.wiring import build_container
from tests.integration.live.conftest import Reply, fixture_bytes

XML = {"Content-Type": "text/xml; charset=utf-8"}
PATH = "/oai"
PAGE_1 = Reply(200, fixture_bytes("oai-raw-page1.xml"), XML)
PAGE_2 = Reply(200, fixture_bytes("oai-raw-page2.xml"), XML)


def route_chain(upstream, *first: Reply) -> None:
    upstream.route(PATH, *first, PAGE_1, verb="ListRecords", metadataPrefix="arXivRaw", set="cs")
    upstream.route(PATH, PAGE_2, verb="ListRecords", resumptionToken="6960524|1001")


def harvest(client, settings, **kwargs) -> OaiHarvest:
    options = {"set_spec": "cs", "from_day": date(2025, 6, 10), "delay_s": 0.0} | kwargs
    return OaiHarvest(client, settings.arxiv_oai_url, **options)


def test_resumption_token_chain_lands_in_the_database(live_container, upstream):
    route_chain(upstream)
    run = harvest(live_container.http_client, live_container.settings)
    report = ingest(live_container.engine, run, source="arxiv-oai", parameters={})
    assert (
        report.summary_line() == "imported 3 papers (3 new, 0 updated), 0 daily entries, 1 rejected"
    )
    assert report.rejected[0].where == "oai oai:arXiv.org:2506.12009"
    assert run.deleted == ["2506.05555"] and run.requests == 2
    first, second = upstream.seen(PATH)
    assert first.params == {
        "verb": "ListRecords",
        "metadataPrefix": "arXivRaw",
        "set": "cs",
        "from": "2025-06-10",
    }
    assert second.params == {"verb": "ListRecords", "resumptionToken": "6960524|1001"}
    with live_container.engine.connect() as conn:
        rpt = get_paper(conn, "2506.08007")
        old = get_paper(conn, "cs/0112017")
        hopper = get_paper(conn, "2506.12001")
    assert rpt.version == 2 and rpt.authors[-1] == "Furu Wei" and len(rpt.authors) == 7
    assert rpt.published_at == datetime(2025, 6, 9, 17, 59, 53, tzinfo=UTC)
    assert rpt.updated_at == datetime(2025, 6, 12, 9, 30, 11, tzinfo=UTC)
    assert rpt.github_repo == "https://github.com/microsoft/rpt"
    assert (old.version, old.title) == (3, "An Old-Style Computer Science Paper")
    assert old.published_at == datetime(2001, 12, 14, 10, tzinfo=UTC)
    assert old.categories == ("cs.DS", "cs.CC") and old.primary_category == "cs.DS"
    assert (
        old.doi == "10.1000/j.jalgor.2003.01.001" and old.abstract == "We revisit an old problem."
    )
    assert hopper.project_page == "https://hopper.github.io/lm2a"


def test_503_with_retry_after_is_waited_out(http_client, net_settings, upstream):
    route_chain(upstream, Reply(503, b"Retry later", {"Retry-After": "1"}))
    items = list(harvest(http_client, net_settings))
    assert sum(isinstance(item, SourceItem) for item in items) == 3
    first, retried, _ = upstream.seen(PATH)
    assert retried.at - first.at >= 0.95 and retried.params == first.params


def test_arxiv_metadata_format(http_client, net_settings, upstream):
    upstream.route(
        PATH, Reply(200, fixture_bytes("oai-arxiv-format.xml"), XML), metadataPrefix="arXiv"
    )
    (item,) = list(
        harvest(http_client, net_settings, metadata_prefix="arXiv", until_day=date(2025, 6, 12))
    )
    paper = item.paper
    assert paper.authors == ("Alan M. Turing", "Martin Davis Jr")
    assert paper.published_at == datetime(2025, 6, 11, tzinfo=UTC)
    assert paper.categories == ("cs.CL", "cs.LO") and paper.version is None
    assert upstream.seen(PATH)[0].params["until"] == "2025-06-12"


def test_no_records_match_is_an_empty_harvest(http_client, net_settings, upstream):
    upstream.route(PATH, Reply(200, fixture_bytes("oai-no-records.xml"), XML))
    assert list(harvest(http_client, net_settings, from_day=date(2030, 1, 1))) == []


def test_other_oai_errors_raise(http_client, net_settings, upstream):
    upstream.route(PATH, Reply(200, fixture_bytes("oai-bad-argument.xml"), XML))
    with pytest.raises(OaiError, match="badArgument: Unknown set 'nope'"):
        list(harvest(http_client, net_settings, set_spec="nope"))
    assert len(upstream.seen(PATH)) == 1


def test_bad_options_are_refused(http_client, net_settings):
    with pytest.raises(ValueError, match="metadata format"):
        harvest(http_client, net_settings, metadata_prefix="oai_dc")
    with pytest.raises(ValueError, match="--until"):
        harvest(http_client, net_settings, until_day=date(2025, 1, 1))


def test_cli_oai_harvest(cli, upstream, db_settings):
    route_chain(upstream)
    result = cli("ingest", "oai", "--set", "cs", "--from", "2025-06-10")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "imported 3 papers (3 new, 0 updated), 0 daily entries, 1 rejected",
        "  rejected oai oai:arXiv.org:2506.12009: paper 2506.12009 has no title",
        "skipped 1 deleted records",
    ]
    refused = cli("ingest", "oai", "--from", "2025-06-10", "--format", "oai_dc")
    assert refused.exit_code == 1 and "metadata format must be one of" in refused.stderr
    again = cli("ingest", "oai", "--set", "cs", "--from", "2025-06-10")
    assert again.stdout.splitlines()[0] == (
        "imported 3 papers (0 new, 0 updated), 0 daily entries, 1 rejected"
    )


def test_cli_oai_failure_mid_chain_keeps_the_first_page(cli, upstream, db_settings):
    upstream.route(PATH, PAGE_1, verb="ListRecords", metadataPrefix="arXivRaw")
    upstream.route(
        PATH, Reply(200, fixture_bytes("oai-bad-argument.xml"), XML), resumptionToken="6960524|1001"
    )
    result = cli("ingest", "oai", "--from", "2025-06-10")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: the OAI-PMH server refused the request: badArgument: Unknown set 'nope'. "
        "2 papers fetched before it were saved."
    )
    container = build_container(db_settings)
    try:
        with container.engine.connect() as conn:
            assert get_paper(conn, "cs/0112017") is not None
            run = conn.execute(select(ingest_runs)).one()
    finally:
        container.close()
    assert run.status == "failed" and run.papers_new == 2
    assert run.parameters == {"set": "cs", "from": "2025-06-10", "format": "arXivRaw"}
