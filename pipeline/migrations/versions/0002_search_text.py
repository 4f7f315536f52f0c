"""SQLite: the full text moves from ``search_fts`` (keyed by a hash of the id) to ``search_text``, keyed
in receipt order (pipeline/search.py::text_key), and ``search`` gains ``text_key``. PostgreSQL: nothing.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger("pipeline.migrations")

SQLITE_TEXT_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5(id UNINDEXED, body, "
    "tokenize = 'unicode61 remove_diacritics 2')"
)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    # Keys are written as search writes them now (one function, not a copy that could drift).
    from pipeline.search import _Keyed, _write_text

    conn.execute(sa.text(SQLITE_TEXT_TABLE))
    if not any(r[1] == "text_key" for r in conn.execute(sa.text("PRAGMA table_info(search)"))):
        conn.execute(sa.text("ALTER TABLE search ADD COLUMN text_key BIGINT"))
    old = conn.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'search_fts'")).first()
    if old is None:
        return
    rows = conn.execute(
        sa.text("SELECT f.id, f.body, s.received_at FROM search_fts f JOIN search s ON s.id = f.id")
    ).all()
    for r in rows:
        _write_text(conn, _Keyed(r.id, r.received_at), r.body)
    conn.execute(sa.text("DROP TABLE search_fts"))
    log.info("search: %d full-text rows moved to receipt-order keys", len(rows))


def downgrade() -> None:
    pass  # the receipt-order keys are what search reads; there is no going back to hashed keys
