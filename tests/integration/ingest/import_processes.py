"""Run real `paperwire import` processes, and read back what an import stored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from paperwire.store.db import create_db_engine
from paperwire.store.tables import daily_entries, organizations, paper_authors, papers


def start_import(url: str, data_dir: Path, *paths: Path) -> subprocess.Popen:
    env = os.environ | {"PAPERWIRE_DATABASE_URL": url, "PAPERWIRE_DATA_DIR": str(data_dir),
                        "PAPERWIRE_EMBEDDER": "none"}
    command = [sys.executable, "-c", "from paperwire.cli import main; main()", "import",
               *map(str, paths)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def run_import(url: str, data_dir: Path, *paths: Path) -> None:
    done = start_import(url, data_dir, *paths)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err


def import_contents(url: str) -> dict[str, object]:
    """Everything an import stores, without row ids and write times."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            org_names = dict(conn.execute(select(organizations.c.id, organizations.c.name)).all())
            skip = {"first_seen_at", "modified_at", "search_vector"}
            rows = {}
            for row in conn.execute(select(papers)).mappings():
                values = {k: v for k, v in row.items() if k not in skip}
                values["organization_id"] = org_names.get(values["organization_id"])
                rows[row["id"]] = values
            authors = sorted(conn.execute(
                select(paper_authors.c.paper_id, paper_authors.c.position, paper_authors.c.name)
            ).all())
            entries = sorted(
                tuple((k, v) for k, v in row.items() if k not in ("id", "created_at"))
                for row in conn.execute(select(daily_entries)).mappings()
            )
            return {"papers": rows, "authors": authors, "entries": entries,
                    "organizations": sorted(org_names.values())}
    finally:
        engine.dispose()
