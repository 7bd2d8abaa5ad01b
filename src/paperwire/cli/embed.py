"""`paperwire embed`: fill in missing embeddings, resumably, with a progress bar."""

from __future__ import annotations

import time

import typer
from sqlalchemy.exc import SQLAlchemyError

from paperwire.cli.context import fail, is_terminal, open_container
from paperwire.search.embedder import EmbedderUnavailable
from paperwire.search.vectors import VectorIndex
from paperwire.services.embeddings import DEFAULT_BATCH_SIZE, EmbedStats, embed_missing

LOG_EVERY_S = 10.0


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.command("embed")(embed_command)


def embed_command(
    device: str = typer.Option(
        None, "--device", help="cpu or cuda (default: PAPERWIRE_EMBED_DEVICE, else cpu)."
    ),
    batch_size: int = typer.Option(
        DEFAULT_BATCH_SIZE, "--batch-size", min=1, help="Papers per committed batch."
    ),
    limit: int = typer.Option(None, "--limit", min=0, help="Embed at most this many papers."),
) -> None:
    """Embed papers that have no embedding for the configured model yet.

    Every batch is committed on its own: an interrupted run is continued by running it again.
    """
    with open_container() as container:
        if device:
            container.settings.embed_device = device
        try:
            embedder = container.embedder
        except EmbedderUnavailable as exc:
            raise fail(str(exc)) from None
        if embedder is None:
            raise fail("semantic search is switched off (PAPERWIRE_EMBEDDER=none)")
        stats = EmbedStats()
        progress = TerminalProgress() if is_terminal() else LogProgress()
        started = time.perf_counter()
        typer.echo(f"model {embedder.model_id} on {container.settings.embed_device}", err=True)
        try:
            with progress:
                done = embed_missing(
                    container.engine,
                    embedder,
                    batch_size=batch_size,
                    progress=progress.update,
                    limit=limit,
                    stats=stats,
                )
        except KeyboardInterrupt:
            raise fail(
                f"interrupted after {stats.stored:,} papers; every finished batch is saved, "
                "run `paperwire embed` again to continue",
                code=130,
            ) from None
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise fail(f"database error: {reason}") from None
        elapsed = time.perf_counter() - started
        index = container.vector_index
        embedded, total = index.coverage() if index is not None else (0, 0)
        if isinstance(index, VectorIndex) and index.build_ann(wait=True):
            typer.echo(f"vector search: {index.describe()}", err=True)
    rate = done / elapsed if elapsed > 0 else 0.0
    typer.echo(
        f"embedded {done:,} papers ({stats.cached:,} from cache) in {elapsed:.1f} s "
        f"({rate:,.1f}/s); {embedded:,} of {total:,} papers have embeddings for {embedder.model_id}"
    )


class LogProgress:
    """One log line every few seconds when stderr is not a terminal."""

    def __init__(self) -> None:
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
        typer.echo(f"embedded {done:,}/{total:,} ({rate:,.1f}/s{eta})", err=True)

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class TerminalProgress:
    """A rich progress bar on stderr."""

    def __init__(self) -> None:
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
            TextColumn("embedding"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("embed", total=None)

    def update(self, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=total)

    def __enter__(self) -> TerminalProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()
