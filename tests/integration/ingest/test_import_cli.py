"""`paperwire import` end to end: real files, real database, the real command."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from paperwire.cli import ingest as ingest_cli
from paperwire.store.db import create_db_engine
from paperwire.store.papers import get_paper
from paperwire.store.tables import daily_entries, ingest_runs, paper_authors, papers

from .conftest import SHARED_ID, arxiv_line


def test_import_merges_sources_reports_rejects_and_is_idempotent(
    bulk_inputs, run_cli, database_url
):
    first = run_cli("import", bulk_inputs["daily"], bulk_inputs["snapshot"])
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0] == "imported 5 papers (5 new, 0 updated), 4 daily entries, 1 rejected"
    assert lines[1].startswith(f"  rejected {bulk_inputs['snapshot']}:3: not valid JSON (")
    assert len(lines) == 2

    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == 5
            merged = get_paper(conn, SHARED_ID)
            assert merged.sources == {"hf", "arxiv"}
            assert merged.ai_summary == "An AI summary." and merged.github_stars == 7
            assert merged.categories == ("cs.CL", "cs.AI") and merged.version == 1
            assert merged.title == f"Paper {SHARED_ID}"
            assert merged.authors == ("Ada Lovelace", "Alan Turing")
            days = dict(conn.execute(select(daily_entries.c.paper_id, daily_entries.c.day)).all())
            # The shared paper is a repr item of 2025-01-09.json without submittedOnDailyAt.
            assert days[SHARED_ID] == date(2025, 1, 9)
            assert days["2501.00003"] == date(2025, 1, 10)  # the wrapper's date
            entries = conn.execute(
                select(daily_entries.c.day).where(daily_entries.c.paper_id == "2501.00001")
            ).scalars()
            assert sorted(entries) == [date(2025, 1, 9), date(2025, 1, 10)]
            assert conn.execute(select(func.count()).select_from(paper_authors)).scalar_one() == 10

        second = run_cli("import", bulk_inputs["daily"], bulk_inputs["snapshot"])
        assert second.exit_code == 0, second.output
        assert second.stdout.splitlines()[0] == (
            "imported 5 papers (0 new, 0 updated), 0 daily entries, 1 rejected"
        )
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == 5
            runs = conn.execute(select(ingest_runs).order_by(ingest_runs.c.id)).all()
            assert [(r.source, r.status, r.papers_new, r.rejected) for r in runs] == [
                ("import", "ok", 5, 1),
                ("import", "ok", 0, 1),
            ]
    finally:
        engine.dispose()


def test_a_changed_record_counts_as_updated(bulk_inputs, run_cli, tmp_path):
    assert run_cli("import", bulk_inputs["snapshot"]).exit_code == 0
    newer = tmp_path / "newer.jsonl"
    newer.write_text(arxiv_line("2501.00004", comments="Accepted at ACL") + "\n")
    result = run_cli("import", newer)
    assert result.stdout.splitlines()[0] == (
        "imported 1 papers (0 new, 1 updated), 0 daily entries, 0 rejected"
    )


def test_missing_path_is_one_line_and_a_failure(run_cli, tmp_path):
    result = run_cli("import", tmp_path / "does-not-exist")
    assert result.exit_code != 0
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'does-not-exist'}: no such file or directory"
    ]
    assert "Traceback" not in result.output


def test_unknown_format_is_one_line_and_writes_nothing(
    run_cli, tmp_path, bulk_inputs, database_url
):
    odd = tmp_path / "table.csv"
    odd.write_text("id,title\n2501.00001,x\n")
    result = run_cli("import", bulk_inputs["snapshot"], odd)
    assert result.exit_code != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "unknown format" in line
    assert "Traceback" not in result.output
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == 0
    finally:
        engine.dispose()


def test_rejected_listing_is_capped(run_cli, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest_cli, "MAX_REJECTED_SHOWN", 2)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(arxiv_line("2501.00001") + "\n" + "{broken\n" * 5)
    result = run_cli("import", bad)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].endswith("1 new, 0 updated), 0 daily entries, 5 rejected")
    assert len(lines) == 4
    assert lines[1].startswith(f"  rejected {bad}:2: not valid JSON (unexpected character")
    assert lines[2].startswith(f"  rejected {bad}:3: not valid JSON (unexpected character")
    assert lines[3] == "  ... and 3 more rejected (the ingest log keeps the first 1000)"


def test_without_a_terminal_progress_is_plain_log_lines(run_cli, bulk_inputs, monkeypatch):
    monkeypatch.setattr(ingest_cli, "LOG_EVERY_S", 0.0)
    result = run_cli("import", bulk_inputs["daily"])
    assert result.exit_code == 0
    progress = [line for line in result.stderr.splitlines() if line.startswith("import: ")]
    assert progress and "records/s" in progress[-1] and "% of input read" in progress[-1]


def test_oversized_values_are_fitted_not_fatal(run_cli, tmp_path, database_url):
    long_name = "Very " * 80 + "Long Name"
    line = arxiv_line(
        "2501.00001",
        comments="Project page: https://acme.github.io/" + "a" * 1100,
        authors_parsed=[[long_name, "", ""], ["Turing", "Alan", ""]],
        categories="cs.CL " + "x" * 500,
    )
    path = tmp_path / "big.jsonl"
    path.write_text(line + "\n")
    result = run_cli("import", path)
    assert result.stdout.splitlines()[0] == (
        "imported 1 papers (1 new, 0 updated), 0 daily entries, 0 rejected"
    )
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            paper = get_paper(conn, "2501.00001")
            assert paper.project_page is None and paper.categories == ("cs.CL",)
            assert len(paper.authors[0]) <= 300 and paper.authors[1] == "Alan Turing"
    finally:
        engine.dispose()
    again = run_cli("import", path)
    assert again.stdout.splitlines()[0].startswith("imported 1 papers (0 new, 0 updated)")


def test_only_the_first_rejected_are_kept_in_memory_but_all_are_counted(
    run_cli, tmp_path, monkeypatch
):
    from paperwire.services import ingest as ingest_service

    monkeypatch.setattr(ingest_service, "MAX_KEPT_REJECTED", 3)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(arxiv_line("2501.00001") + "\n" + "{broken\n" * 5)
    lines = run_cli("import", bad).stdout.splitlines()
    assert lines[0].endswith("0 daily entries, 5 rejected")
    assert len(lines) == 5 and lines[-1].startswith("  ... and 2 more rejected")
