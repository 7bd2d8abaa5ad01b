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
    demo: bool = typer.Option(
        False, "--demo", help="Seed the offline demo papers first (only into a site without "
        "real papers)."
    ),
    log_level: str = typer.Option("info", help="uvicorn log level."),
    worker: bool = typer.Option(
        True, "--worker/--no-worker",
        help="Run the scheduled jobs (ingest, embeddings, digests) in this process too, "
        "printing each step; PAPERWIRE_WORKER_ENABLED=false also turns them off.",
    ),
) -> None:
    """Serve the site (checking, creating and migrating the database first)."""
    import uvicorn

    from paperwire.services.first_run import start_first_run_fetch
    from paperwire.web.asgi import serving_app
    from paperwire.worker import start_background_worker

    base_url_note = derive_base_url(host, port)
    # This process checks the connection and migrates; web processes it starts only connect.
    with open_container(schema="migrate") as container:
        if demo:
            _load_demo(container)
        typer.echo(f"database: {mask_url_password(container.settings.database_url)}")
        if base_url_note:
            typer.echo(base_url_note)
        plural = "es" if workers > 1 else ""
        typer.echo(f"serving on http://{host}:{port} with {workers} process{plural}")
        # One container per process. With one web process the app runs here, on this
        # container, beside the worker; with several, each web process builds its own
        # and the scheduled jobs run once, in this (supervising) process.
        if workers == 1:
            target, factory = serving_app(container, owns_container=False), False
        else:
            target, factory = APP_FACTORY, True
        stop_first_run = start_first_run_fetch(container, echo=_echo)
        stop_jobs = (
            start_background_worker(container, echo=_echo, embed_in_subprocess=True)
            if worker
            else _worker_off()
        )
        try:
            # A worker on a busy machine can take a while to import; don't kill it for
            # that. proxy_headers=False: the app itself trusts X-Forwarded-* only from
            # PAPERWIRE_TRUSTED_PROXIES (uvicorn's FORWARDED_ALLOW_IPS is not used).
            uvicorn.run(target, factory=factory, host=host, port=port, workers=workers,
                        log_level=log_level, timeout_worker_healthcheck=60,
                        proxy_headers=False)
        finally:
            stop_first_run()
            stop_jobs()


def _echo(line: str) -> None:
    typer.echo(line)


def _worker_off():
    typer.echo("worker: off (--no-worker); run `paperwire worker` elsewhere for the daily jobs")
    return lambda: None


def _load_demo(container) -> None:
    """Demo data never takes over real data: it is only loaded into a site without any."""
    from paperwire.services import demo_data

    with container.engine.connect() as conn:
        real = demo_data.has_real_papers(conn)
    if real:
        typer.echo("demo data: not loaded, this database holds real papers "
                   "(`paperwire demo remove` deletes an older demo set)")
        return
    report = demo_data.load_demo_set(container.engine)
    typer.echo(f"demo data: {report.summary_line()} (`paperwire demo remove` deletes it; "
               "importing real papers also does)")


def derive_base_url(host: str, port: int) -> str | None:
    """Without PAPERWIRE_BASE_URL (or base_url in paperwire.toml), links use --host/--port.

    Sets the variable for this process and the web processes it starts; returns the
    one-time warning to print, or None when the setting is given.
    """
    import os

    from paperwire.config import load_settings

    if "base_url" in load_settings().model_fields_set:
        return None
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    url = f"http://{shown}:{port}"
    os.environ["PAPERWIRE_BASE_URL"] = url
    return (f"base URL: {url} (from --host/--port). Mails and feeds link there; set "
            "PAPERWIRE_BASE_URL to the site's public address when others use it.")
