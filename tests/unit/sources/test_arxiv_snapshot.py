"""The arXiv bulk-metadata snapshot reader, on small hand-written files."""

import gzip
import json
from datetime import UTC, datetime

from paperwire.domain.records import Rejected, SourceItem
from paperwire.sources.arxiv_snapshot import parse_arxiv_time, read_snapshot


def _record(paper_id="2503.11731", **overrides):
    record = {
        "id": paper_id,
        "submitter": None,
        "authors": "Xianming Zeng, Sicong Du and Qiang Li",
        "title": "Industrial-Grade Sensor\n  Simulation",
        "comments": "ECCV 2026, Project Page: https://zeng.github.io/gs/",
        "journal-ref": "Proc. ECCV 2026",
        "doi": "10.1000/xyz",
        "report-no": None,
        "categories": "cs.CV cs.RO",
        "license": None,
        "abstract": "  Sensor simulation is\npivotal.\n\n  Code at https://github.com/zeng/gs.\n",
        "versions": [
            {"version": "v2", "created": "Wed, 19 Mar 2025 10:30:00 GMT"},
            {"version": "v1", "created": "Tue, 18 Mar 2025 17:00:00 GMT"},
        ],
        "update_date": "2025-03-19",
        "authors_parsed": [
            ["Zeng", "Xianming", ""],
            ["Du", "Sicong", "Jr"],
            ["ATLAS Team", "", ""],
        ],
    }
    record.update(overrides)
    return record


def _write(path, lines, *, compress=False):
    data = "".join(line + "\n" for line in lines).encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def test_maps_a_record(tmp_path):
    path = _write(tmp_path / "snap.jsonl", [json.dumps(_record())])
    [item] = list(read_snapshot(path))
    paper = item.paper
    assert item.daily_entry is None
    assert paper.id == "2503.11731" and paper.version == 2
    assert paper.title == "Industrial-Grade Sensor Simulation"
    assert paper.abstract == "Sensor simulation is pivotal.\n\nCode at https://github.com/zeng/gs."
    assert paper.authors == ("Xianming Zeng", "Sicong Du Jr", "ATLAS Team")
    assert paper.primary_category == "cs.CV" and paper.categories == ("cs.CV", "cs.RO")
    assert paper.published_at == datetime(2025, 3, 18, 17, 0, tzinfo=UTC)
    assert paper.updated_at == datetime(2025, 3, 19, 10, 30, tzinfo=UTC)
    assert paper.comments.startswith("ECCV 2026") and paper.journal_ref == "Proc. ECCV 2026"
    assert paper.doi == "10.1000/xyz"
    assert paper.github_repo == "https://github.com/zeng/gs"
    assert paper.project_page == "https://zeng.github.io/gs/"
    assert paper.sources == {"arxiv"}


def test_plain_author_string_is_the_fallback(tmp_path):
    path = _write(tmp_path / "s.jsonl", [json.dumps(_record(authors_parsed=None))])
    [item] = list(read_snapshot(path))
    assert item.paper.authors == ("Xianming Zeng", "Sicong Du", "Qiang Li")


def test_gzip_is_read_by_content(tmp_path):
    lines = [json.dumps(_record(f"2503.{n:05d}")) for n in range(1, 4)]
    path = _write(tmp_path / "snapshot.data", lines, compress=True)
    assert [i.paper.id for i in read_snapshot(path)] == ["2503.00001", "2503.00002", "2503.00003"]


def test_malformed_lines_are_rejected_with_file_and_line_and_safe_ones_recovered(tmp_path):
    good = json.dumps(_record("2503.00001"))
    lines = [
        "\ufeff" + good,  # 1: byte-order mark: recovered
        "",  # 2: blank: skipped
        good[:-40],  # 3: truncated: rejected
        json.dumps(_record("2503.00004")) + ",",  # 4: trailing comma: recovered
        json.dumps(_record("2503.00005")) + json.dumps(_record("2503.00006")),  # 5: glued
        '["a list"]',  # 6: not an object
        json.dumps({"title": "no id"}),  # 7: no id
        json.dumps(_record("garbage-id")),  # 8: bad id
        json.dumps(_record("2503.00009", title="")),  # 9: no title
        '{"id": "2503.00010", "title": "T", "abstract": "a", "github_stars": NaN}',  # 10
    ]
    path = _write(tmp_path / "snap.jsonl", lines)
    with path.open("ab") as handle:
        handle.write(b'{"id": "2503.00011", "title": "\xff\xfe"}\n')  # 11: not UTF-8
    results = list(read_snapshot(path, label="snap.jsonl"))
    good_ids = [r.paper.id for r in results if isinstance(r, SourceItem)]
    assert good_ids == ["2503.00001", "2503.00004", "2503.00005", "2503.00006", "2503.00010"]
    rejected = {r.where: r.reason for r in results if isinstance(r, Rejected)}
    assert list(rejected) == [f"snap.jsonl:{n}" for n in (3, 6, 7, 8, 9, 11)]
    assert "not valid JSON" in rejected["snap.jsonl:3"]
    assert "object" in rejected["snap.jsonl:6"]
    assert "no id" in rejected["snap.jsonl:7"]
    assert "arXiv id" in rejected["snap.jsonl:8"]
    assert "no title" in rejected["snap.jsonl:9"]
    assert "UTF-8" in rejected["snap.jsonl:11"]


def test_a_truncated_gzip_file_is_reported_after_its_good_lines(tmp_path):
    lines = [json.dumps(_record(f"2503.{n:05d}")) for n in range(1, 200)]
    whole = gzip.compress("".join(line + "\n" for line in lines).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    results = list(read_snapshot(path))
    assert isinstance(results[-1], Rejected) and "to its end" in results[-1].reason
    assert all(isinstance(r, SourceItem) for r in results[:-1]) and len(results) > 1


def test_arxiv_times():
    expected = datetime(2025, 3, 18, 17, tzinfo=UTC)
    assert parse_arxiv_time("Tue, 18 Mar 2025 17:00:00 GMT") == expected
    assert parse_arxiv_time("Tue, 18 Mar 2025 19:00:00 +0200") == datetime(
        2025, 3, 18, 17, tzinfo=UTC
    )
    assert parse_arxiv_time("yesterday") is None and parse_arxiv_time(None) is None
