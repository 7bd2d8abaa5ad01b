"""Import the real shared Hugging Face folder (9,881 items, both corrupt shapes)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from paperwire.store.db import create_db_engine
from paperwire.store.papers import get_paper
from paperwire.store.tables import daily_entries, papers


def test_real_daily_folder_imports_completely(shared_dir, run_cli, database_url):
    folder = shared_dir / "data" / "hf-daily-papers"
    result = run_cli("import", folder)
    assert result.exit_code == 0, result.output
    # 9,881 items, 9,877 distinct papers; the 300 repr strings and the wrapper all recover.
    assert result.stdout.splitlines() == [
        "imported 9877 papers (9877 new, 0 updated), 9881 daily entries, 0 rejected"
    ]
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == 9877
            days = set(conn.execute(select(daily_entries.c.day).distinct()).scalars())
            assert days == {date.fromisoformat(p.stem) for p in folder.glob("*.json")}
            # 2025-01-10.json is the wrapped response; its items are repr strings.
            wrapped_day = conn.execute(
                select(func.count()).where(daily_entries.c.day == date(2025, 1, 10))
            ).scalar_one()
            assert wrapped_day == 9
            recovered = get_paper(conn, "2501.05441")
            assert recovered.sources == {"hf"} and recovered.authors[0] == "Yiwen Huang"
    finally:
        engine.dispose()
