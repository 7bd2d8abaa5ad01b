"""Keyword index: FTS5 on SQLite, tsvector + GIN on PostgreSQL.

SQLite: an external-content FTS5 table over papers (title, abstract,
authors_text) with Porter stemming, kept in sync by triggers, so the index
changes in the same transaction as the paper. Its rowids are the papers'
rowids; `paperwire.search.sqlite_fts.rebuild_index` re-derives it if needed.

PostgreSQL: a STORED generated `search_vector` column, weighted title A,
authors B, abstract C, with a GIN index.

Revision ID: 0002_keyword_index
Revises: 0001_core
"""

from alembic import op

revision = "0002_keyword_index"
down_revision = "0001_core"
branch_labels = None
depends_on = None

_SQLITE_UP = [
    """
    CREATE VIRTUAL TABLE papers_fts USING fts5(
        title, abstract, authors_text,
        content='papers', content_rowid='rowid',
        tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER papers_fts_ai AFTER INSERT ON papers BEGIN
        INSERT INTO papers_fts(rowid, title, abstract, authors_text)
        VALUES (new.rowid, new.title, new.abstract, new.authors_text);
    END
    """,
    """
    CREATE TRIGGER papers_fts_ad AFTER DELETE ON papers BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors_text)
        VALUES ('delete', old.rowid, old.title, old.abstract, old.authors_text);
    END
    """,
    """
    CREATE TRIGGER papers_fts_au AFTER UPDATE OF title, abstract, authors_text ON papers
    WHEN old.title IS NOT new.title OR old.abstract IS NOT new.abstract
         OR old.authors_text IS NOT new.authors_text
    BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors_text)
        VALUES ('delete', old.rowid, old.title, old.abstract, old.authors_text);
        INSERT INTO papers_fts(rowid, title, abstract, authors_text)
        VALUES (new.rowid, new.title, new.abstract, new.authors_text);
    END
    """,
    "INSERT INTO papers_fts(papers_fts) VALUES ('rebuild')",
]

_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS papers_fts_au",
    "DROP TRIGGER IF EXISTS papers_fts_ad",
    "DROP TRIGGER IF EXISTS papers_fts_ai",
    "DROP TABLE IF EXISTS papers_fts",
]

_PG_UP = [
    """
    ALTER TABLE papers ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(authors_text, '')), 'B')
        || setweight(to_tsvector('english'::regconfig, coalesce(abstract, '')), 'C')
    ) STORED
    """,
    "CREATE INDEX ix_papers_search_vector ON papers USING gin (search_vector)",
]

_PG_DOWN = [
    "DROP INDEX IF EXISTS ix_papers_search_vector",
    "ALTER TABLE papers DROP COLUMN IF EXISTS search_vector",
]


def upgrade() -> None:
    statements = _SQLITE_UP if op.get_bind().dialect.name == "sqlite" else _PG_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = _SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else _PG_DOWN
    for statement in statements:
        op.execute(statement)
