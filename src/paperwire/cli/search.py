"""`paperwire search` and `paperwire eval`."""

from __future__ import annotations

import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

import orjson
import typer

from paperwire.cli.context import fail, is_terminal, open_container


def _plain(snippet: str | None) -> str:
    if not snippet:
        return ""
    import html

    return html.unescape(re.sub(r"</?mark>", "", snippet))


def search_command(
    query: str = typer.Argument(..., help='Search text, e.g. "diffusion author:hinton".'),
    mode: str = typer.Option("hybrid", "--mode", "-m", help="keyword, semantic or hybrid."),
    limit: int = typer.Option(10, "--limit", "-n", help="How many results."),
    sort: str = typer.Option("relevance", "--sort", help="relevance, date or upvotes."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Search the papers in the database."""
    from paperwire.store.papers import load_papers

    with open_container() as container:
        try:
            results = container.search.search(query, mode=mode, limit=limit, sort=sort)
        except ValueError as exc:
            raise fail(str(exc)) from None
        with container.engine.connect() as conn:
            records = load_papers(conn, [h.paper_id for h in results.hits])
        if as_json:
            payload = {
                "mode": results.mode,
                "total": results.total,
                "notice": results.notice,
                "hits": [
                    {
                        "id": h.paper_id,
                        "title": records[h.paper_id].title if h.paper_id in records else None,
                        "score": h.score,
                        "keyword_score": h.keyword_score,
                        "semantic_score": h.semantic_score,
                        "snippet": h.snippet,
                    }
                    for h in results.hits
                ],
            }
            typer.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
            return
        if results.notice:
            typer.echo(f"note: {results.notice}", err=True)
        if not results.hits:
            typer.echo("no results")
            return
        for rank, hit in enumerate(results.hits, 1):
            record = records.get(hit.paper_id)
            title = " ".join(record.title.split()) if record else ""
            typer.echo(f"{rank:>3}. {hit.paper_id}  {title}  [{hit.score:.3f}]")
            if hit.snippet:
                typer.echo(f"     {_plain(hit.snippet)}")
        typer.echo(f"{results.total} results ({results.mode})")


def eval_command(
    beir_dir: Path = typer.Argument(..., help="BEIR folder: corpus, queries, qrels/test.tsv."),
    mode: str = typer.Option("all", "--mode", "-m", help="keyword, semantic, hybrid or all."),
    database_url: str = typer.Option(
        "", "--database-url", help="An EMPTY database to index into (default: temporary SQLite)."
    ),
) -> None:
    """Score search on a BEIR data set: nDCG@10, nDCG@20, MRR@10, Recall@100."""
    from paperwire.search.beir import BeirFormatError
    from paperwire.search.metrics import format_line
    from paperwire.search.plan import MODES
    from paperwire.services.evaluation import evaluate
    from paperwire.store.db import DatabaseUnavailable

    modes = list(MODES) if mode == "all" else [mode]
    if any(m not in MODES for m in modes):
        raise fail(f"unknown mode {mode!r}: use keyword, semantic, hybrid or all")
    if not beir_dir.is_dir():
        raise fail(f"{beir_dir} is not a folder")
    try:
        with _eval_container(database_url) as (container, cache_dir):
            report = evaluate(container, beir_dir, modes, cache_dir=cache_dir, progress=_progress())
    except (BeirFormatError, DatabaseUnavailable, ValueError) as exc:
        raise fail(str(exc).splitlines()[0]) from None
    for name in modes:
        if name in report.notices:
            typer.echo(f"note ({name}): {report.notices[name]}", err=True)
        typer.echo(format_line(name, report.scores[name]))


def eval_rec_command(
    folder: Path = typer.Argument(
        ..., help="Folder with corpus.jsonl(.gz), users.jsonl and qrels/test.tsv."),
    library_size: int = typer.Option(
        0, "--library-size", "-k",
        help="Use each reader's K newest library papers as the query (0: the whole library; "
             "1 is exactly 'similar papers')."),
    mode: str = typer.Option(
        "all", "--mode", "-m",
        help="keyword, semantic, hybrid, for-you, several separated by commas, or all."),
    database_url: str = typer.Option(
        "", "--database-url", help="An EMPTY database to index into (default: temporary SQLite)."
    ),
) -> None:
    """Score recommendations: rank each reader's later papers from their library."""
    from paperwire.search.beir import BeirFormatError
    from paperwire.search.metrics import format_rec_line
    from paperwire.services.rec_evaluation import evaluate_rec, resolve_modes
    from paperwire.store.db import DatabaseUnavailable

    try:
        modes = resolve_modes(mode)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if library_size < 0:
        raise fail("--library-size must be 0 (the whole library) or more")
    if not folder.is_dir():
        raise fail(f"{folder} is not a folder")
    try:
        with _eval_container(database_url) as (container, cache_dir):
            report = evaluate_rec(container, folder, modes, library_size=library_size or None,
                                  cache_dir=cache_dir, progress=_progress())
    except (BeirFormatError, DatabaseUnavailable, ValueError) as exc:
        raise fail(str(exc).splitlines()[0]) from None
    for name in modes:
        typer.echo(format_rec_line(name, report.scores[name]))


@contextmanager
def _eval_container(database_url: str):
    """A container on a temporary (or the given, empty) database, and the embedding cache
    shared by `eval` and `eval-rec` (DATA_DIR/embedding-cache, keyed by content hash)."""
    from paperwire.config import load_settings
    from paperwire.store.papers import count_papers
    from paperwire.wiring import build_container

    user_settings = load_settings()
    cache_dir = user_settings.data_dir / "embedding-cache"
    with tempfile.TemporaryDirectory(prefix="paperwire-eval-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'eval.db'}"
        settings = user_settings.model_copy(update={"data_dir": Path(tmp), "database_url": url})
        container = build_container(settings)
        try:
            container.prepare_database()
            with container.engine.connect() as conn:
                if count_papers(conn):
                    raise ValueError("the --database-url database holds papers; give an empty one")
            yield container, cache_dir
        finally:
            container.close()


def _progress():
    if not is_terminal():
        return None
    state: dict[str, int] = {}

    def show(stage: str, done: int, total: int) -> None:
        last = state.get(stage, -1)
        step = max(1, total // 50) if total else 5000
        if done - last >= step or done == total:
            state[stage] = done
            suffix = f"/{total}" if total else ""
            typer.echo(f"\r{stage}: {done}{suffix}", err=True, nl=False)
            if total and done == total:
                typer.echo("", err=True)

    return show


def register(app: typer.Typer) -> None:
    """Add this area's commands to the main app."""
    app.command("search")(search_command)
    app.command("eval")(eval_command)
    app.command("eval-rec")(eval_rec_command)
