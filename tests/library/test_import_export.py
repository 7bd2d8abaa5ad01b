"""Import (BibTeX, RIS, CSL-JSON) with its match report, and export that round-trips."""

from __future__ import annotations

import json

import bibtexparser
import pytest
from bibtexparser import middlewares
from sqlalchemy import func, select
from typer.testing import CliRunner

from paperwire.cli import app
from paperwire.store.library_tables import library_items, library_tags
from paperwire.store.tables import papers as papers_table
from tests.accounts.conftest import add_paper

BIB = r"""
@article{byeprint, title={Whatever}, author={Ada Lovelace}, eprint={2506.00001},
  archivePrefix={arXiv}, year={2025}, keywords={vision, to read}}
@misc{byurl, title={Also whatever}, url={https://arxiv.org/abs/2506.00002v3}}
@article{bydoi, title={Journal version}, doi={10.1234/ABC.5}}
@inproceedings{bytitle, title={{G}raph {N}eural {N}etworks!}, author={Grace Hopper}}
@article{twice, title={Same Title}}
@article{nowhere, title={A paper nobody has}}
@article{fetched, title={From arXiv}, eprint={2511.00042}}
@article{absent, title={Gone}, eprint={2511.00099}}
@article{broken, title = {unclosed
@book{empty, publisher={Nobody}}
"""


@pytest.fixture
def library_papers(container, papers):
    add_paper(container, "2506.00004", "Same title")
    add_paper(container, "2506.00005", "Same Title")
    with container.engine.begin() as conn:
        conn.execute(papers_table.update().where(papers_table.c.id == "2506.00002")
                     .values(doi="10.1234/abc.5"))
    return papers


def _status(report):
    return {r["label"]: (r["status"], r["paperId"], r["matchedBy"]) for r in report["rows"]}


def test_bibtex_import_report(alice, library_papers, arxiv_stub, container):
    arxiv_stub.add("2511.00042", "From arXiv", ["Kurt Gödel"])
    response = alice.api("POST", "/api/library/import?filename=refs.bib", content=BIB.encode())
    assert response.status_code == 200, response.text
    report = response.json()
    status = _status(report)
    assert status["byeprint"] == ("matched", "2506.00001", "arXiv id")
    assert status["byurl"] == ("matched", "2506.00002", "arXiv id")
    assert status["bydoi"] == ("matched", "2506.00002", "DOI")
    assert status["bytitle"] == ("matched", "2506.00003", "title")
    assert status["twice"][0] == "ambiguous"
    assert status["nowhere"][0] == "unmatched"
    assert status["fetched"][:2] == ("matched", "2511.00042")
    assert status["absent"][0] == "unmatched"
    rows = {r["label"]: r for r in report["rows"]}
    assert "arXiv has no paper 2511.00099" in rows["absent"]["message"]
    assert sorted(rows["twice"]["candidates"]) == ["2506.00004", "2506.00005"]
    assert rows["broken"]["status"] == "error" and "malformed" in rows["broken"]["message"]
    assert "no arXiv id, DOI or title" in rows["empty"]["message"]
    assert report["counts"] == {"matched": 5, "unmatched": 3, "ambiguous": 1, "error": 1}
    assert report["fetchedFromArxiv"] == 1 and report["savedNew"] == 4
    saved = alice.client.get("/library?format=json").json()["papers"]
    assert sorted(p["id"] for p in saved) == ["2506.00001", "2506.00002", "2506.00003",
                                              "2511.00042"]
    tags = {t["tag"] for t in alice.client.get("/library?format=json").json()["tags"]}
    assert tags == {"vision", "to read"}
    # The same file again: nothing new, same report.
    again = alice.api("POST", "/api/library/import?filename=refs.bib", content=BIB.encode())
    assert again.json()["savedNew"] == 0 and again.json()["counts"]["matched"] == 5


def test_arxiv_down_reports_and_imports_the_rest(alice, library_papers, arxiv_stub):
    arxiv_stub.failing.add("2511.00042")
    report = alice.api("POST", "/api/library/import?filename=refs.bib", content=BIB.encode()).json()
    fetched = next(r for r in report["rows"] if r["label"] == "fetched")
    assert fetched["status"] == "unmatched" and "arXiv did not answer" in fetched["message"]
    assert report["counts"]["matched"] == 4


def test_import_form_shows_a_table(alice, library_papers, arxiv_stub):
    response = alice.client.post(
        "/library/import",
        data={"csrf_token": alice.token},
        files={"file": ("zotero.bib", BIB.encode(), "application/x-bibtex")},
    )
    assert response.status_code == 200
    assert '<table class="import-report">' in response.text
    assert "<strong>4 matched</strong>" in response.text and "1 ambiguous" in response.text


@pytest.mark.parametrize(
    ("body", "filename", "message", "status"),
    [
        (b"just some words\nnothing else", "notes.txt", "not BibTeX, RIS or CSL-JSON", 400),
        (b"", "x.bib", "empty", 400),
        (b'[{"title": ', "x.json", "not valid JSON", 200),
    ],
)
def test_bad_files_say_why_and_write_nothing(alice, library_papers, container, body, filename,
                                             message, status):
    response = alice.api("POST", f"/api/library/import?filename={filename}", content=body)
    assert response.status_code == status
    assert message in response.text
    with container.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(library_items)) == 0


def test_a_50_mb_file_is_refused(alice, library_papers, container):
    big = b"@misc{x, title={" + b"a" * (50 * 1024 * 1024) + b"}}"
    response = alice.api("POST", "/api/library/import?filename=big.bib", content=big)
    assert response.status_code == 413 and "smaller than 50 MB" in response.json()["detail"]
    form = alice.client.post("/library/import", data={"csrf_token": alice.token},
                             files={"file": ("big.bib", big[: 50 * 1024 * 1024], "text/plain")})
    assert form.status_code == 413 and "smaller than 50 MB" in form.text


def test_import_into_someone_elses_collection_writes_nothing(alice, bob, library_papers,
                                                             container):
    theirs = bob.api("POST", "/api/me/collections", json={"name": "Bob's"}).json()["id"]
    response = alice.api("POST", f"/api/library/import?filename=r.bib&collection={theirs}",
                         content=BIB.encode())
    assert response.status_code == 404
    with container.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(library_items)) == 0
        assert conn.scalar(select(func.count()).select_from(library_tags)) == 0


def _save_all(alice, ids, collection=None):
    for pid in ids:
        alice.api("POST", f"/api/library/papers/{pid}")
        if collection:
            alice.api("POST", f"/api/me/collections/{collection}/items", json={"paperId": pid})


def test_bibtex_export_round_trips_with_author_order(alice, container, papers):
    add_paper(container, "2506.00009", "Attention & 100% {braces} _under_ Ünïcode",
              ("Zoë Ångström", "O'Brien, Jr.", "Ada Lovelace"))
    add_paper(container, "hep-th/9901001", "Strings", ("Ed Witten",))
    _save_all(alice, ["2506.00009", "hep-th/9901001", "2506.00001"])
    response = alice.client.get("/library/export?format=bibtex")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    parsed = bibtexparser.parse_string(
        response.text,
        append_middleware=[middlewares.LatexDecodingMiddleware(), middlewares.SeparateCoAuthors()],
    )
    assert not parsed.failed_blocks
    by_id = {e.fields_dict["eprint"].value: e for e in parsed.entries}
    assert set(by_id) == {"2506.00009", "hep-th/9901001", "2506.00001"}
    odd = by_id["2506.00009"].fields_dict
    assert odd["author"].value == ["Zoë Ångström", "O'Brien, Jr.", "Ada Lovelace"]
    assert odd["title"].value.replace("{", "").replace("}", "") == (
        "Attention & 100% braces _under_ Ünïcode")


@pytest.mark.parametrize("fmt", ["bibtex", "ris", "csljson"])
def test_every_format_reimports_to_the_same_papers(alice, bob, container, papers, fmt):
    collection = alice.api("POST", "/api/me/collections", json={"name": "C"}).json()["id"]
    _save_all(alice, papers[:2], collection)
    _save_all(alice, papers[2:])
    alice.api("PUT", f"/api/library/papers/{papers[2]}/tags", json={"tags": ["gnn"]})
    whole = alice.client.get(f"/api/library/export?format={fmt}").text
    only_collection = alice.client.get(f"/api/library/export?format={fmt}&collection={collection}")
    only_tag = alice.client.get(f"/api/library/export?format={fmt}&tag=GNN").text
    if fmt == "csljson":
        assert len(json.loads(only_tag)) == 1
    report = bob.api("POST", f"/api/library/import?format={fmt}", content=whole.encode()).json()
    assert report["counts"]["matched"] == 3 and report["counts"]["error"] == 0
    assert report["savedNew"] == 3
    sub = bob.api("POST", f"/api/library/import?format={fmt}",
                  content=only_collection.content).json()
    assert sorted(r["paperId"] for r in sub["rows"]) == sorted(papers[:2])
    # Another user's collection cannot be exported.
    assert bob.client.get(f"/api/library/export?format={fmt}&collection={collection}"
                          ).status_code == 404


@pytest.fixture
def cli_env(monkeypatch, settings):
    for name, value in {
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_DATA_DIR": str(settings.data_dir),
        "PAPERWIRE_EMBEDDER": "none",
        "PAPERWIRE_ARXIV_API_URL": settings.arxiv_api_url,
        "PAPERWIRE_ARXIV_DELAY_S": "0",
        "PAPERWIRE_HTTP_RETRIES": "0",
    }.items():
        monkeypatch.setenv(name, value)
    return settings


def test_cli_import_export_and_token(cli_env, alice, library_papers, arxiv_stub, container,
                                     tmp_path):
    arxiv_stub.add("2511.00042", "From arXiv", ["Kurt Gödel"])
    alice.api("POST", "/api/me/collections", json={"name": "Thesis"})
    path = tmp_path / "refs.bib"
    path.write_text(BIB)
    result = CliRunner().invoke(app, ["library", "import", "alice", str(path),
                                      "--collection", "thesis"])
    assert result.exit_code == 0, result.output
    assert "\tmatched\t2506.00001\tarXiv id\t" in result.output
    assert "\tambiguous\t" in result.output
    assert "5 matched (1 fetched from arXiv, 4 newly saved)" in result.output
    out = CliRunner().invoke(app, ["library", "export", "alice", "--collection", "Thesis",
                                   "--format", "bibtex"])
    assert out.exit_code == 0
    assert len(bibtexparser.parse_string(out.output).entries) == 4
    ris = CliRunner().invoke(app, ["library", "export", "alice", "--tag", "vision",
                                   "--format", "ris"])
    assert ris.exit_code == 0 and ris.output.count("TY  - ") == 1
    bad = CliRunner().invoke(app, ["library", "export", "alice", "--format", "docx"])
    assert bad.exit_code == 1 and "Unknown format" in bad.output
    nobody = CliRunner().invoke(app, ["library", "import", "nobody", str(path)])
    assert nobody.exit_code == 1 and "no user 'nobody'" in nobody.output
    token = CliRunner().invoke(app, ["user", "token", "alice", "--label", "zotero sync"])
    assert token.exit_code == 0
    raw = token.output.strip()
    assert raw.startswith("pw_")
    from tests.accounts.conftest import new_client

    api = new_client(container)
    mine = api.get("/api/library?page=1", headers={"Authorization": f"Bearer {raw}"})
    assert mine.status_code == 200 and len(mine.json()["papers"]) == 4
