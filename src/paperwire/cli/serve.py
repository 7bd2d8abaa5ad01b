"""`paperwire serve`: run the web site."""

from __future__ import annotations

import typer

from paperwire.cli.context import open_container


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    demo: bool = typer.Option(False, "--demo", help="Seed the offline demo papers first."),
) -> None:
    """Serve the site (creating and migrating the database first)."""
    import uvicorn

    from paperwire.services.ingest import ingest
    from paperwire.web.app import create_app

    with open_container() as container:
        if demo:
            from paperwire.demo import DEMO_SOURCE, demo_items

            report = ingest(container.engine, demo_items(), source=DEMO_SOURCE, parameters={})
            typer.echo(f"demo data: {report.summary_line()}")
        typer.echo(f"database: {container.settings.database_url}")
        typer.echo(f"serving on http://{host}:{port}")
        uvicorn.run(create_app(container), host=host, port=port, log_level="info")
