"""Two real `paperwire import` processes at once store exactly what one after the other
stores: no lost merges, and no batch failing over a paper both insert."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from tests.integration.ingest.import_processes import import_contents, run_import, start_import

FIRST_DAY, LAST_DAY = "2025-04-01", "2025-08-26"  # ~1,500 HF items, ~1,200 also on arXiv
EXTRA_ARXIV_EVERY = 30  # plus every 30th other arXiv paper: two batches of the arXiv file


@pytest.fixture(scope="module")
def inputs(shared_dir, tmp_path_factory) -> dict[str, Path]:
    """A Hugging Face folder, the arXiv lines of its papers (and others), and an older
    arXiv version of the shared papers to start from, so that both imports update."""
    root = tmp_path_factory.mktemp("concurrent-inputs")
    daily = root / "daily"
    daily.mkdir()
    hf_ids: set[str] = set()
    for path in sorted((shared_dir / "data" / "hf-daily-papers").glob("*.json")):
        if FIRST_DAY <= path.stem <= LAST_DAY:
            shutil.copyfile(path, daily / path.name)
            data = json.loads(path.read_text())
            hf_ids.update(item["paper"]["id"] for item in data if isinstance(item, dict))
    subset, older = [], []
    with gzip.open(shared_dir / "data" / "arxiv-cs-2025.jsonl.gz", "rt") as lines:
        for n, line in enumerate(lines):
            record = json.loads(line)
            if record["id"] in hf_ids:
                subset.append(line)
                older.append(json.dumps(record | {"versions": record["versions"][:1],
                                                  "comments": "an earlier version"}) + "\n")
            elif n % EXTRA_ARXIV_EVERY == 0:
                subset.append(line)
    assert len(subset) > 2000 and len(older) > 1000  # several batches; many papers in common
    (root / "arxiv.jsonl").write_text("".join(subset))
    (root / "older.jsonl").write_text("".join(older))
    return {"daily": daily, "arxiv": root / "arxiv.jsonl", "older": root / "older.jsonl"}


@pytest.mark.parametrize("start", ["empty", "older versions stored"])
def test_two_imports_at_once_store_what_one_after_the_other_stores(
    inputs, database_url, second_database_url, tmp_path, start
):
    sequential, concurrent = database_url, second_database_url
    if start != "empty":
        for url in (sequential, concurrent):
            run_import(url, tmp_path / "data", inputs["older"])
    run_import(sequential, tmp_path / "data", inputs["daily"])
    run_import(sequential, tmp_path / "data", inputs["arxiv"])

    runs = [start_import(concurrent, tmp_path / "data", inputs["daily"]),
            start_import(concurrent, tmp_path / "data", inputs["arxiv"])]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    assert [code for code, _ in results] == [0, 0], results

    expected, got = import_contents(sequential), import_contents(concurrent)
    assert len(got["papers"]) == len(expected["papers"]) > 3000
    differing = [pid for pid, row in expected["papers"].items() if got["papers"].get(pid) != row]
    assert differing == [], [
        {k: (v, got["papers"].get(pid, {}).get(k)) for k, v in expected["papers"][pid].items()
         if got["papers"].get(pid, {}).get(k) != v} for pid in differing[:3]]
    assert got == expected
