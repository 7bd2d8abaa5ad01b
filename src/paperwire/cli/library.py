"""`paperwire library ...`: import a reference file into a user's library, export one."""

from __future__ import annotations

from pathlib import Path

import typer

from paperwire.cli.context import fail, open_container
from paperwire.services import accounts, library
from paperwire.services.community import CommunityError
from paperwire.services.library import transfer

library_app = typer.Typer(help="Personal libraries: import, export.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(library_app, name="library")


def _user(container, username: str):
    user = accounts.find_user(container.engine, username)
    if user is None:
        raise fail(f"there is no user {username!r}; see `paperwire user list`")
    return user


def _collection_id(container, user, name: str | None) -> int | None:
    if not name:
        return None
    found = library.find_collection_by_name(container.engine, user.id, name)
    if found is None:
        raise fail(f"{user.username} has no collection called {name!r}")
    return found.id


@library_app.command("import")
def import_file(
    username: str = typer.Argument(..., help="Whose library to import into."),
    file: Path = typer.Argument(..., help="A BibTeX, RIS or CSL-JSON file."),
    format: str = typer.Option(None, "--format", help="bibtex, ris or csljson (default: detect)."),
    collection: str = typer.Option(None, "--collection", help="Also add to this collection."),
    fetch: bool = typer.Option(
        True, "--fetch/--no-fetch", help="Fetch arXiv ids this site lacks from arXiv."
    ),
) -> None:
    """Import references and print the match report (one line per entry, then a summary)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}") from None
    with open_container() as container:
        user = _user(container, username)
        fetcher = None
        if fetch and container.settings.library_import_fetch:
            fetcher = container.arxiv_api.by_ids
        try:
            report = transfer.import_references(
                container.engine, user, data, filename=file.name, fmt=format,
                fetch_arxiv=fetcher, collection_id=_collection_id(container, user, collection),
            )
        except CommunityError as exc:
            raise fail(exc.message) from None
    typer.echo("#\tresult\tpaper\tmatched by\tentry\tdetails")
    for row in report.rows:
        typer.echo("\t".join([
            str(row.index), row.status, row.paper_id or ",".join(row.candidates) or "-",
            row.how or "-", (row.title or row.label)[:80], row.message or "",
        ]))
    typer.echo(report.summary_line())


@library_app.command("export")
def export(
    username: str = typer.Argument(..., help="Whose library to export."),
    collection: str = typer.Option(None, "--collection", help="Only this collection (by name)."),
    tag: str = typer.Option(None, "--tag", help="Only papers with this tag."),
    format: str = typer.Option("bibtex", "--format", help="bibtex, ris or csljson."),
) -> None:
    """Write the library (or a collection or tag) to standard output."""
    with open_container() as container:
        user = _user(container, username)
        try:
            exported = transfer.export_library(
                container.engine, user, fmt=format,
                collection_id=_collection_id(container, user, collection), tag=tag,
            )
        except CommunityError as exc:
            raise fail(exc.message) from None
    typer.echo(exported.text, nl=False)
