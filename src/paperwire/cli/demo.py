"""`paperwire demo load|remove`: the offline demo set, kept apart from real papers."""

from __future__ import annotations

import typer

from paperwire.cli.context import fail, open_container

demo_app = typer.Typer(
    name="demo",
    help="The offline demo set ([Demo] papers): load it, or remove it with everything attached.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(demo_app, name="demo")


@demo_app.command("load")
def load() -> None:
    """Load the demo papers (not into a database that already holds real papers)."""
    from paperwire.services import demo_data

    with open_container(schema="create") as container:
        with container.engine.connect() as conn:
            real = demo_data.has_real_papers(conn)
        if real:
            raise fail("this database already holds real papers; the demo set is only for an "
                       "empty site")
        report = demo_data.load_demo_set(container.engine)
    typer.echo(f"demo data: {report.summary_line()}")
    typer.echo("remove it with: paperwire demo remove (importing real papers also removes it)")


@demo_app.command("remove")
def remove() -> None:
    """Delete the demo papers with their entries, votes, comments, claims and embeddings."""
    from paperwire.services import demo_data

    with open_container() as container:
        removed = demo_data.remove_demo_set(container.engine)
    if removed:
        typer.echo(f"removed the demo set: {removed} papers and everything attached to them")
    else:
        typer.echo("no demo papers in this database")
