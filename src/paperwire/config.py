"""One settings object, read from PAPERWIRE_* variables and an optional paperwire.toml.

Build it with `load_settings()`; nothing here runs at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEV_SECRET = "dev-insecure-secret-change-me"
MIN_SECRET_BYTES = 32
SECRET_FILE = "secret_key"
# Values that are known to the world: the old default, the example env file's, and the like.
KNOWN_PLACEHOLDER_SECRETS = frozenset({
    DEV_SECRET, "change-me-to-a-long-random-string", "change-me", "changeme", "secret",
    "paperwire", "your-secret-key", "please-change-me",
})


class SettingsError(ValueError):
    """Settings that cannot be used; the message is whole sentences naming the setting."""


class Settings(BaseSettings):
    """Every setting Paperwire reads. Environment variables win over paperwire.toml."""

    model_config = SettingsConfigDict(env_prefix="PAPERWIRE_", extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: find_data_dir(),
        description="Where the SQLite file, outbox and caches live. Default: the nearest "
        "paperwire-data folder in this folder or one above it (the one `make run` uses, from "
        "any folder of the checkout), else ./paperwire-data.",
    )
    database_url: str = Field("", description="SQLAlchemy URL; defaults to SQLite in data_dir.")
    environment: str = Field("development", description="development or production.")
    secret_key: str = Field(
        "",
        description="Signs sessions, CSRF tokens and mail links. Empty: a random key is made on "
        "first start and kept in DATA_DIR/secret_key (owner-only). A set key must be at least "
        "32 bytes and no known placeholder.",
    )
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public URL used in feeds and mails."
    )
    site_name: str = "Paperwire"

    # Sources
    hf_api_url: str = Field(
        "https://huggingface.co", description="Base URL of the Hugging Face API."
    )
    arxiv_api_url: str = Field("https://export.arxiv.org/api/query", description="arXiv query API.")
    arxiv_oai_url: str = Field(
        "https://oaipmh.arxiv.org/oai", description="arXiv OAI-PMH endpoint."
    )
    arxiv_delay_s: float = Field(
        3.0, description="Seconds between arXiv requests (their rate limit)."
    )
    http_timeout_s: float = 30.0
    http_retries: int = Field(
        4, description="Retries after the first attempt (429, 5xx, timeouts, cut-off bodies)."
    )
    http_backoff_s: float = Field(1.0, description="First retry delay; doubles, with jitter.")
    http_max_wait_s: float = Field(
        120.0, description="Longest single wait between retries, Retry-After included."
    )
    arxiv_html_url: str = Field(
        "https://arxiv.org/html", description="arXiv's HTML renderings (full text as Markdown)."
    )
    fulltext_fetch: bool = Field(
        True, description="Fetch a paper's full text from arXiv HTML on its first Markdown request."
    )
    fulltext_wait_s: float = Field(
        6.0, description="How long a Markdown request waits for that fetch before answering."
    )
    fulltext_retry_s: float = Field(
        3600.0, description="Seconds before a failed full-text fetch is tried again."
    )
    mcp_token: str = Field(
        "", description="API token the stdio MCP server (`paperwire mcp`) acts with."
    )
    arxiv_page_size: int = Field(
        100, description="Results per arXiv API request (and ids per id_list chunk)."
    )
    user_agent: str = (
        "Paperwire/0.1 (+https://github.com/paperwire/paperwire; self-hosted paper discovery)"
    )

    # Search
    embedder: str = Field(
        "default",
        description="'default' (bundled ONNX MiniLM), 'none', or a sentence-transformers "
        "model name/path.",
    )
    embed_device: str = "cpu"
    keyword_ranker: Literal["memory", "database"] = Field(
        "memory",
        description="'memory': an in-process BM25 index ranks keyword queries in milliseconds "
        "(about 150 MB per 80k papers, memory-mapped); 'database': FTS5/tsvector only.",
    )

    # Enrichment: keyphrases and one-line summaries (docs/enrichment.md)
    summary_llm_url: str = Field(
        "", description="OpenAI-compatible base URL (e.g. http://127.0.0.1:8080/v1) for "
        "generated one-line summaries; empty: extractive summaries only."
    )
    summary_llm_model: str = Field("", description="Model name sent to summary_llm_url.")
    summary_llm_api_key: str = Field("", description="Bearer key for summary_llm_url, if any.")
    summary_llm_timeout_s: float = Field(60.0, description="Seconds per summary request.")
    summary_llm_retries: int = Field(
        2, description="Retries of a 429, 5xx, timeout or junk answer, with backoff."
    )
    summary_llm_concurrency: int = Field(4, description="Summary requests in flight at once.")
    summary_llm_batch: int = Field(
        200, description="Papers sent to the endpoint per enrich run or worker day."
    )

    # Mail
    smtp_url: str = Field(
        "", description="smtp:// or smtps:// URL; empty writes .eml files to the outbox."
    )
    mail_from: str = "Paperwire <digest@localhost>"
    mail_reply_to: str = ""
    smtp_timeout_s: float = Field(
        20.0, description="Seconds before a silent SMTP server fails the send."
    )
    smtp_retries: int = Field(
        3, description="Retries of an SMTP 4xx or connection failure, with backoff."
    )
    smtp_backoff_s: float = Field(2.0, description="First retry delay; doubles each retry.")

    # Digests and the scheduled worker
    digest_max_bounces: int = Field(
        3, description="Stop mailing an address after this many 5xx bounces."
    )
    digest_claim_lease_s: float = Field(
        900.0, description="A claimed delivery whose sender vanished is retaken after this."
    )
    digest_default_papers: int = 10
    subscribe_resend_interval_s: float = Field(
        60.0, description="A repeated subscribe re-mails the confirmation at most this often."
    )
    worker_enabled: bool = Field(
        True, description="Run the scheduled worker inside `paperwire serve`."
    )
    worker_time: str = Field(
        "07:00", description="Local time (HH:MM) of the daily ingest + digest run."
    )
    worker_timezone: str = Field("UTC", description="IANA time zone of worker_time.")
    first_run_fetch: bool = Field(
        True,
        description="On an empty database, `paperwire serve` fetches the last days of Hugging "
        "Face daily papers (with arXiv metadata) in the background.",
    )
    first_run_days: int = Field(7, ge=1, le=60, description="Days the first-start fetch covers.")

    # Web
    page_cache_ttl_s: float = Field(
        5.0, description="Seconds feed pages and API lists may be served from memory (0: never)."
    )
    similar_cache_ttl_s: float = Field(600.0, description="Seconds similar papers are remembered.")

    trusted_proxies: str = Field(
        "127.0.0.1",
        description="Comma-separated addresses or networks (CIDR) of reverse proxies whose "
        "X-Forwarded-For/-Proto are believed; from anyone else they are ignored. Empty: none.",
    )

    # Accounts and community (docs/accounts.md)
    session_days: int = Field(30, description="How long a login session lasts.")
    token_ttl_minutes: int = Field(
        60, description="Lifetime of email verification, reset and magic-link tokens."
    )
    submit_max_age_days: int = Field(
        14, description="Oldest paper (days since publication) that may be submitted."
    )
    rate_limits_enabled: bool = True

    # Library and For-you (docs/library.md)
    library_import_fetch: bool = Field(
        True, description="Imports fetch arXiv ids this site lacks from the arXiv API."
    )
    rate_limit_login: str = Field(
        "10/60", description="Login attempts per account and per IP: COUNT/SECONDS."
    )
    rate_limit_signup: str = Field(
        "5/3600", description="Accounts created per IP: COUNT/SECONDS (failed tries don't count)."
    )
    rate_limit_signup_attempts: str = Field(
        "30/3600", description="Sign-up attempts per IP, failed ones included: COUNT/SECONDS."
    )
    rate_limit_submit: str = Field("20/3600", description="Submissions per account and per IP.")
    rate_limit_comment: str = Field("30/600", description="Comments per account and per IP.")
    rate_limit_api: str = Field("600/60", description="Requests under /api per account and IP.")
    mail_throttle_recipient: str = Field(
        "3/3600", description="Account/subscription mails per recipient address: COUNT/SECONDS."
    )
    mail_throttle_ip: str = Field(
        "20/3600", description="Account/subscription mails asked for per IP: COUNT/SECONDS."
    )
    login_lockout_failures: int = Field(5, description="Failed logins in a row before a lock.")
    login_lockout_base_s: int = Field(30, description="First lockout; doubles per failure.")
    login_lockout_max_s: int = Field(3600, description="Longest lockout.")

    @field_validator(
        "rate_limit_login", "rate_limit_signup", "rate_limit_signup_attempts",
        "rate_limit_submit", "rate_limit_comment", "rate_limit_api",
        "mail_throttle_recipient", "mail_throttle_ip",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        from paperwire.domain.rate_limits import RateLimit

        RateLimit.parse(value)  # raises a ValueError that names the bad value
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'paperwire.db').as_posix()}"
        if self.secret_key:
            problem = secret_key_problem(self.secret_key)
            if problem:
                raise ValueError(problem)
        else:
            self.secret_key = stored_secret_key(self.data_dir)
        return self

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("PAPERWIRE_CONFIG", "paperwire.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)


DATA_DIR_NAME = "paperwire-data"


def find_data_dir(start: Path | None = None) -> Path:
    """The nearest `paperwire-data` folder holding a database, here or in a parent folder;
    else `./paperwire-data` (created on first use)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / DATA_DIR_NAME
        if (candidate / "paperwire.db").is_file():
            return candidate if folder != here else Path(DATA_DIR_NAME)
    return Path(DATA_DIR_NAME)


def load_settings(**overrides: object) -> Settings:
    """Read settings now (environment, then paperwire.toml); keyword overrides win.

    Raises SettingsError with whole sentences (not pydantic's "1 validation error").
    """
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc)) from None


def describe_errors(exc) -> str:
    """One sentence per bad setting, naming its PAPERWIRE_* variable."""
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error.get("loc", ()) if part != "__root__")
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        name = f"PAPERWIRE_{field.upper()}" if field else "The settings"
        lines.append(message if not field or name in message else f"{name}: {message}")
    return " ".join(lines) or str(exc)


def secret_key_problem(key: str) -> str | None:
    """Why a configured secret key cannot be used, as a sentence; None if it is fine."""
    if key.strip().lower() in KNOWN_PLACEHOLDER_SECRETS:
        return ("PAPERWIRE_SECRET_KEY is a published placeholder, so anyone could forge "
                "sessions and mail links: set it to a private random value (for example "
                "`openssl rand -hex 32`), or leave it unset to have one generated in the data "
                "folder.")
    if len(key.encode()) < MIN_SECRET_BYTES:
        return (f"PAPERWIRE_SECRET_KEY is {len(key.encode())} bytes long; it must be at least "
                f"{MIN_SECRET_BYTES} bytes of private random text (for example "
                "`openssl rand -hex 32`), or leave it unset to have one generated in the data "
                "folder.")
    return None


def stored_secret_key(data_dir: Path) -> str:
    """The key kept in DATA_DIR/secret_key, made (random, mode 0600) on first use.

    Several processes starting at once agree on one key: the file appears whole (written
    aside, then linked into place, which fails if another process won).
    """
    import secrets

    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        aside = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    key = path.read_text().strip()
    problem = secret_key_problem(key)
    if problem:
        raise ValueError(f"The key in {path} cannot be used. " + problem)
    return key


def mask_url_password(url: str) -> str:
    """Hide the password in a database URL so it can be printed."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url
