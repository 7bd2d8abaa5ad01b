"""`paperwire ingest hf|arxiv|oai`: fetch papers from live sources into the database."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from paperwire.cli.context import fail, open_container
from paperwire.cli.ingest import print_report
from paperwire.domain.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.domain.records import Rejected, SourceItem
from paperwire.services.ingest import IngestReport, ingest
from paperwire.sources.failures import FailureAtEnd
from paperwire.sources.http_client import SourceError
from paperwire.wiring import Container

ingest_app = typer.Typer(
    name="ingest",
    help="Fetch papers from live sources: Hugging Face daily papers, the arXiv API, arXiv OAI-PMH.",
    no_args_is_help=True,
)

# Small batches: each is committed (and reported) as soon as a few pages have arrived.
LIVE_BATCH_SIZE = 200
PROGRESS_EVERY_S = 5.0


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.add_typer(ingest_app, name="ingest")


@ingest_app.command("hf")
def ingest_hf(
    day: Annotated[
        datetime | None,
        typer.Option("--date", formats=["%Y-%m-%d"], help="One daily page, YYYY-MM-DD."),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Every daily page from this day to today."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last day for --since (default: today, UTC)."),
    ] = None,
) -> None:
    """Fetch Hugging Face daily papers (/api/daily_papers?date=)."""
    from paperwire.sources import hf_api

    if (day is None) == (since is None):
        raise fail("give exactly one of --date YYYY-MM-DD or --since YYYY-MM-DD.")
    if until is not None and since is None:
        raise fail("--until only goes with --since.")
    with open_container(schema="create") as container:
        base = container.settings.hf_api_url
        if day is not None:
            items = hf_api.fetch_daily(container.http_client, base, day.date())
            parameters = {"date": day.date().isoformat()}
        else:
            assert since is not None
            last = until.date() if until else datetime.now(UTC).date()
            if last < since.date():
                raise fail("--since must not be after --until (or today).")
            items = hf_api.fetch_days(container.http_client, base, since.date(), last)
            parameters = {"since": since.date().isoformat(), "until": last.isoformat()}
        _run(container, items, source="hf-api", parameters=parameters)


@ingest_app.command("arxiv")
def ingest_arxiv(
    ids: Annotated[
        list[str] | None, typer.Argument(help="arXiv ids or abs/pdf URLs.", show_default=False)
    ] = None,
    ids_flag: Annotated[
        bool, typer.Option("--ids", help="Fetch the ids that follow (space- or comma-separated).")
    ] = False,
    category: Annotated[
        str | None, typer.Option(help="An arXiv category such as cs.CL; needs --since.")
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="With --category: first submission day to keep."),
    ] = None,
) -> None:
    """Fetch papers from the arXiv API by id, or a category's papers submitted since a day."""
    from paperwire.sources.arxiv_api import ArxivApi, is_category

    wanted = [part for text in ids or [] for part in text.replace(",", " ").split()]
    if wanted and category:
        raise fail("give either --ids ID... or --category C --since YYYY-MM-DD, not both.")
    if not wanted and not category:
        if ids_flag:
            raise fail("no ids given after --ids.")
        raise fail("give --ids ID... or --category C --since YYYY-MM-DD.")
    if category and since is None:
        raise fail("--category needs --since YYYY-MM-DD.")
    if category and not is_category(category):
        raise fail(f"{category!r} is not an arXiv category such as cs.CL.")
    if wanted:
        try:
            canonical = list(dict.fromkeys(parse_arxiv_id(text).id for text in wanted))
        except InvalidArxivId as exc:
            raise fail(str(exc)) from None
    with open_container(schema="create") as container:
        api = ArxivApi.from_settings(container.http_client, container.settings)
        if wanted:
            items = api.by_ids(canonical)
            parameters: dict = {"ids": canonical}
        else:
            assert category is not None and since is not None
            items = api.category_since(category, since.date())
            parameters = {"category": category, "since": since.date().isoformat()}
        _run(container, items, source="arxiv-api", parameters=parameters)


@ingest_app.command("oai")
def ingest_oai(
    from_day: Annotated[
        datetime,
        typer.Option(
            "--from", formats=["%Y-%m-%d"], help="Harvest records changed on or after this day."
        ),
    ],
    set_spec: Annotated[str, typer.Option("--set", help="OAI set, e.g. cs or cs:cs:CL.")] = "cs",
    until: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last datestamp day to harvest (default: none)."),
    ] = None,
    metadata_format: Annotated[
        str, typer.Option("--format", help="arXivRaw (with versions) or arXiv.")
    ] = "arXivRaw",
) -> None:
    """Harvest arXiv OAI-PMH ListRecords, following resumption tokens."""
    from paperwire.sources.oai_pmh import OaiHarvest

    with open_container(schema="create") as container:
        try:
            harvest = OaiHarvest(
                container.http_client,
                container.settings.arxiv_oai_url,
                set_spec=set_spec,
                from_day=from_day.date(),
                until_day=until.date() if until else None,
                metadata_prefix=metadata_format,
                delay_s=container.settings.arxiv_delay_s,
            )
        except ValueError as exc:
            raise fail(str(exc)) from None
        parameters = {
            "set": set_spec,
            "from": from_day.date().isoformat(),
            "format": metadata_format,
        }
        if until:
            parameters["until"] = until.date().isoformat()
        _run(container, harvest, source="arxiv-oai", parameters=parameters)
        if harvest.deleted:
            typer.echo(f"skipped {len(harvest.deleted)} deleted records")


def _run(
    container: Container, items: Iterable[SourceItem | Rejected], *, source: str, parameters: dict
) -> IngestReport:
    """Ingest the stream; on a source failure keep what came before and exit with one line."""
    stream = FailureAtEnd(items, LIVE_BATCH_SIZE)
    started = last_line = time.perf_counter()
    saved = 0

    def progress(batch: list[SourceItem]) -> None:
        """A plain line on stderr at most every few seconds while a long run goes on."""
        nonlocal saved, last_line
        saved += len(batch)
        now = time.perf_counter()
        if now - last_line >= PROGRESS_EVERY_S:
            last_line = now
            typer.echo(f"  {saved} papers saved so far ({saved / (now - started):.1f}/s)", err=True)

    try:
        report = ingest(
            container.engine,
            stream,
            source=source,
            parameters=parameters,
            on_batch=progress,
            batch_size=LIVE_BATCH_SIZE,
            remove_demo=True,
        )
        stream.raise_if_failed()
    except SourceError as exc:
        message = str(exc) if str(exc).endswith(".") else f"{exc}."
        kept = f" {saved} papers fetched before it were saved." if saved else ""
        raise fail(f"{message}{kept}") from None
    except KeyboardInterrupt:
        raise fail(f"interrupted; {saved} papers were saved", code=130) from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise fail(f"database error: {reason}") from None
    print_report(report)
    return report
