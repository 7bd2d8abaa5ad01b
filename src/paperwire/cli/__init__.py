"""The `paperwire` command line: thin wrappers over services."""

from __future__ import annotations

import typer

from paperwire.cli import (
    db,
    demo,
    digest,
    embed,
    enrich,
    help_format,
    ingest,
    library,
    live,
    mcp,
    search,
    serve,
    status,
    users,
)

help_format.install()  # help in words (TEXT, PATH...), not Python types

app = typer.Typer(
    name="paperwire",
    help="Self-hostable research-paper discovery.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)



@app.callback()
def _root() -> None:
    """Self-hostable research-paper discovery."""


for module in (serve, ingest, live, search, embed, enrich, db, users, digest, library, demo,
               mcp, status):
    module.register(app)


def main() -> None:
    app()
