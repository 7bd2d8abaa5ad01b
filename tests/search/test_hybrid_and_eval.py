import re
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.search.vectors import VectorIndex
from paperwire.services.embeddings import embed_missing
from paperwire.services.evaluation import evaluate
from paperwire.services.search import SearchService
from tests.search.conftest import HashingEmbedder

LINE = re.compile(
    r"^(keyword|semantic|hybrid) nDCG@10=\d\.\d{3} nDCG@20=\d\.\d{3} MRR@10=\d\.\d{3} "
    r"R@100=\d\.\d{3} n=\d+$"
)


def _service(container, embed_limit=None) -> SearchService:
    embedder = HashingEmbedder()
    embed_missing(container.engine, embedder, limit=embed_limit)
    index = VectorIndex(container.engine, embedder.model_id, embedder.dim, refresh_interval_s=0)
    return SearchService(container.engine, lambda: (embedder, index, None))


def test_hybrid_and_semantic_with_embeddings(seeded):
    service = _service(seeded)
    hybrid = service.search("graph molecules", mode="hybrid")
    assert hybrid.mode == "hybrid" and hybrid.notice is None
    top = hybrid.hits[0]
    assert top.paper_id == "2502.00002"
    assert top.keyword_score is not None and top.semantic_score is not None
    assert top.snippet and "<mark>" in top.snippet
    semantic = service.search("graph molecules", mode="semantic", limit=3)
    assert semantic.mode == "semantic" and len(semantic.hits) == 3
    assert semantic.hits[0].paper_id == "2502.00002"
    assert all(h.semantic_score is not None and h.keyword_score is None for h in semantic.hits)
    filtered = service.search("graph molecules", mode="semantic", filters=None, limit=5)
    assert len(filtered.hits) == 5
    only_cl = service.search("graph molecules cat:cs.CL", mode="hybrid")
    assert {h.paper_id for h in only_cl.hits} <= {"2503.00003", "2505.00005"}


def test_partial_embeddings_fall_back_to_keywords_and_say_so(seeded):
    service = _service(seeded, embed_limit=2)
    results = service.search("transformers", mode="hybrid")
    assert results.mode == "hybrid"
    # Said once, as progress in the page header (search_pages), not as a warning per search.
    assert results.notice is None and results.embedding_coverage == (2, 5)
    # Papers without an embedding are still found through their keywords.
    assert {"2501.00001", "2503.00003", "2504.00004", "2505.00005"} <= {
        h.paper_id for h in results.hits
    }


def test_similar_uses_embeddings_and_excludes_the_paper(seeded):
    service = _service(seeded)
    hits = service.similar("2503.00003", limit=3)
    assert len(hits) == 3 and "2503.00003" not in {h.paper_id for h in hits}
    assert all(h.semantic_score is not None for h in hits)
    with pytest.raises(KeyError):
        service.similar("nope")


def _tiny_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    docs = [
        {"_id": "doc/1", "title": "Diffusion transformers", "text": "Scaling diffusion backbones."},
        {"_id": "doc/2", "title": "Graph networks", "text": "Message passing for molecules."},
        {"_id": "x" * 80, "title": "Speech conformers", "text": "Convolution for speech."},
    ]
    (folder / "corpus.jsonl").write_bytes(b"\n".join(orjson.dumps(d) for d in docs) + b"\n")
    queries = [{"_id": "q1", "text": "diffusion transformer"}, {"_id": "q2", "text": "speech"},
               {"_id": "q3", "text": "molecules"}]
    (folder / "queries.jsonl").write_bytes(b"\n".join(orjson.dumps(q) for q in queries))
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\tdoc/1\t2\nq2\t" + "x" * 80 + "\t1\nq3\tdoc/2\t1\n"
    )
    return folder


def test_eval_cli_prints_one_line_per_mode(tmp_path, monkeypatch):
    folder = _tiny_beir(tmp_path / "beir")
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PAPERWIRE_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["eval", str(folder), "--mode", "all"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.stdout.splitlines() if LINE.match(ln)]
    assert [ln.split()[0] for ln in lines] == ["keyword", "semantic", "hybrid"]
    assert lines[0] == "keyword nDCG@10=1.000 nDCG@20=1.000 MRR@10=1.000 R@100=1.000 n=3"


def test_eval_cli_rejects_bad_input(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "missing")])
    assert result.exit_code != 0 and "not a folder" in result.output
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "empty"), "--mode", "keyword"])
    assert result.exit_code != 0 and "queries.jsonl" in result.output
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "empty"), "--mode", "fuzzy"])
    assert result.exit_code != 0 and "unknown mode" in result.output


def test_evaluate_with_embeddings_through_the_product_path(container, tmp_path):
    container.__dict__["embedder"] = HashingEmbedder()
    folder = _tiny_beir(tmp_path / "beir")
    modes = ["keyword", "semantic", "hybrid"]
    report = evaluate(container, folder, modes, cache_dir=tmp_path / "c")
    assert report.docs == 3
    assert report.scores["keyword"]["nDCG@10"] == 1.0
    assert report.scores["hybrid"]["nDCG@10"] == 1.0
    assert 0 < report.scores["semantic"]["R@100"] <= 1.0
    assert "semantic" not in report.notices


def test_search_cli_json_and_errors(seeded, monkeypatch):
    monkeypatch.setenv("PAPERWIRE_DATABASE_URL", seeded.settings.database_url)
    monkeypatch.setenv("PAPERWIRE_DATA_DIR", str(seeded.settings.data_dir))
    monkeypatch.setenv("PAPERWIRE_EMBEDDER", "none")
    result = CliRunner().invoke(app, ["search", "graph molecules", "--json", "--limit", "2"])
    assert result.exit_code == 0, result.output
    payload = orjson.loads(result.stdout)
    assert payload["hits"][0]["id"] == "2502.00002" and payload["mode"] == "keyword"
    assert "semantic search unavailable" in payload["notice"]
    result = CliRunner().invoke(app, ["search", "graph", "--mode", "keyword"])
    assert result.exit_code == 0 and "Graph Neural Networks for Molecules" in result.stdout
    result = CliRunner().invoke(app, ["search", "graph", "--mode", "bogus"])
    assert result.exit_code != 0 and "unknown search mode" in result.output
    result = CliRunner().invoke(app, ["search", 'NEAR( "unbalanced * -'])
    assert result.exit_code == 0
