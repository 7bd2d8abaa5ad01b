"""The demo set in the database: load it, count it, remove it with everything attached.

Demo papers have ids in the 0001.NNNN range (new-style arXiv ids began in 0704, so no
real paper can have one) and come from the "demo" source. Removing them deletes their
feed entries, authors, votes, comments, claims, library items and embeddings (the
foreign keys cascade), the digest's sent-paper marks, and the demo organizations once
no paper uses them. Importing or ingesting real papers removes the set (`ingest`).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, delete, exists, func, select

from paperwire.demo import DEMO_ORGANIZATIONS, DEMO_SOURCE, demo_items
from paperwire.store.events import OrganizationsChanged, PapersChanged
from paperwire.store.events import record as record_event
from paperwire.store.tables import organizations, papers

DEMO_ID_PREFIX = "0001."
IS_DEMO = papers.c.id.like(DEMO_ID_PREFIX + "%")


def count_demo_papers(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(papers).where(IS_DEMO)).scalar_one()


def has_real_papers(conn: Connection) -> bool:
    return conn.execute(select(exists().where(~IS_DEMO))).scalar()


def load_demo_set(engine: Engine):
    from paperwire.services.ingest import ingest

    return ingest(engine, demo_items(), source=DEMO_SOURCE, parameters={})


def remove_demo_set(engine: Engine) -> int:
    """Delete the demo papers and what hangs off them; returns how many papers went."""
    from paperwire.store.digest_tables import sent_papers

    with engine.begin() as conn:
        removed = count_demo_papers(conn)
        if not removed:
            return 0
        conn.execute(delete(sent_papers).where(sent_papers.c.paper_id.like(DEMO_ID_PREFIX + "%")))
        removed_ids = list(conn.execute(select(papers.c.id).where(IS_DEMO)).scalars())
        conn.execute(delete(papers).where(IS_DEMO))
        used = select(papers.c.id).where(papers.c.organization_id == organizations.c.id)
        conn.execute(
            delete(organizations).where(
                organizations.c.name.in_([o.name for o in DEMO_ORGANIZATIONS]), ~exists(used)
            )
        )
        record_event(conn, PapersChanged.of(removed_ids), OrganizationsChanged())
    return removed
