"""A paper as Markdown, with its full text from arXiv's HTML rendering when it can be had.

The first request for a paper starts a fetch (through the shared HttpClient: its
timeouts, retries and arXiv spacing) on a single background thread and waits at most
`fulltext_wait_s` for it. A fast fetch is served at once; a slow one finishes in the
background and is served to the next request, so no request blocks for the full
retry budget. Fetches run one at a time (arXiv asks for spacing anyway) and one per
paper at most. A failure is recorded with its time and reason, said in the
document, and tried again after `fulltext_retry_s`; it never replaces stored text.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta

from sqlalchemy import Engine

from paperwire.config import Settings
from paperwire.domain.paper_markdown import FulltextNote, PaperFacts, render_paper_markdown
from paperwire.services.papers import PaperDetail, get_paper_detail
from paperwire.sources.http_client import HttpClient, SourceError
from paperwire.store.db import utcnow
from paperwire.store.fulltext import StoredFulltext, load_fulltext, record_failure, save_fulltext

log = logging.getLogger(__name__)


class FulltextService:
    def __init__(self, engine: Engine, client: HttpClient, settings: Settings) -> None:
        self._engine = engine
        self._client = client
        self._settings = settings
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fulltext")
        self._inflight: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def paper_markdown(self, paper_id: str, *, wait_s: float | None = None) -> str | None:
        """The paper's Markdown document; None when there is no such (visible) paper."""
        with self._engine.connect() as conn:
            detail = get_paper_detail(conn, paper_id)
            stored = load_fulltext(conn, paper_id) if detail else None
        if detail is None:
            return None
        note = self._note(stored)
        if self._should_fetch(stored):
            future = self._start(paper_id)
            try:
                future.result(timeout=self._settings.fulltext_wait_s if wait_s is None else wait_s)
            except FutureTimeout:
                note = FulltextNote("pending", stored.markdown if stored else None)
            else:
                with self._engine.connect() as conn:
                    note = self._note(load_fulltext(conn, paper_id))
        return render_paper_markdown(paper_facts(detail, self._settings.base_url), note)

    def fetch_now(self, paper_id: str) -> None:
        """Fetch and store the full text (or record the failure); never raises SourceError."""
        from paperwire.sources.arxiv_html import fetch_fulltext

        try:
            text = fetch_fulltext(
                self._client, self._settings.arxiv_html_url, paper_id,
                min_interval_s=self._settings.arxiv_delay_s,
            )
        except (SourceError, ValueError) as exc:
            log.info("full text of %s not fetched: %s", paper_id, exc)
            with self._engine.begin() as conn:
                record_failure(conn, paper_id, str(exc).rstrip(".") or type(exc).__name__,
                               at=utcnow())
            return
        with self._engine.begin() as conn:
            save_fulltext(conn, paper_id, text.markdown, source_url=text.source_url, at=utcnow())

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- internals -------------------------------------------------------------

    def _note(self, stored: StoredFulltext | None) -> FulltextNote:
        if stored is None:
            return FulltextNote("off" if not self._settings.fulltext_fetch else "pending")
        state = "stored" if stored.markdown and not stored.last_error else "failed"
        if not stored.markdown and not self._settings.fulltext_fetch:
            state = "off"
        return FulltextNote(
            state, stored.markdown, stored.source_url, stored.fetched_at, stored.last_error
        )

    def _should_fetch(self, stored: StoredFulltext | None) -> bool:
        if not self._settings.fulltext_fetch:
            return False
        if stored is None:
            return True
        if stored.markdown and not stored.last_error:
            return False  # stored: served from the database from now on
        retry_at = stored.attempted_at + timedelta(seconds=self._settings.fulltext_retry_s)
        return not stored.markdown and utcnow() >= retry_at

    def _start(self, paper_id: str) -> Future[None]:
        with self._lock:
            future = self._inflight.get(paper_id)
            if future is None or future.done():
                future = self._executor.submit(self._run, paper_id)
                self._inflight[paper_id] = future
            return future

    def _run(self, paper_id: str) -> None:
        try:
            self.fetch_now(paper_id)
        except Exception:  # a database hiccup must not kill the fetch thread's later work
            log.exception("full-text fetch of %s failed", paper_id)
        finally:
            with self._lock:
                self._inflight.pop(paper_id, None)


def paper_facts(detail: PaperDetail, base_url: str) -> PaperFacts:
    card = detail.paper
    return PaperFacts(
        id=card.id,
        title=card.title,
        authors=card.authors,
        abstract=card.abstract,
        abs_url=card.abs_url,
        pdf_url=card.pdf_url,
        page_url=f"{base_url.rstrip('/')}/papers/{card.id}",
        published_at=card.published_at,
        updated_at=card.updated_at,
        categories=card.categories,
        github_repo=card.github_repo,
        project_page=card.project_page,
        doi=card.doi,
        journal_ref=card.journal_ref,
        organization=card.organization.display if card.organization else None,
        upvotes=card.upvotes,
        num_comments=card.num_comments,
        feed_days=[d.day for d in detail.feed_days],
        ai_summary=card.ai_summary,
        ai_keywords=card.ai_keywords,
    )
