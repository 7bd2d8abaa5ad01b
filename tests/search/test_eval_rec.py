"""`paperwire eval-rec`: readers' libraries as queries, on a tiny generated folder."""

from __future__ import annotations

import gzip
import re

import orjson
import pytest
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.services.rec_evaluation import (
    REC_MODES,
    evaluate_rec,
    newest_library,
    register_rec_mode,
)
from tests.search.conftest import HashingEmbedder

LINE = re.compile(r"^(\S+) nDCG@10=\d\.\d{3} MRR@10=\d\.\d{3} R@100=\d\.\d{3} n=\d+$")

TOPICS = {
    "splat": "gaussian splatting radiance fields novel view synthesis rendering scenes",
    "speech": "speech recognition acoustic conformer transcription audio spoken words",
    "molecule": "molecular graphs message passing chemistry property prediction atoms",
}


def _rec_folder(tmp_path):
    """Three readers, one topic each; each wrote two papers before the cutoff, one after."""
    folder = tmp_path / "rec"
    (folder / "qrels").mkdir(parents=True)
    docs, users, qrels = [], [], []
    for n, (topic, words) in enumerate(TOPICS.items()):
        old = [f"old-{topic}-{i}" for i in range(2)]
        for i, pid in enumerate(old):
            docs.append({"_id": pid, "title": f"{words.split()[0]} study {i}",
                         "text": words, "date": f"2025-0{i + 1}-1{n}"})
        new = f"new-{topic}"
        docs.append({"_id": new, "title": f"More on {words.split()[1]}", "text": words,
                     "date": "2026-02-01"})
        users.append({"_id": f"u{n}", "cutoff": "2026-01-01", "library": old})
        qrels.append(f"u{n}\t{new}\t1")
    # Distractors after the cutoff, on none of the topics.
    for i in range(5):
        docs.append({"_id": f"noise-{i}", "title": f"Unrelated ledger {i}",
                     "text": "accounting ledgers invoices tax auditing spreadsheets",
                     "date": "2026-03-01"})
    with gzip.open(folder / "corpus.jsonl.gz", "wb") as handle:
        handle.write(b"\n".join(orjson.dumps(d) for d in docs))
    (folder / "users.jsonl").write_bytes(b"\n".join(orjson.dumps(u) for u in users))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(qrels))
    return folder


def test_eval_rec_cli_prints_the_exact_line_per_mode(tmp_path, monkeypatch):
    folder = _rec_folder(tmp_path)
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PAPERWIRE_DATABASE_URL", raising=False)
    result = CliRunner().invoke(
        app, ["eval-rec", str(folder), "--library-size", "1", "--mode", "keyword"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["keyword nDCG@10=1.000 MRR@10=1.000 R@100=1.000 n=3"]
    result = CliRunner().invoke(app, ["eval-rec", str(folder)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(LINE.match(ln) for ln in lines), lines
    assert [ln.split()[0] for ln in lines][:3] == ["keyword", "semantic", "hybrid"]
    assert "for-you-keyword" not in [ln.split()[0] for ln in lines]  # an alias runs once
    result = CliRunner().invoke(app, ["eval-rec", str(folder), "-k", "1", "--mode",
                                      "hybrid, keyword,hybrid"])
    assert result.exit_code == 0, result.output
    assert [ln.split()[0] for ln in result.stdout.splitlines()] == ["hybrid", "keyword"]


def test_eval_rec_cli_rejects_bad_input(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    result = CliRunner().invoke(app, ["eval-rec", str(tmp_path / "missing")])
    assert result.exit_code != 0 and "not a folder" in result.output
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["eval-rec", str(tmp_path / "empty"), "--mode", "keyword"])
    assert result.exit_code != 0 and "users.jsonl" in result.output
    for bad in ("fuzzy", "keyword,fuzzy", " , "):
        result = CliRunner().invoke(app, ["eval-rec", str(tmp_path / "empty"), "--mode", bad])
        assert result.exit_code != 0 and "unknown mode" in result.output, bad
    result = CliRunner().invoke(app, ["eval-rec", str(tmp_path / "empty"), "-k", "-2"])
    assert result.exit_code != 0 and "library-size" in result.output


def test_eval_rec_with_embeddings_and_a_plugged_in_ranker(container, tmp_path):
    container.__dict__["embedder"] = HashingEmbedder()
    folder = _rec_folder(tmp_path)
    seen = {}

    def newest_first(library, candidates, services, depth):
        seen["library"], seen["candidates"] = list(library), set(candidates)
        return sorted(candidates, reverse=True)[:depth]

    register_rec_mode("test-newest", newest_first, needs_embeddings=False)
    try:
        report = evaluate_rec(container, folder, ["keyword", "semantic", "hybrid", "test-newest"],
                              library_size=1, cache_dir=tmp_path / "cache")
    finally:
        REC_MODES.pop("test-newest")
    for mode in ("keyword", "semantic", "hybrid"):
        assert report.scores[mode]["nDCG@10"] == 1.0, (mode, report.scores[mode])
    assert report.scores["test-newest"]["n"] == 3
    # K=1 keeps the newest library paper; candidates are after the cutoff, library excluded.
    assert seen["library"] == ["old-molecule-1"]
    assert seen["candidates"] == {"new-splat", "new-speech", "new-molecule"} | {
        f"noise-{i}" for i in range(5)}
    with pytest.raises(ValueError, match="library-size"):
        evaluate_rec(container, folder, ["keyword"], library_size=0, cache_dir=None)


def test_newest_library_keeps_the_k_newest_ties_by_id():
    from datetime import date

    days = {"a": date(2025, 1, 1), "b": date(2025, 3, 1), "c": date(2025, 3, 1), "d": None}
    assert newest_library(["a", "b", "c", "zz"], days, 2) == ["c", "b"]
    assert newest_library(["a", "b", "c", "d"], days, None) == ["c", "b", "a", "d"]
