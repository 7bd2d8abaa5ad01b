"""`paperwire mcp`: the MCP server over stdio, for desktop agents (Claude Desktop, IDEs)."""

from __future__ import annotations

from typing import Annotated

import typer

from paperwire.cli.context import fail, open_container


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)


def mcp(
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="Your API token (pw_...) for the library tools; default PAPERWIRE_MCP_TOKEN.",
        ),
    ] = None,
) -> None:
    """Serve Paperwire's MCP tools over stdio (the agent starts this command).

    Over HTTP the same tools are at /mcp on `paperwire serve`.
    """
    from paperwire.mcp_server import build_mcp_server
    from paperwire.store.migrate import SchemaNotCurrent, require_current_schema

    with open_container(schema="none") as container:
        try:
            require_current_schema(container.engine)
        except SchemaNotCurrent as exc:
            raise fail(str(exc)) from None
        server = build_mcp_server(container, token=token or container.settings.mcp_token or None)
        server.run("stdio")
