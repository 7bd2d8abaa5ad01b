"""`paperwire status`: the latest ingest runs and worker steps (killed ones as interrupted)."""

from __future__ import annotations

import orjson
import typer
from rich.console import Console
from rich.table import Table

from paperwire.cli.context import open_container


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.command("status")(status_command)


def status_command(
    limit: int = typer.Option(10, "--limit", "-n", min=1, max=500, help="Runs of each kind."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show the latest ingest runs and worker steps; killed ones show as interrupted."""
    from paperwire.services.runs import recent_runs

    with open_container() as container:
        report = recent_runs(container.engine, limit=limit)
    if as_json:
        typer.echo(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2).decode())
        return
    console = Console(width=140)
    for title, runs in (("Ingest runs", report.ingest), ("Worker steps", report.worker)):
        table = Table("id", "what", "on", "state", "started", "last sign of life", "result",
                      title=title, title_justify="left")
        for run in runs:
            table.add_row(
                str(run.id), run.name, run.key, run.state,
                f"{run.started_at:%Y-%m-%d %H:%M:%S}" if run.started_at else "",
                f"{run.heartbeat_at:%Y-%m-%d %H:%M:%S}" if run.heartbeat_at else "",
                run.summary,
            )
        if not runs:
            console.print(f"{title}: none yet")
        else:
            console.print(table)
