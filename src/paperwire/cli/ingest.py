"""`paperwire import PATH...`: bulk import of Hugging Face daily files and arXiv snapshots."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer
from sqlalchemy.exc import SQLAlchemyError

from paperwire.cli.context import fail, is_terminal, open_container
from paperwire.services.ingest import MAX_LOGGED_ERRORS, IngestReport, ingest
from paperwire.sources.bulk_files import ImportInputError, InputFile, iter_records, plan_import
from paperwire.sources.prefetch import prefetched

MAX_REJECTED_SHOWN = 50
LOG_EVERY_S = 5.0


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.command("import")(import_command)


def import_command(
    paths: list[Path] = typer.Argument(
        ...,
        help="Directories or files: Hugging Face daily-papers JSON, or arXiv snapshot JSON lines.",
        show_default=False,
        metavar="PATH",
    ),
) -> None:
    """Import papers from bulk files; formats are detected from the content."""
    try:
        files = plan_import(paths)
    except ImportInputError as exc:
        raise fail(str(exc)) from None
    with open_container(schema="create") as container:
        progress = TerminalProgress(files) if is_terminal() else LogProgress(files)
        try:
            with progress:
                report = ingest(
                    container.engine,
                    prefetched(iter_records(files, on_bytes=progress.set_bytes)),
                    source="import",
                    parameters={"paths": [str(p) for p in paths]},
                    on_progress=progress.add_records,
                    remove_demo=True,
                )
        except KeyboardInterrupt:
            raise fail("interrupted; every finished batch is saved", code=130) from None
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise fail(f"database error: {reason}") from None
    print_report(report)


def print_report(report: IngestReport) -> None:
    typer.echo(report.summary_line())
    for rejected in report.rejected[:MAX_REJECTED_SHOWN]:
        typer.echo(f"  rejected {rejected.where}: {rejected.reason}")
    hidden = report.rejected_total - min(len(report.rejected), MAX_REJECTED_SHOWN)
    if hidden > 0:
        kept = f"the ingest log keeps the first {MAX_LOGGED_ERRORS}"
        typer.echo(f"  ... and {hidden} more rejected ({kept})")


class _Progress:
    """Counts records (from the ingest service) and bytes read (from the files)."""

    def __init__(self, files: list[InputFile]) -> None:
        self.total_bytes = max(1, sum(f.size for f in files))
        self.bytes_done = 0
        self.records = 0
        self.started = time.perf_counter()

    def set_bytes(self, done: int) -> None:
        self.bytes_done = min(done, self.total_bytes)

    def add_records(self, count: int) -> None:
        self.records += count
        self.refresh()

    def refresh(self) -> None:  # pragma: no cover - overridden
        pass

    @property
    def rate(self) -> float:
        elapsed = time.perf_counter() - self.started
        return self.records / elapsed if elapsed > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        elapsed = time.perf_counter() - self.started
        if self.bytes_done <= 0 or elapsed <= 0:
            return None
        return elapsed * (self.total_bytes - self.bytes_done) / self.bytes_done

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class TerminalProgress(_Progress):
    """A rich progress bar on stderr: share of input read, records, rate and ETA."""

    def __init__(self, files: list[InputFile]) -> None:
        super().__init__(files)
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("importing"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[records]:,} records · {task.fields[rate]:,.0f}/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("import", total=self.total_bytes, records=0, rate=0.0)

    def refresh(self) -> None:
        self._progress.update(
            self._task, completed=self.bytes_done, records=self.records, rate=self.rate
        )

    def __enter__(self) -> TerminalProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()


class LogProgress(_Progress):
    """Plain progress lines on stderr every few seconds, for logs and pipes."""

    def __init__(self, files: list[InputFile]) -> None:
        super().__init__(files)
        self._last_log = self.started

    def refresh(self) -> None:
        now = time.perf_counter()
        if now - self._last_log >= LOG_EVERY_S:
            self._last_log = now
            self._log()

    def _log(self) -> None:
        share = 100.0 * self.bytes_done / self.total_bytes
        eta = self.eta_s
        eta_text = f", ETA {eta:.0f}s" if eta is not None else ""
        print(
            f"import: {self.records:,} records, {self.rate:,.0f} records/s, "
            f"{share:.0f}% of input read{eta_text}",
            file=sys.stderr,
            flush=True,
        )
