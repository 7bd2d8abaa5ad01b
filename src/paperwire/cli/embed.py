"""`paperwire embed`: fill in missing embeddings, resumably, with a progress bar."""

from __future__ import annotations

import time

import typer
from sqlalchemy.exc import SQLAlchemyError

from paperwire.cli.context import fail, open_container
from paperwire.cli.progress import progress_for
from paperwire.search.embedder import EmbedderUnavailable
from paperwire.services.embeddings import DEFAULT_BATCH_SIZE, EmbedStats, embed_missing


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
        progress = progress_for("embedding")
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
        if index is not None and index.build_ann(wait=True):
            typer.echo(f"vector search: {index.describe()}", err=True)
    rate = done / elapsed if elapsed > 0 else 0.0
    typer.echo(
        f"embedded {done:,} papers ({stats.cached:,} from cache) in {elapsed:.1f} s "
        f"({rate:,.1f}/s); {embedded:,} of {total:,} papers have embeddings for {embedder.model_id}"
    )
