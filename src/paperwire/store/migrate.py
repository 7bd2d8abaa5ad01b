"""Run Alembic migrations from code, refusing databases newer than this release."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

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
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise SchemaTooNew(
            f"the database is at schema revision {current!r}, which this Paperwire does not know: "
            "it was migrated by a newer release. Upgrade Paperwire instead of migrating."
        )
    if current != head:
        state = "has no Paperwire schema yet" if current is None else f"is at {current!r}"
        raise SchemaNotCurrent(
            f"the database {state}, not {head!r}: run `paperwire db migrate` first "
            "(`paperwire serve` does it for you)"
        )


MIGRATION_LOCK_KEY = 0x70770000  # PostgreSQL advisory lock; see store.db.LOCK_NAMESPACES


@contextlib.contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """One migrating process at a time; the others wait here, then find nothing to do.

    PostgreSQL: a session advisory lock on a connection of its own. SQLite: an
    exclusive `flock` on a file next to the database (released if the process dies).
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"),
                             {"key": MIGRATION_LOCK_KEY})
                conn.commit()
        return
    database = make_url(str(engine.url)).database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(engine: Engine) -> None:
    """Migrate to the newest schema this release knows (under `migration_lock`)."""
    with migration_lock(engine):
        _upgrade_locked(engine)


def _upgrade_locked(engine: Engine) -> None:
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


def is_empty(engine: Engine) -> bool:
    """True when the database holds no tables at all (nothing to upgrade, only to create)."""
    from sqlalchemy import inspect

    return not inspect(engine).get_table_names()


def create_or_require_current(engine: Engine) -> None:
    """Create the schema in an empty database; otherwise require it to be at head.

    Creating a database from nothing is not an upgrade, so commands that put data in
    (`paperwire import`, ...) may do it; a database at an older revision is refused
    with the line that says to run `paperwire db migrate`.
    """
    with migration_lock(engine):
        if current_revision(engine) is None and is_empty(engine):
            _upgrade_locked(engine)
            return
    require_current_schema(engine)


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
