"""Format detection and planning for `paperwire import`."""

import gzip
import json
from datetime import date

import pytest

from paperwire.domain.records import Rejected, SourceItem
from paperwire.sources.bulk_files import ImportInputError, Kind, iter_records, plan_import

ARXIV_LINE = json.dumps(
    {"id": "2503.00001", "title": "T", "abstract": "A", "categories": "cs.CL", "versions": []}
)


def _hf_item(paper_id):
    return {"paper": {"id": paper_id, "title": "T", "summary": "S", "authors": []}}


def test_directory_of_daily_files_and_their_days(tmp_path):
    folder = tmp_path / "daily"
    folder.mkdir()
    (folder / "2025-01-09.json").write_text(json.dumps([_hf_item("2501.00001")]))
    (folder / "2025-01-10.json").write_text(json.dumps({"date": "2025-01-10", "data": []}))
    (folder / "notes.txt").write_text("ignored")
    (folder / ".hidden.json").write_text("ignored")
    files = plan_import([folder])
    assert [f.path.name for f in files] == ["2025-01-09.json", "2025-01-10.json"]
    assert {f.kind for f in files} == {Kind.HF_DAILY}
    assert files[0].fetched_for == date(2025, 1, 9)


def test_single_files_are_detected_by_content_not_name(tmp_path):
    daily = tmp_path / "some-name.json"
    daily.write_text(json.dumps([repr(_hf_item("2501.00001"))], indent=2))
    wrapped = tmp_path / "wrapped.json"
    wrapper = {"status": "success", "date": "2025-01-10", "data": []}
    wrapped.write_text(json.dumps(wrapper, indent=4))
    lines_named_json = tmp_path / "arxiv.json"
    lines_named_json.write_text(ARXIV_LINE + "\n" + ARXIV_LINE + "\n")
    gz_without_suffix = tmp_path / "snapshot.bin"
    gz_without_suffix.write_bytes(gzip.compress((ARXIV_LINE + "\n").encode()))
    kinds = [f.kind for f in plan_import([daily, wrapped, lines_named_json, gz_without_suffix])]
    assert kinds == [Kind.HF_DAILY, Kind.HF_DAILY, Kind.ARXIV_SNAPSHOT, Kind.ARXIV_SNAPSHOT]
    assert plan_import([daily])[0].fetched_for is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"id,title\n1,x\n", "unknown format"),
        (b'{"name": "package", "version": "1.0"}', "unknown format"),
        (b'[{"paper": ', "unknown format"),
    ],
)
def test_unknown_formats_fail_with_one_line(tmp_path, content, message):
    path = tmp_path / "input.json"
    path.write_bytes(content)
    with pytest.raises(ImportInputError) as caught:
        plan_import([path])
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_missing_paths_and_empty_directories_fail(tmp_path):
    with pytest.raises(ImportInputError, match="no such file or directory"):
        plan_import([tmp_path / "nope"])
    with pytest.raises(ImportInputError, match="no .json"):
        plan_import([tmp_path])
    with pytest.raises(ImportInputError, match="at least one"):
        plan_import([])


def test_a_broken_daily_file_in_a_directory_is_one_rejected_record(tmp_path):
    (tmp_path / "2025-01-09.json").write_text('[{"paper": {"id": "2501.0')
    (tmp_path / "2025-01-10.json").write_text(json.dumps([_hf_item("2501.00002")]))
    results = list(iter_records(plan_import([tmp_path])))
    assert isinstance(results[0], Rejected) and results[0].where.endswith("2025-01-09.json")
    assert "not valid JSON" in results[0].reason
    assert isinstance(results[1], SourceItem) and results[1].daily_entry.day == date(2025, 1, 10)


def test_progress_reports_bytes_up_to_the_total(tmp_path):
    (tmp_path / "2025-01-10.json").write_text(json.dumps([_hf_item("2501.00002")]))
    (tmp_path / "b.jsonl").write_text((ARXIV_LINE + "\n") * 3)
    files = plan_import([tmp_path])
    seen = []
    assert len(list(iter_records(files, on_bytes=seen.append))) == 4
    assert seen[-1] == sum(f.size for f in files) and seen == sorted(seen)
