"""`paperwire serve`: run the web site, in one or several processes."""

from __future__ import annotations

import typer

from paperwire.cli.context import open_container
from paperwire.config import mask_url_password

APP_FACTORY = "paperwire.web.asgi:create_app_from_env"


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="Web processes (they share the database)."
    ),
    demo: bool = typer.Option(False, "--demo", help="Seed the offline demo papers first."),
    log_level: str = typer.Option("info", help="uvicorn log level."),
    worker: bool = typer.Option(
        True, "--worker/--no-worker",
        help="Run the scheduled jobs (ingest, digests) in this process too; "
        "PAPERWIRE_WORKER_ENABLED=false also turns them off.",
    ),
) -> None:
    """Serve the site (checking, creating and migrating the database first)."""
    import uvicorn

    from paperwire.services.ingest import ingest
    from paperwire.wiring import build_container
    from paperwire.worker import start_background_worker

    # One process checks the connection and migrates; the workers only connect.
    with open_container() as container:
        if demo:
            from paperwire.demo import DEMO_SOURCE, demo_items

            report = ingest(container.engine, demo_items(), source=DEMO_SOURCE, parameters={})
            typer.echo(f"demo data: {report.summary_line()}")
        typer.echo(f"database: {mask_url_password(container.settings.database_url)}")
    plural = "es" if workers > 1 else ""
    typer.echo(f"serving on http://{host}:{port} with {workers} process{plural}")
    # The scheduled jobs run once, in this (supervising) process, whatever the web worker count.
    jobs_container = build_container(container.settings)
    stop_jobs = start_background_worker(jobs_container) if worker else (lambda: None)
    try:
        # A worker on a busy machine can take a while to import; don't kill it for that.
        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                    log_level=log_level, timeout_worker_healthcheck=60)
    finally:
        stop_jobs()
        jobs_container.close()
