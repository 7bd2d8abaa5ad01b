"""Progress for long commands: a rich bar on a terminal, a log line every few seconds otherwise."""

from __future__ import annotations

import time

import typer

from paperwire.cli.context import is_terminal

LOG_EVERY_S = 10.0


def progress_for(label: str) -> LogProgress | TerminalProgress:
    """`label` names the work ("embedding", "enriching"); use as a context manager."""
    return TerminalProgress(label) if is_terminal() else LogProgress(label)


class LogProgress:
    """One log line every few seconds (and at the start and the end) on stderr."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.perf_counter()
        self.last = 0.0

    def update(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done not in (0, total) and now - self.last < LOG_EVERY_S:
            return
        self.last = now
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 and done else 0.0
        eta = f", ETA {(total - done) / rate:,.0f} s" if rate > 0 and done < total else ""
        typer.echo(f"{self.label} {done:,}/{total:,} ({rate:,.1f}/s{eta})", err=True)

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class TerminalProgress:
    """A rich progress bar on stderr."""

    def __init__(self, label: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("ETA"), TimeRemainingColumn(), console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task(label, total=None)

    def update(self, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=total)

    def __enter__(self) -> TerminalProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()
