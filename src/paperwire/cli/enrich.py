"""`paperwire enrich`: keyphrases and a one-line summary for papers whose source had none."""

from __future__ import annotations

import time

import typer
from sqlalchemy.exc import SQLAlchemyError

from paperwire.cli.context import fail, open_container
from paperwire.cli.progress import progress_for


def register(app: typer.Typer) -> None:
    app.command("enrich")(enrich_command)


def enrich_command(
    limit: int = typer.Option(None, "--limit", min=0, help="Enrich at most this many papers."),
    generate: bool = typer.Option(
        True, "--generate/--no-generate",
        help="Also replace extracted summaries through PAPERWIRE_SUMMARY_LLM_URL, when set.",
    ),
) -> None:
    """Extract keyphrases and a one-sentence summary for papers that lack them.

    Incremental: only papers without an enrichment, or changed since, are done; each batch
    is committed on its own, so an interrupted run continues where it stopped. Values that
    came from the source (Hugging Face) are never replaced.
    """
    from paperwire.services.enrichment import enrich_papers, generate_summaries
    from paperwire.store.enrichments import count_enriched

    with open_container() as container:
        started = time.perf_counter()
        try:
            with progress_for("enriching") as progress:
                report = enrich_papers(container.engine, limit=limit, progress=progress.update)
        except KeyboardInterrupt:
            raise fail("interrupted; every finished batch is saved, run `paperwire enrich` "
                       "again to continue", code=130) from None
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise fail(f"database error: {reason}") from None
        elapsed = time.perf_counter() - started
        rate = report.checked / elapsed if elapsed > 0 else 0.0
        typer.echo(f"{report.summary_line()} in {elapsed:.1f} s ({rate:,.1f} papers/s)")
        if generate:
            try:
                summarizer = container.summarizer
            except ValueError as exc:
                raise fail(f"summary endpoint: {exc}") from None
            if summarizer is not None:
                typer.echo(f"generating summaries with {summarizer.describe()}", err=True)
                batch = container.settings.summary_llm_batch
                with progress_for("generating") as progress:
                    generated = generate_summaries(
                        container.engine, summarizer,
                        limit=min(batch, limit) if limit is not None else batch,
                        progress=progress.update)
                typer.echo(generated.summary_line())
        with container.engine.connect() as conn:
            counts = count_enriched(conn)
    typer.echo(
        f"{counts['papers']:,} papers: summaries {counts['source_summary']:,} from Hugging Face, "
        f"{counts['extracted_summary']:,} extracted, {counts['generated_summary']:,} generated; "
        f"keywords {counts['source_keywords']:,} from Hugging Face, "
        f"{counts['extracted_keywords']:,} extracted"
    )
