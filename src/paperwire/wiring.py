"""The one place that builds adapters from settings and hands them to services.

Each adapter is built on first use, so commands pay only for what they touch.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from paperwire.config import Settings
from paperwire.store.db import check_connection, create_db_engine
from paperwire.store.migrate import create_or_require_current, require_current_schema, upgrade

if TYPE_CHECKING:
    from paperwire.llm.chat_summarizer import ChatSummarizer
    from paperwire.ports import (
        Embedder,
        JobService,
        KeywordIndex,
        Mailer,
        PaperFetcher,
        PaperSearch,
        VectorIndex,
    )
    from paperwire.services.accounts.mails import AccountMail
    from paperwire.services.fulltext import FulltextService
    from paperwire.services.library.ranking_cache import RankingCache
    from paperwire.sources.arxiv_api import ArxivApi
    from paperwire.sources.http_client import HttpClient

SNAPSHOT_FLUSH_S = 120.0  # how long close() waits for derived-index snapshots to be written


class Container:
    """Adapters and services for one process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def engine(self) -> Engine:
        return create_db_engine(self.settings.database_url)

    @cached_property
    def http_client(self) -> HttpClient:
        from paperwire.sources.http_client import HttpClient

        return HttpClient.from_settings(self.settings)

    @cached_property
    def arxiv_api(self) -> ArxivApi:
        """The arXiv query API (papers by id), for library imports and submissions."""
        from paperwire.sources.arxiv_api import ArxivApi

        return ArxivApi.from_settings(self.http_client, self.settings)

    @cached_property
    def mailer(self) -> Mailer:
        from paperwire.mail.transport import build_mailer

        s = self.settings
        return build_mailer(s.smtp_url, s.outbox_dir, timeout_s=s.smtp_timeout_s,
                            retries=s.smtp_retries, backoff_s=s.smtp_backoff_s)

    @cached_property
    def summarizer(self) -> ChatSummarizer | None:
        """The abstractive summary endpoint; None when PAPERWIRE_SUMMARY_LLM_URL is empty."""
        s = self.settings
        if not s.summary_llm_url:
            return None
        from paperwire.llm.chat_summarizer import ChatSettings, ChatSummarizer

        return ChatSummarizer(
            ChatSettings(url=s.summary_llm_url, model=s.summary_llm_model,
                         api_key=s.summary_llm_api_key, timeout_s=s.summary_llm_timeout_s,
                         retries=s.summary_llm_retries, concurrency=s.summary_llm_concurrency,
                         backoff_s=s.http_backoff_s, max_wait_s=s.http_max_wait_s),
            user_agent=s.user_agent,
        )

    @cached_property
    def jobs(self) -> JobService:
        """The background job queue and this process's runner of it (mails, submissions)."""
        from paperwire.services import submissions, subscriptions
        from paperwire.services.accounts.mails import ACCOUNT_MAIL_QUEUE
        from paperwire.services.background import JobRunner

        return JobRunner(self.engine, {
            ACCOUNT_MAIL_QUEUE: lambda payload: self.account_mail.deliver(payload),
            subscriptions.CONFIRMATION_QUEUE: lambda payload: subscriptions.deliver_confirmation(
                self.engine, self.mailer, self.settings, payload),
            submissions.SUBMIT_QUEUE: lambda payload: submissions.run_submission(
                self.engine, payload, fetch=self.paper_fetcher,
                max_age_days=self.settings.submit_max_age_days),
        })

    @cached_property
    def paper_fetcher(self) -> PaperFetcher:
        """Papers by arXiv id from the arXiv API (submissions, library imports)."""
        from paperwire.sources.arxiv_api import fetch_arxiv_papers

        return lambda ids: fetch_arxiv_papers(self.http_client, self.settings, ids)

    @cached_property
    def account_mail(self) -> AccountMail:
        from paperwire.services.accounts.mails import AccountMail

        return AccountMail(self.engine, self.settings, self.mailer, self.jobs)

    @cached_property
    def embedder(self) -> Embedder | None:
        """The text embedder from settings; None when PAPERWIRE_EMBEDDER=none."""
        from paperwire.search.embedder import build_embedder

        return build_embedder(self.settings)

    @cached_property
    def vector_index(self) -> VectorIndex | None:
        """Vector search for the embedder's model (pgvector or in-process); None without one."""
        from paperwire.search.vectors import build_vector_index

        embedder = self.embedder
        if embedder is None:
            return None
        return build_vector_index(
            self.engine, embedder.model_id, embedder.dim, self.settings.data_dir
        )

    @cached_property
    def keyword_index(self) -> KeywordIndex | None:
        """The in-memory BM25 ranker (None when PAPERWIRE_KEYWORD_RANKER=database)."""
        if self.settings.keyword_ranker != "memory":
            return None
        from paperwire.search.bm25 import Bm25Index

        return Bm25Index(self.engine, snapshot_dir=self.settings.data_dir / "keyword")

    @cached_property
    def search(self) -> PaperSearch:
        """Keyword/semantic/hybrid search; the embedder loads on the first semantic query."""
        from paperwire.services.search import SearchService

        def semantic():
            if self.embedder is None:
                return None, None, "the embedder is switched off"
            return self.embedder, self.vector_index, None

        return SearchService(self.engine, semantic, keyword_index=self.keyword_index)

    @cached_property
    def for_you_cache(self) -> RankingCache:
        """This process's per-user cache of For-you rankings (stamped, LRU), emptied per
        reader by the change events of this process's library writes."""
        from paperwire.services.library.ranking_cache import RankingCache
        from paperwire.store.events import bus_for

        cache = RankingCache()
        cache.listen(bus_for(self.engine))
        return cache

    @cached_property
    def fulltext(self) -> FulltextService:
        """Papers as Markdown, with full text fetched from arXiv HTML on first request."""
        from paperwire.services.fulltext import FulltextService

        return FulltextService(self.engine, self.http_client, self.settings)

    def prepare_database(self, schema: str = "migrate") -> None:
        """Check the connection, then handle the schema as `schema` says.

        "migrate": create or upgrade it to the newest (`serve`, `db migrate`).
        "create": create it in an empty database, else require it current (`import`).
        "require": require it current; never migrate (every other command).
        """
        if schema != "require":
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        check_connection(self.engine)
        if schema == "migrate":
            upgrade(self.engine)
        elif schema == "create":
            create_or_require_current(self.engine)
        else:
            require_current_schema(self.engine)

    def close(self) -> None:
        for name in ("vector_index", "keyword_index"):  # let a snapshot being written finish
            index = self.__dict__.get(name)
            if index is not None:
                index.wait_snapshots(SNAPSHOT_FLUSH_S)
        if "jobs" in self.__dict__:
            self.jobs.stop()
        if "mailer" in self.__dict__:
            self.mailer.close()
        if "fulltext" in self.__dict__:
            self.fulltext.close()
        if "http_client" in self.__dict__:
            self.http_client.close()
        if self.__dict__.get("summarizer") is not None:
            self.summarizer.close()
        if "engine" in self.__dict__:
            self.engine.dispose()


def build_container(settings: Settings) -> Container:
    return Container(settings)
