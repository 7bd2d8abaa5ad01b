"""Run Alembic migrations from code, refusing databases newer than this release."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer Paperwire than this one."""


class SchemaNotCurrent(RuntimeError):
    """The database has not been migrated to this release's schema."""


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    assert head is not None
    return head


def require_current_schema(engine: Engine) -> None:
    """Fail with one clear line unless the database is at this release's schema."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "has no Paperwire schema yet" if current is None else f"is at {current!r}"
        raise SchemaNotCurrent(
            f"the database {state}, not {head!r}: run `paperwire db migrate` first "
            "(`paperwire serve` does it for you)"
        )


def upgrade(engine: Engine) -> None:
    """Migrate to the newest schema this release knows."""
    config = alembic_config(engine)
    script = ScriptDirectory.from_config(config)
    current = current_revision(engine)
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        raise SchemaTooNew(
            f"the database is at schema revision {current!r}, which this Paperwire does not know: "
            "it was migrated by a newer release. Upgrade Paperwire instead of migrating."
        )
    command.upgrade(config, "head")


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
