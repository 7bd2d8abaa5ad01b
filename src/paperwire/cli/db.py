"""`paperwire db ...`: migrate, copy to another database, back up."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from paperwire.cli.context import fail, is_terminal
from paperwire.config import load_settings, mask_url_password
from paperwire.store.backup import BackupError, backup_database
from paperwire.store.db import DatabaseUnavailable, check_connection, create_db_engine
from paperwire.store.migrate import SchemaTooNew, current_revision, head_revision, upgrade
from paperwire.store.transfer import CopyError, CopyReport, copy_database

db_app = typer.Typer(help="Database maintenance: migrate, copy, back up.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.add_typer(db_app, name="db")


def _engine(url: str) -> Engine:
    """An engine for a user-given URL; a malformed URL ends with one line."""
    try:
        return create_db_engine(url)
    except (SQLAlchemyError, ValueError) as exc:
        raise fail(f"not a usable database URL {mask_url_password(url)!r}: {exc}") from None


def _database_error(exc: SQLAlchemyError) -> typer.Exit:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return fail(f"database error: {reason}")


@db_app.command("migrate")
def migrate() -> None:
    """Create the schema or bring it to this release's newest version."""
    url = load_settings().database_url
    engine = _engine(url)
    try:
        check_connection(engine)
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    except (DatabaseUnavailable, SchemaTooNew) as exc:
        raise fail(str(exc).splitlines()[0]) from None
    except SQLAlchemyError as exc:
        raise _database_error(exc) from None
    finally:
        engine.dispose()
    where = mask_url_password(url)
    if before == after:
        typer.echo(f"{where} is up to date (schema {after})")
    else:
        typer.echo(f"migrated {where} from {before or 'an empty database'} to {after}")


@db_app.command("copy")
def copy(
    to: str = typer.Option(..., "--to", help="Target database URL (postgresql://... or sqlite:///...)."),
    source: str = typer.Option(
        "", "--from", help="Source database URL; default: the configured PAPERWIRE_DATABASE_URL."
    ),
    batch_size: int = typer.Option(2000, min=1, max=50_000, help="Rows per transaction."),
) -> None:
    """Copy every table to another database, then verify row counts (re-run to resume)."""
    source_url = source or load_settings().database_url
    source_engine = _engine(source_url)
    target_engine = _engine(to)
    console = Console(stderr=True)
    typer.echo(f"copying {mask_url_password(source_url)} -> {mask_url_password(to)}")
    try:
        check_connection(source_engine)
        if current_revision(source_engine) != head_revision():
            upgrade(source_engine)  # the copy reads this release's schema
        with CopyProgress(console) as (on_table, on_progress):
            report = copy_database(source_engine, target_engine, batch_size=batch_size,
                                   on_table=on_table, on_progress=on_progress)
    except KeyboardInterrupt:
        raise fail("interrupted; run the same command again to resume", code=130) from None
    except (CopyError, DatabaseUnavailable, SchemaTooNew) as exc:
        raise fail(str(exc).splitlines()[0]) from None
    except SQLAlchemyError as exc:
        raise _database_error(exc) from None
    finally:
        source_engine.dispose()
        target_engine.dispose()
    print_copy_report(report)
    if not report.ok:
        raise typer.Exit(1)


class CopyProgress:
    """A rich progress bar on a terminal, one line per table otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar: Progress | None = None
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        if is_terminal():
            self.bar = Progress(
                TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=self.console,
            )
            self.bar.__enter__()
        return self.on_table, self.on_progress

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc_info)

    def on_table(self, name: str, total: int) -> None:
        if self.bar is not None:
            self.tasks[name] = self.bar.add_task(name, total=max(total, 1))
            if total == 0:
                self.bar.update(self.tasks[name], completed=1)
        else:
            self.console.print(f"{name}: {total} rows")

    def on_progress(self, name: str, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(self.tasks[name], completed=done)


def print_copy_report(report: CopyReport) -> None:
    table = Table("table", "source rows", "target rows", "copied", "already there", "check")
    for t in report.tables:
        table.add_row(t.name, str(t.source_rows), str(t.target_rows), str(t.copied),
                      str(t.already_present), "ok" if t.matches else "MISMATCH")
    Console(width=120).print(table)
    typer.echo(report.summary_line())


@db_app.command("backup")
def backup(
    path: Path = typer.Argument(..., help="Backup file to write.", show_default=False),
    force: bool = typer.Option(False, "--force", help="Replace PATH if it exists."),
) -> None:
    """Consistent online backup: SQLite backup API, or pg_dump for PostgreSQL."""
    url = load_settings().database_url
    engine = _engine(url)
    try:
        report = backup_database(engine, path, overwrite=force)
    except (BackupError, DatabaseUnavailable) as exc:
        raise fail(str(exc).splitlines()[0]) from None
    except SQLAlchemyError as exc:
        raise _database_error(exc) from None
    finally:
        engine.dispose()
    typer.echo(report.summary_line())
