"""In Chromium: sign up, import BibTeX, follow an author, save two papers into a
collection, mark one not interested, open For-you and see the explanations, export BibTeX."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bibtexparser
import pytest

from paperwire.config import load_settings
from paperwire.domain.records import PaperRecord
from paperwire.store.papers import upsert_papers
from paperwire.web.app import create_app
from paperwire.wiring import build_container
from tests.accounts.conftest import outbox_links
from tests.accounts.live_server import LiveServer

pytestmark = pytest.mark.browser

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=60)
BIB = r"""@article{mine1, title={Denoising diffusion models for image synthesis},
  eprint={2501.00001}, archivePrefix={arXiv}}
@article{mine2, title={Score-based diffusion sampling with fewer steps},
  url={https://arxiv.org/abs/2501.00002}}
@article{mine3, title={Latent {D}iffusion for High Resolution Images}}
@article{unknown, title={A paper this site does not have}}
"""


def _papers():
    def p(pid, title, abstract, authors=("Someone Else",), when=None):
        return PaperRecord(id=pid, title=title, abstract=abstract, authors=authors,
                           categories=("cs.CV",), primary_category="cs.CV",
                           published_at=when or NOW - timedelta(days=1),
                           sources=frozenset({"test"}))

    return [
        p("2501.00001", "Denoising diffusion models for image synthesis",
          "Denoising diffusion models trained with a variational bound.", when=OLD),
        p("2501.00002", "Score-based diffusion sampling with fewer steps",
          "Faster samplers for score based diffusion models.", when=OLD),
        p("2501.00003", "Latent diffusion for high resolution images",
          "Diffusion in a learned latent space.", when=OLD),
        p("2512.00010", "Consistency distillation of diffusion samplers",
          "We distil score based diffusion samplers into one step."),
        p("2512.00011", "Protein folding with graph networks",
          "A graph network predicts protein structure.", authors=("Grace Hopper",)),
        p("2512.00012", "Image diffusion for medical scans", "Diffusion models denoise MRI."),
    ]


def test_library_and_for_you_flow(browser, tmp_path, database_url):
    settings = load_settings(data_dir=tmp_path / "data", database_url=database_url,
                             embedder="none", library_import_fetch=False)
    container = build_container(settings)
    container.prepare_database()
    with container.engine.begin() as conn:
        upsert_papers(conn, _papers())
    bib = tmp_path / "zotero.bib"
    bib.write_text(BIB)
    try:
        with LiveServer(create_app(container)) as server:
            settings.base_url = server.url
            page = browser.new_page()
            try:
                _flow(page, server.url, container, bib, tmp_path)
            finally:
                page.close()
    finally:
        container.close()


def _flow(page, base, container, bib, tmp_path) -> None:
    page.goto(f"{base}/signup")
    page.fill("#f-username", "Rosalind")
    page.fill("#f-email", "rosalind@example.org")
    page.fill("#f-password", "double-helix-51")
    page.click("button[type=submit]:has-text('Sign up')")
    page.wait_for_selector("text=Check your email")
    [link] = outbox_links(container, "/verify-email")
    page.goto(link)
    page.click("text=Confirm my email address")
    page.wait_for_selector("text=your email address is confirmed")
    page.goto(f"{base}/login")
    page.fill("#f-login", "rosalind@example.org")
    page.fill("#f-password", "double-helix-51")
    page.click("button[type=submit]:has-text('Log in')")
    page.wait_for_selector(".nav-account >> text=Rosalind")

    # Import BibTeX: the report table says what matched.
    page.goto(f"{base}/library/import")
    page.set_input_files("#imp-file", str(bib))
    page.click("button[type=submit]:has-text('Import')")
    page.wait_for_selector("table.import-report")
    assert "3 matched" in page.inner_text(".import-summary")
    assert "unmatched" in page.inner_text("tr.import-unmatched")

    # Follow an author from their page.
    page.goto(f"{base}/authors/Grace%20Hopper")
    page.click("button:has-text('+ Follow')")
    page.wait_for_selector("button:has-text('✓ Following')")

    # A collection, and two papers saved into it.
    page.goto(f"{base}/collections")
    page.fill("#c-name", "Diffusion reading")
    page.click("button[type=submit]:has-text('Create')")
    page.wait_for_selector("h1:has-text('Diffusion reading')")
    for pid in ("2512.00010", "2512.00012"):
        page.goto(f"{base}/papers/{pid}")
        page.evaluate("window.__noReload = true")
        page.click("form.save-form button")  # saves in place, no reload
        page.wait_for_selector("form.save-form button:has-text('★ Saved')")
        assert page.evaluate("window.__noReload") is True
        page.reload()
        page.click("summary:has-text('Notes, tags and collections')")
        page.select_option(f"#coll-{pid.replace('.', '-')}", label="Diffusion reading")
        page.click("button:has-text('Add')")
        page.wait_for_selector("a:has-text('Diffusion reading')")
    page.goto(f"{base}/library?collection=1")
    assert page.locator(".library-entry").count() == 2

    # Not interested in one of them.
    page.goto(f"{base}/papers/2512.00012")
    page.click("button:has-text('Not interested')")
    page.wait_for_selector("button:has-text('Interested again')")

    # For-you: explained picks.
    page.goto(f"{base}/for-you")
    page.wait_for_selector(".pick-reasons")
    reasons = page.inner_text(".for-you")
    assert "by Grace Hopper (you follow)" in reasons
    assert "Image diffusion for medical scans" not in page.inner_text(".cards")

    # Export BibTeX: the download parses back.
    page.goto(f"{base}/library/export")
    with page.expect_download() as info:
        page.click("button:has-text('Download')")
    path = tmp_path / "export.bib"
    info.value.save_as(path)
    entries = bibtexparser.parse_string(path.read_text()).entries
    assert {e.fields_dict["eprint"].value for e in entries} == {
        "2501.00001", "2501.00002", "2501.00003", "2512.00010", "2512.00012"}
