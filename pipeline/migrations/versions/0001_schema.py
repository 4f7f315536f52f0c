"""The catalogue as dematflow created it before migrations (pipeline/db.py at that time).

Its tables are a frozen copy, created only where missing: a catalogue made by an earlier dematflow is
adopted by running this revision, which fills in what that dematflow lacked and records 0001.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SQLITE_TEXT_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5(id UNINDEXED, body, "
    "tokenize = 'unicode61 remove_diacritics 2')"
)
GENESIS = "0" * 64

schema = sa.MetaData()
S = sa.String

sa.Table(
    "documents",
    schema,
    sa.Column("id", S(32), primary_key=True),
    sa.Column("sha256", S(64), nullable=False),
    sa.Column("tenant", S(200), nullable=False, index=True),
    sa.Column("owner", S(32)),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("received_at", S(40), nullable=False),
    sa.Column("updated_at", S(40), nullable=False),
    sa.Column("status", S(20), nullable=False, index=True),
    sa.Column("stage", S(20), nullable=False),
    sa.Column("doc_type", S(30)),
    sa.Column("reason", sa.Text),
    sa.Column("record", sa.Text, nullable=False),
    sa.Column("seller_key", S(200)),
    sa.Column("invoice_number", S(200)),
    sa.Column("issue_date", S(10)),
    sa.Column("total", S(40)),
    sa.Index("ix_documents_duplicates", "seller_key", "issue_date"),
    sa.Index("ix_documents_listing", "tenant", "received_at", "id"),
    sa.UniqueConstraint("tenant", "sha256", name="uq_documents_tenant_sha256"),
)
sa.Table(
    "objects",
    schema,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("document_id", S(32), nullable=False, index=True),
    sa.Column("role", S(30), nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("sha256", S(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("document_id", "role"),
)
sa.Table(
    "accounts",
    schema,
    sa.Column("id", S(32), primary_key=True),
    sa.Column("name", S(200), nullable=False, unique=True),
    sa.Column("role", S(20), nullable=False),
    sa.Column("tenant", S(200), nullable=False),
    sa.Column("identifiers", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text),
    sa.Column("webhook_url", sa.Text),
    sa.Column("created_at", S(40), nullable=False),
    sa.Column("revoked_at", S(40)),
)
sa.Table(
    "tokens",
    schema,
    sa.Column("id", S(32), primary_key=True),
    sa.Column("account_id", S(32), nullable=False, index=True),
    sa.Column("hash", S(64), nullable=False, unique=True),
    sa.Column("created_at", S(40), nullable=False),
    sa.Column("expires_at", S(40), nullable=False),
    sa.Column("revoked_at", S(40)),
)
sa.Table(
    "idempotency",
    schema,
    sa.Column("account_id", S(32), primary_key=True),
    sa.Column("key", S(200), primary_key=True),
    sa.Column("sha256", S(64), nullable=False),
    sa.Column("document_id", S(32), nullable=False),
    sa.Column("created_at", S(40), nullable=False),
)
sa.Table(
    "review_locks",
    schema,
    sa.Column("document_id", S(32), primary_key=True),
    sa.Column("account_id", S(32), nullable=False),
    sa.Column("account_name", S(200), nullable=False),
    sa.Column("until", S(40), nullable=False),
)
sa.Table(
    "supplier_memory",
    schema,
    sa.Column("tenant", S(200), primary_key=True),
    sa.Column("supplier_key", S(200), primary_key=True),
    sa.Column("layout", sa.Text, nullable=False),
    sa.Column("taught_by", S(200), nullable=False),
    sa.Column("document_id", S(32)),
    sa.Column("updated_at", S(40), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)
sa.Table(
    "leases",
    schema,
    sa.Column("name", S(60), primary_key=True),
    sa.Column("holder", S(200), nullable=False),
    sa.Column("until", S(40), nullable=False),
)
sa.Table(
    "journal",
    schema,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", S(40), nullable=False),
    sa.Column("document_id", S(32), index=True),
    sa.Column("stage", S(20), nullable=False),
    sa.Column("action", S(40), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("prev_hash", S(64), nullable=False),
    sa.Column("hash", S(64), nullable=False),
)
journal_head = sa.Table(
    "journal_head",
    schema,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", S(64), nullable=False),
)
sa.Table(
    "lifecycle",
    schema,
    sa.Column("document_id", S(32), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("code", sa.Integer, nullable=False),
    sa.Column("reason", S(40)),
    sa.Column("message", sa.Text),
    sa.Column("actor", S(200), nullable=False),
    sa.Column("at", S(40), nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("sha256", S(64), nullable=False),
)
search = sa.Table(
    "search",
    schema,
    sa.Column("id", S(32), primary_key=True),
    sa.Column("tenant", S(200), nullable=False),
    sa.Column("received_at", S(40), nullable=False),
    sa.Column("doc_type", S(30), index=True),
    sa.Column("seller_siren", S(9), index=True),
    sa.Column("seller_siret", S(14), index=True),
    sa.Column("seller_vat", S(40), index=True),
    sa.Column("buyer", S(200), index=True),
    sa.Column("invoice_number", S(200), index=True),
    sa.Column("issue_date", S(10), index=True),
    sa.Column("due_date", S(10), index=True),
    sa.Column("amount", sa.Numeric(18, 2), index=True),
    sa.Column("text_state", S(10), nullable=False, index=True),
    sa.Column("tsv", sa.Text().with_variant(TSVECTOR(), "postgresql")),
    sa.Column("text_key", sa.BigInteger),
    sa.Index("ix_search_listing", "received_at", "id"),
    sa.Index("ix_search_tenant", "tenant", "received_at", "id"),
)
sa.event.listen(
    search,
    "after_create",
    sa.DDL("CREATE INDEX ix_search_tsv ON search USING gin (tsv)").execute_if(dialect="postgresql"),
)
sa.event.listen(search, "after_create", sa.DDL(SQLITE_TEXT_TABLE).execute_if(dialect="sqlite"))


def upgrade() -> None:
    bind = op.get_bind()
    schema.create_all(bind, checkfirst=True)
    if bind.execute(sa.select(journal_head.c.id)).first() is None:
        bind.execute(journal_head.insert().values(id=1, seq=0, hash=GENESIS))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_text")
    schema.drop_all(bind)
