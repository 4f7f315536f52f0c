"""Tables of the catalogue and the journal (SQLAlchemy Core): SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    DDL,
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.exc import OperationalError

from dematflow.errors import StorageUnavailable
from pipeline import migrations

# The schema as it is now. A change here goes with a revision under pipeline/migrations/versions/
# (docs/migrations.md); tests/test_migrations.py fails while the two differ.
metadata = MetaData()

documents = Table(
    "documents",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("tenant", String(200), nullable=False, index=True),
    Column("owner", String(32)),  # the depositing account; NULL for the CLI and the hot folder
    Column("filename", Text, nullable=False),
    Column("received_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("stage", String(20), nullable=False),
    Column("doc_type", String(30)),
    Column("reason", Text),
    Column("record", Text, nullable=False),  # the whole Document as JSON
    # What duplicate detection compares (EN 16931: seller, BT-1, BT-2, BT-112), indexed.
    Column("seller_key", String(200)),
    Column("invoice_number", String(200)),
    Column("issue_date", String(10)),
    Column("total", String(40)),
    Index("ix_documents_duplicates", "seller_key", "issue_date"),
    Index("ix_documents_listing", "tenant", "received_at", "id"),
    # The same bytes from two tenants are two documents: a tenant never learns of another's.
    UniqueConstraint("tenant", "sha256", name="uq_documents_tenant_sha256"),
)

objects = Table(
    "objects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", String(32), nullable=False, index=True),
    Column("role", String(30), nullable=False),
    Column("key", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    UniqueConstraint("document_id", "role"),
)

# Who may use the service: suppliers (bound to their SIRENs or VAT ids), agents, auditors, admins.
accounts = Table(
    "accounts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("tenant", String(200), nullable=False),
    Column("identifiers", Text, nullable=False),  # JSON list of SIRENs / VAT ids
    Column("password_hash", Text),  # argon2; NULL: signs in with a token only
    Column("webhook_url", Text),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40)),
)

# API tokens, stored as the SHA-256 of their secret (256 random bits: no password hashing needed).
tokens = Table(
    "tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False, index=True),
    Column("hash", String(64), nullable=False, unique=True),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Column("revoked_at", String(40)),
)

# An upload retried with the same Idempotency-Key answers with the document the first one created.
idempotency = Table(
    "idempotency",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("document_id", String(32), nullable=False),
    Column("created_at", String(40), nullable=False),
)

# Review claims: one agent works on a document at a time, until ``until`` (then anyone may claim it).
review_locks = Table(
    "review_locks",
    metadata,
    Column("document_id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("account_name", String(200), nullable=False),
    Column("until", String(40), nullable=False),
)

# What the memory learnt of each supplier's layout, per tenant (pipeline/memory.py); ``layout`` is JSON.
supplier_memory = Table(
    "supplier_memory",
    metadata,
    Column("tenant", String(200), primary_key=True),
    Column("supplier_key", String(200), primary_key=True),
    Column("layout", Text, nullable=False),
    Column("taught_by", String(200), nullable=False),
    Column("document_id", String(32)),
    Column("updated_at", String(40), nullable=False),
    Column("version", Integer, nullable=False),
)

# Who does a periodic job now (pipeline/stalled.py): one holder per name until ``until``.
leases = Table(
    "leases",
    metadata,
    Column("name", String(60), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("until", String(40), nullable=False),
)

journal = Table(
    "journal",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("document_id", String(32), index=True),
    Column("stage", String(20), nullable=False),
    Column("action", String(40), nullable=False),
    Column("body", Text, nullable=False),  # canonical JSON: inputs, outputs, tools, detail
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# One row: the last sequence number and hash. Updating it first serialises appends in both databases.
journal_head = Table(
    "journal_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Lifecycle statuses (cycle de vie, codes 200-213 and 501) of a document, in order; each row names
# the archived CDAR message that carries it. Written with its journal event in one transaction.
lifecycle = Table(
    "lifecycle",
    metadata,
    Column("document_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("code", Integer, nullable=False),
    Column("reason", String(40)),
    Column("message", Text),
    Column("actor", String(200), nullable=False),
    Column("at", String(40), nullable=False),
    Column("key", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
)

# SQLite's full text: its rowid follows receipt order (search.text_key), so a match is read in the order
# results are listed and the first page stops early.
SQLITE_TEXT_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5(id UNINDEXED, body, "
    "tokenize = 'unicode61 remove_diacritics 2')"
)

# What search looks at (pipeline/search.py), one row per document, written with the document.
# The text goes to ``tsv`` (tsvector, French, GIN) on PostgreSQL and to the FTS5 table on SQLite.
search = Table(
    "search",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(200), nullable=False),
    Column("received_at", String(40), nullable=False),
    Column("doc_type", String(30), index=True),
    Column("seller_siren", String(9), index=True),
    Column("seller_siret", String(14), index=True),
    Column("seller_vat", String(40), index=True),
    Column("buyer", String(200), index=True),  # BT-44, lower case, spaces collapsed
    Column("invoice_number", String(200), index=True),  # BT-1
    Column("issue_date", String(10), index=True),  # BT-2
    Column("due_date", String(10), index=True),  # BT-9
    Column("amount", Numeric(18, 2), index=True),  # BT-112 as a number
    Column("text_state", String(10), nullable=False, index=True),  # fields, pending (capture unread), capture
    Column("tsv", Text().with_variant(TSVECTOR(), "postgresql")),
    Column("text_key", BigInteger),  # SQLite: the rowid of this document's search_text row
    Index("ix_search_listing", "received_at", "id"),
    Index("ix_search_tenant", "tenant", "received_at", "id"),
)
event.listen(
    search,
    "after_create",
    DDL("CREATE INDEX ix_search_tsv ON search USING gin (tsv)").execute_if(dialect="postgresql"),
)
event.listen(
    search,
    "after_create",
    DDL(SQLITE_TEXT_TABLE).execute_if(dialect="sqlite"),
)

GENESIS = "0" * 64


def make_engine(url: str) -> Engine:
    """An engine on a catalogue at the newest schema (pipeline/migrations brings it there)."""
    engine = plain_engine(url)
    try:
        migrations.ensure_head(engine)
    except Exception as exc:  # any driver error: the database is not usable
        if isinstance(exc, StorageUnavailable):
            raise
        raise StorageUnavailable(f"catalogue database unavailable ({_safe(url)}): {exc}") from exc
    return engine


def plain_engine(url: str) -> Engine:
    """An engine on the database as it is; SQLite gets WAL and write transactions that lock at BEGIN."""
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 60, "check_same_thread": False}
    try:
        engine = create_engine(url, **kwargs)
    except Exception as exc:  # a malformed URL, a missing driver
        raise StorageUnavailable(f"catalogue database unavailable ({_safe(url)}): {exc}") from exc
    if url.startswith("sqlite"):
        _sqlite_locking(engine)
    else:
        _server_errors(engine)
    return engine


def _server_errors(engine: Engine) -> None:
    """A database server away (stopped, restarting, unreachable) is StorageUnavailable, which the
    retry policy retries, in every module's queries and not only in the catalogue's writes."""

    @event.listens_for(engine, "handle_error")
    def _handle_error(context: Any) -> None:
        err = context.sqlalchemy_exception
        if isinstance(err, OperationalError) and not context.is_pre_ping:
            raise StorageUnavailable(f"catalogue database unavailable: {err.orig}") from err


def _sqlite_locking(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below drive transactions
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA busy_timeout=60000")

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url
