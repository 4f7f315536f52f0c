"""Tables of the catalogue and the journal (SQLAlchemy Core): SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)

from dematflow.errors import StorageUnavailable

metadata = MetaData()

documents = Table(
    "documents",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),
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

GENESIS = "0" * 64


def make_engine(url: str) -> Engine:
    """An engine with the schema in place; SQLite gets WAL and write transactions that lock at BEGIN."""
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 60, "check_same_thread": False}
    try:
        engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            _sqlite_locking(engine)
        metadata.create_all(engine)
        with engine.begin() as conn:
            if conn.execute(journal_head.select()).first() is None:
                conn.execute(journal_head.insert().values(id=1, seq=0, hash=GENESIS))
    except Exception as exc:  # any driver error: the database is not usable
        if isinstance(exc, StorageUnavailable):
            raise
        raise StorageUnavailable(f"catalogue database unavailable ({_safe(url)}): {exc}") from exc
    return engine


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
