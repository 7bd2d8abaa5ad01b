"""The first start: on an empty database, fetch the last days of Hugging Face daily papers
with their arXiv metadata, in the background, reporting progress to the console and to
the front page (through the activity board).

Without network the fetch fails within one request per source; the front page then shows
the empty-site guidance with the error in one line. `PAPERWIRE_FIRST_RUN_FETCH=false`
turns it off.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, select

from paperwire.services.activity import FIRST_RUN, ActivityBoard
from paperwire.store.tables import papers


def database_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(papers)).scalar_one() == 0


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def fetch_recent_days(
    container,
    *,
    days: int,
    echo: Callable[[str], None],
    today: date | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Fetch `days` days of HF daily papers, then their arXiv records; returns papers stored.

    Each day is stored as it arrives, so the front page fills while the fetch goes on.
    """
    from paperwire.services.ingest import ingest
    from paperwire.sources import hf_api
    from paperwire.sources.arxiv_api import ArxivApi

    board = ActivityBoard(container.settings.data_dir)
    last = today or datetime.now(UTC).date()
    wanted = [last - timedelta(days=i) for i in range(days)]
    ids: list[str] = []
    stored = 0
    board.set(FIRST_RUN, "running", f"Fetching the last {days} days of Hugging Face daily papers…",
              total=days)
    echo(f"first start: the database is empty; fetching the last {days} days of Hugging Face "
         "daily papers (PAPERWIRE_FIRST_RUN_FETCH=false turns this off)")
    try:
        for n, day in enumerate(wanted, start=1):
            if should_stop():
                return stored
            items = list(hf_api.fetch_daily(container.http_client, container.settings.hf_api_url,
                                            day))
            report = ingest(container.engine, items, source="hf-api",
                            parameters={"date": day.isoformat(), "by": "first-run"},
                            remove_demo=True)
            stored += report.papers
            ids += [i.paper.id for i in items if hasattr(i, "paper")]
            message = f"Fetched {n} of {days} days from Hugging Face: {stored} papers so far."
            board.set(FIRST_RUN, "running", message, done=n, total=days)
            echo(f"first start: {day}: {report.summary_line()}")
        ids = list(dict.fromkeys(ids))
        if ids and not should_stop():
            board.set(FIRST_RUN, "running",
                      f"Fetching arXiv metadata for {len(ids)} papers…", done=days, total=days)
            echo(f"first start: fetching arXiv metadata for {len(ids)} papers")
            api = ArxivApi.from_settings(container.http_client, container.settings)
            report = ingest(container.engine, api.by_ids(ids), source="arxiv-api",
                            parameters={"ids": len(ids), "by": "first-run"}, remove_demo=True)
            echo(f"first start: arXiv: {report.summary_line()}")
    except Exception as exc:  # no network, a source down: one line, the guidance stays
        line = one_line(exc)
        board.set(FIRST_RUN, "failed",
                  f"Could not fetch recent papers: {line}", done=len(ids), total=days)
        echo(f"first start: could not fetch recent papers: {line}")
        return stored
    board.set(FIRST_RUN, "done", f"Fetched {stored} papers from the last {days} days.",
              done=days, total=days)
    echo(f"first start: done, {stored} papers from the last {days} days")
    return stored


def start_first_run_fetch(container, *, echo: Callable[[str], None]) -> Callable[[], None]:
    """In a daemon thread when the database is empty and the setting allows; returns stop."""
    settings = container.settings
    if not settings.first_run_fetch or not database_is_empty(container.engine):
        return lambda: None
    stop = threading.Event()
    thread = threading.Thread(
        target=fetch_recent_days,
        args=(container,),
        kwargs={"days": settings.first_run_days, "echo": echo, "should_stop": stop.is_set},
        name="paperwire-first-run",
        daemon=True,
    )
    thread.start()

    def stop_fetch() -> None:
        stop.set()
        thread.join(timeout=10)

    return stop_fetch
