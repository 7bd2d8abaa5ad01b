"""Small bulk files in both real formats, and a CLI runner bound to the test database."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperwire.cli import app
from tests.conftest import BACKEND

SHARED_ID = "2501.05441"  # in both the daily files and the snapshot


def hf_item(paper_id: str, **paper_fields) -> dict:
    paper = {
        "id": paper_id,
        "title": f"Paper {paper_id}",
        "summary": f"Abstract of {paper_id}.",
        "authors": [
            {"name": "Ada Lovelace", "hidden": False},
            {"name": "Alan Turing", "hidden": True},
        ],
        "publishedAt": "2025-01-09T17:00:00.000Z",
        "upvotes": 5,
    }
    paper.update(paper_fields)
    return {"paper": paper, "numComments": 1, "submittedBy": {"name": "sub", "fullname": "Sub M."}}


def arxiv_line(paper_id: str, **fields) -> str:
    record = {
        "id": paper_id,
        "authors": "Ada Lovelace and Alan Turing",
        "title": f"Paper\n {paper_id}",
        "comments": "10 pages",
        "journal-ref": None,
        "doi": None,
        "categories": "cs.CL cs.AI",
        "abstract": f"  Abstract of\n{paper_id}.",
        "versions": [{"version": "v1", "created": "Thu, 9 Jan 2025 17:00:00 GMT"}],
        "authors_parsed": [["Lovelace", "Ada", ""], ["Turing", "Alan", ""]],
    }
    record.update(fields)
    return json.dumps(record)


@pytest.fixture
def bulk_inputs(tmp_path: Path) -> dict[str, Path]:
    """A daily folder with both corrupt shapes, and a snapshot with one bad line.

    Expected: 5 papers (2501.05441 in both sources), 4 daily entries, 1 rejected.
    """
    daily = tmp_path / "daily"
    daily.mkdir()
    (daily / "2025-01-09.json").write_text(
        json.dumps(
            [
                hf_item("2501.00001", submittedOnDailyAt="2025-01-09T06:00:00.000Z"),
                repr(hf_item(SHARED_ID, ai_summary="An AI summary.", githubStars=7)),
            ]
        )
    )
    wrapper = {
        "status": "success",
        "date": "2025-01-10",
        "count": 2,
        "data": [hf_item("2501.00003"), repr(hf_item("2501.00001"))],
    }
    (daily / "2025-01-10.json").write_text(json.dumps(wrapper, indent=4))
    snapshot = tmp_path / "snapshot.jsonl"
    truncated = '{"id": "2501.0'
    lines = [arxiv_line(SHARED_ID), arxiv_line("2501.00004"), truncated, arxiv_line("2501.00005")]
    snapshot.write_text("\n".join(lines) + "\n")
    return {"daily": daily, "snapshot": snapshot}


@pytest.fixture
def run_cli(monkeypatch, tmp_path, database_url):
    """Run `paperwire ...` against this test's database; returns the click Result."""
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", database_url)
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run


@pytest.fixture
def second_database_url(request, tmp_path, database_url):
    """Another fresh, migrated database of the same backend."""
    if BACKEND == "postgres":
        server = request.getfixturevalue("_postgres_server")
        url = server.fresh_database()
        yield url
        with contextlib.suppress(Exception):
            server.drop_database(url)
        return
    path = tmp_path / "second.db"
    shutil.copyfile(database_url.removeprefix("sqlite:///"), path)
    yield f"sqlite:///{path}"
