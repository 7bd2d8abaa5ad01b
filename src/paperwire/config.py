"""One settings object, read from PAPERWIRE_* variables and an optional paperwire.toml.

Build it with `load_settings()`; nothing here runs at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEV_SECRET = "dev-insecure-secret-change-me"


class Settings(BaseSettings):
    """Every setting Paperwire reads. Environment variables win over paperwire.toml."""

    model_config = SettingsConfigDict(env_prefix="PAPERWIRE_", extra="ignore")

    data_dir: Path = Field(Path("paperwire-data"), description="Where the SQLite file, outbox and caches live.")
    database_url: str = Field("", description="SQLAlchemy URL; defaults to SQLite in data_dir.")
    environment: str = Field("development", description="development or production.")
    secret_key: str = Field(DEV_SECRET, description="Signs sessions and mail links.")
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL used in feeds and mails.")
    site_name: str = "Paperwire"

    # Sources
    hf_api_url: str = Field("https://huggingface.co", description="Base URL of the Hugging Face API.")
    arxiv_api_url: str = Field("https://export.arxiv.org/api/query", description="arXiv query API.")
    arxiv_oai_url: str = Field("https://oaipmh.arxiv.org/oai", description="arXiv OAI-PMH endpoint.")
    arxiv_delay_s: float = Field(3.0, description="Seconds between arXiv requests (their rate limit).")
    http_timeout_s: float = 30.0
    http_retries: int = 4
    user_agent: str = "Paperwire/0.1 (+https://github.com/paperwire/paperwire; self-hosted paper discovery)"

    # Search
    embedder: str = Field("default", description="'default' (bundled ONNX MiniLM), 'none', or a sentence-transformers model name/path.")
    embed_device: str = "cpu"

    # Mail
    smtp_url: str = Field("", description="smtp:// or smtps:// URL; empty writes .eml files to the outbox.")
    mail_from: str = "Paperwire <digest@localhost>"
    mail_reply_to: str = ""

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'paperwire.db').as_posix()}"
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("PAPERWIRE_SECRET_KEY must be set to a private value in production.")
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


def load_settings(**overrides: object) -> Settings:
    """Read settings now (environment, then paperwire.toml); keyword overrides win."""
    return Settings(**overrides)  # type: ignore[arg-type]


def mask_url_password(url: str) -> str:
    """Hide the password in a database URL so it can be printed."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url
