"""Where enrichment shows: cards, the paper page, JSON twins, the HF-compatible API,
digests; and the `paperwire enrich` command."""

from __future__ import annotations

from datetime import UTC, date, datetime

from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.domain.records import DailyEntryRecord, PaperRecord, SourceItem
from paperwire.services.digests.window_papers import load_window_papers
from paperwire.services.enrichment import enrich_papers
from paperwire.services.ingest import ingest
from tests.enrichment.test_enrich_store_and_service import ABSTRACT

DAY = date(2025, 6, 16)


def seed(engine) -> None:
    items = [
        SourceItem(PaperRecord(id="2506.10001", title="Draft Heads for Speculative Decoding",
                               abstract=ABSTRACT, sources=frozenset({"arxiv"}),
                               published_at=datetime(2025, 6, 15, tzinfo=UTC)),
                   DailyEntryRecord("2506.10001", DAY, "fixture")),
        SourceItem(PaperRecord(id="2506.10002", title="A Hugging Face paper", abstract=ABSTRACT,
                               sources=frozenset({"hf"}), ai_summary="HF wrote this line.",
                               ai_keywords=("hf keyword",),
                               published_at=datetime(2025, 6, 15, tzinfo=UTC)),
                   DailyEntryRecord("2506.10002", DAY, "fixture")),
    ]
    ingest(engine, items, source="fixture", parameters={})
    enrich_papers(engine)


def test_cards_and_paper_page_show_chips_and_where_they_came_from(client, container):
    seed(container.engine)
    daily = client.get(f"/?date={DAY}")
    assert daily.status_code == 200
    html = daily.text
    assert "This paper proposes Draft Heads" in html
    assert "extracted:" in html and "from Hugging Face:" in html
    assert "/search?q=large%20language%20models&amp;mode=keyword" in html
    page = client.get("/papers/2506.10001")
    assert page.status_code == 200
    assert '<small class="provenance">extracted</small>' in page.text
    hf_page = client.get("/papers/2506.10002").text
    assert '<small class="provenance">from Hugging Face</small>' in hf_page
    assert "HF wrote this line." in hf_page


def test_json_twins_carry_values_and_provenance(client, container):
    seed(container.engine)
    data = client.get("/papers/2506.10001?format=json").json()
    paper = data.get("paper", data)
    assert paper["ai_summary"] is None and paper["ai_keywords"] == []
    assert paper["summaryLine"].startswith("This paper proposes Draft Heads")
    assert paper["summaryLineOrigin"] == "extracted"
    assert paper["summaryLineProvenance"] == "extracted"
    assert paper["keywordsOrigin"] == "extracted" and paper["keywords"]
    daily = client.get(f"/?date={DAY}&format=json").json()
    by_id = {p["id"]: p for p in daily["papers"]}
    assert by_id["2506.10002"]["summaryLineProvenance"] == "from Hugging Face"
    assert by_id["2506.10002"]["keywords"] == ["hf keyword"]


def test_hf_api_serves_source_values_only_and_marks_computed_ones(client, container):
    seed(container.engine)
    ours = client.get("/api/papers/2506.10001").json()
    assert ours["ai_summary"] is None and ours["ai_keywords"] == []
    computed = ours["paperwire_computed"]
    assert computed["ai_summary_origin"] == "extracted"
    assert computed["ai_summary"].startswith("This paper proposes")
    assert computed["ai_keywords_origin"] == "extracted" and computed["ai_keywords"]
    hf = client.get("/api/papers/2506.10002").json()
    assert hf["ai_summary"] == "HF wrote this line." and hf["ai_keywords"] == ["hf keyword"]
    assert "paperwire_computed" not in hf
    items = client.get(f"/api/daily_papers?date={DAY}").json()
    top = {item["paper"]["id"]: item for item in items}
    assert top["2506.10001"]["ai_summary"] is None
    assert top["2506.10002"]["ai_summary"] == "HF wrote this line."


def test_digests_use_the_summary_line_and_keywords(container):
    seed(container.engine)
    found = {p.id: p for p in load_window_papers(container.engine, date(2025, 6, 15), DAY)}
    assert found["2506.10001"].summary.startswith("This paper proposes Draft Heads")
    assert found["2506.10001"].keywords
    assert found["2506.10002"].summary == "HF wrote this line."
    assert found["2506.10002"].keywords == ("hf keyword",)


def run(monkeypatch, settings, *args, llm_url: str = ""):
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    monkeypatch.setenv("PAPERWIRE_SUMMARY_LLM_URL", llm_url)
    monkeypatch.setenv("PAPERWIRE_SUMMARY_LLM_MODEL", "local-model" if llm_url else "")
    monkeypatch.setenv("PAPERWIRE_HTTP_BACKOFF_S", "0.01")
    return CliRunner().invoke(app, ["enrich", *args])


def test_enrich_command_is_incremental_and_reports(monkeypatch, container):
    from tests.embeddings.conftest import add_papers

    add_papers(container.engine, [
        PaperRecord(id=f"2506.2000{i}", title=f"Paper {i} on speculative decoding",
                    abstract=ABSTRACT) for i in range(5)])
    result = run(monkeypatch, container.settings, "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "enriched 3 papers" in result.output
    result = run(monkeypatch, container.settings)
    assert result.exit_code == 0, result.output
    assert "enriched 2 papers" in result.output
    assert "5 papers: summaries 0 from Hugging Face, 5 extracted, 0 generated" in result.output


def test_enrich_command_with_an_endpoint_that_is_down(monkeypatch, container):
    from tests.embeddings.conftest import add_papers
    from tests.enrichment.chat_server import ChatServer

    add_papers(container.engine, [PaperRecord(id="2506.30001", title="T", abstract=ABSTRACT)])
    with ChatServer() as server:
        server.script.extend([("status", 503)] * 10)
        result = run(monkeypatch, container.settings, llm_url=server.url)
    assert result.exit_code == 0, result.output
    assert "generated 0 summaries; 1 failed (kept the extracted summary" in result.output
    assert "1 extracted, 0 generated" in result.output
    monkeypatch.setenv("PAPERWIRE_SUMMARY_LLM_MODEL", "")
    bad = CliRunner().invoke(app, ["enrich"], env={"PAPERWIRE_SUMMARY_LLM_URL": "http://x/v1"})
    assert bad.exit_code == 1 and "URL and a model" in bad.output
    assert "Traceback" not in bad.output
