"""Shared CLI plumbing: build the container, turn known errors into one line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from paperwire.config import load_settings
from paperwire.store.db import DatabaseUnavailable
from paperwire.store.migrate import SchemaNotCurrent, SchemaTooNew
from paperwire.wiring import Container, build_container


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def open_container(*, schema: str = "require") -> Iterator[Container]:
    """Build the container from settings; exit with one clear line on setup errors.

    `schema` (see `Container.prepare_database`): "require" (the default) refuses a
    database that is missing, empty or at an older schema, with one line that says to
    run `paperwire db migrate`; "create" (commands that put data in) may create the
    schema in a new, empty database; "migrate" (`serve` only) upgrades it; "none"
    leaves the check to the command.
    """
    try:
        settings = load_settings()
        new_file = new_sqlite_file(settings.database_url)
        if schema == "require" and new_file is not None:
            raise fail(
                f"there is no database at {new_file}: run `paperwire db migrate` to create "
                "it (`paperwire serve` does it for you), or set PAPERWIRE_DATA_DIR "
                "(or PAPERWIRE_DATABASE_URL) to the one you use"
            )
        container = build_container(settings)
        if schema != "none":
            try:
                container.prepare_database(schema)
            except BaseException:
                container.close()
                raise
    except (DatabaseUnavailable, SchemaTooNew, SchemaNotCurrent, ValueError) as exc:
        raise fail(str(exc).splitlines()[0]) from None
    if new_file is not None and new_file.exists():
        typer.echo(
            f"note: created a new, empty database at {new_file}. To use another one, set "
            "PAPERWIRE_DATA_DIR (or PAPERWIRE_DATABASE_URL), or run from a folder of the "
            "checkout whose paperwire-data/ holds it.",
            err=True,
        )
    try:
        yield container
    finally:
        container.close()


def new_sqlite_file(database_url: str) -> Path | None:
    """The SQLite file this URL names, if it does not exist yet (None otherwise)."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(database_url)
    except Exception:
        return None
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database).resolve()
    return None if path.exists() else path


def is_terminal() -> bool:
    return sys.stderr.isatty()
