"""Search the catalogue: seller, buyer, number, dates, amounts, statuses, class, tenant and full text.

One ``search`` row per document is written by the catalogue in the transaction that saves the
document (``index``). Its text is the document's fields at once, and its captured text (the archived
``captures/ID.json``) as soon as a search runs after the capture was kept (``catch_up``): the catalogue
has no archive to read from, so the capture is read by the door that searches. SQLite matches with FTS5
(accents folded, words as prefixes, no stemming); PostgreSQL with a ``tsvector`` in the French
configuration (stemming) plus the unaccented words, under a GIN index.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Select,
    String,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    tuple_,
)
from sqlalchemy import column as sql_column
from sqlalchemy.sql.elements import ColumnElement

from dematflow.errors import DematflowError, NotFound
from extractors.identifiers import compact, vat_siren
from pipeline.accounts import Account, Role
from pipeline.db import documents, lifecycle, search
from pipeline.records import Document, Status

if TYPE_CHECKING:
    from pipeline.context import Services

log = logging.getLogger(__name__)

FEW_ROWS = 3000  # other criteria matching fewer rows than this: each is looked up in the full text
KEY_SLOTS = 1024  # search_text keys per microsecond of receipt
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TEXT = table("search_text", sql_column("rowid", Integer), sql_column("id", String))
MAX_AMOUNT = Decimal("1e16")  # what Numeric(18, 2) holds
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Criteria:
    """What a search is narrowed to; every criterion given must hold. Dates and amounts are inclusive;
    ``after`` is the (received_at, id) of the last result seen."""

    siren: str | None = None
    siret: str | None = None
    vat: str | None = None
    buyer: str | None = None  # BT-44, compared without case or extra spaces
    invoice_number: str | None = None  # BT-1
    issued_from: str | None = None  # BT-2
    issued_to: str | None = None
    due_from: str | None = None  # BT-9
    due_to: str | None = None
    min_amount: Decimal | None = None  # BT-112
    max_amount: Decimal | None = None
    status: Status | None = None
    lifecycle: int | None = None  # the current lifecycle code (200-213, 501)
    doc_type: str | None = None
    tenant: str | None = None
    text: str | None = None
    after: tuple[str, str] | None = None


def index(conn: Connection, doc: Document, captured: str | None = None) -> None:
    """Write the document's search row; its text is ``captured`` if given, else kept if the capture
    was indexed already, else its fields (and the capture is marked to be read)."""
    state = conn.execute(select(search.c.text_state).where(search.c.id == doc.id)).scalar()
    row: dict[str, Any] = {
        "tenant": doc.tenant,
        "received_at": doc.received_at,
        "doc_type": doc.doc_type.value if doc.doc_type else None,
        **columns(doc.fields),
    }
    body: str | None = None
    if captured is not None:
        row["text_state"], body = "capture", f"{_fields_text(doc)}\n{captured}"
    elif state != "capture":
        row["text_state"] = "pending" if "capture" in doc.objects else "fields"
        body = _fields_text(doc)
    if body is not None and conn.dialect.name == "postgresql":
        row["tsv"] = _tsvector(body)
    if state is None:
        conn.execute(search.insert().values(id=doc.id, **row))
    else:
        conn.execute(search.update().where(search.c.id == doc.id).values(**row))
    if body is not None and conn.dialect.name == "sqlite":
        _write_text(conn, doc, _clean(body))


def _write_text(conn: Connection, doc: Document | _Keyed, body: str) -> None:
    """The document's row of ``search_text``, at the first free key of its receipt microsecond."""
    low = text_key(doc.received_at)
    span = {"lo": low, "hi": low + KEY_SLOTS - 1, "id": doc.id}
    conn.execute(text("DELETE FROM search_text WHERE rowid BETWEEN :lo AND :hi AND id = :id"), span)
    within = text("SELECT rowid FROM search_text WHERE rowid BETWEEN :lo AND :hi")
    taken = {r[0] for r in conn.execute(within, span)}
    start = int.from_bytes(hashlib.sha256(doc.id.encode()).digest()[:2], "big")
    slot = next(s for n in range(KEY_SLOTS) if (s := low + (start + n) % KEY_SLOTS) not in taken)
    conn.execute(
        text("INSERT INTO search_text (rowid, id, body) VALUES (:r, :id, :body)"),
        {"r": slot, "id": doc.id, "body": body},
    )
    conn.execute(search.update().where(search.c.id == doc.id).values(text_key=slot))


def find(engine: Engine, criteria: Criteria, *, limit: int = 50) -> list[Document]:
    """The documents that meet every criterion, in the order received."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite" and criteria.text:
            stmt = _sqlite_text_query(conn, criteria)
        else:
            stmt = (
                select(documents.c.record)
                .select_from(search.join(documents, documents.c.id == search.c.id))
                .where(*_conditions(engine.dialect.name, criteria))
                .order_by(search.c.received_at, search.c.id)
            )
        rows = conn.execute(stmt.limit(limit)).all()
    return [Document.from_json(json.loads(r.record)) for r in rows]


def _sqlite_text_query(conn: Connection, criteria: Criteria) -> Select[Any]:
    """Full text on SQLite, by the cheaper of two plans. When the other criteria narrow the search to
    few rows, those rows are read in order and each is looked up among the keys the match gives.
    Otherwise the match is read in key order (receipt order) and stops after the first page, instead
    of loading and sorting every match of a common word."""
    words = _WORD.findall(_clean(criteria.text or ""))
    match = literal_column("search_text").op("MATCH")(" ".join(f'"{w}"*' for w in words) or '""')
    where = _conditions("sqlite", dataclasses.replace(criteria, text=None))
    if where and _fewer_than(conn, where, FEW_ROWS):
        probe = search.c.text_key.in_(select(_TEXT.c.rowid).where(match))  # the keys of the match, once
        return (
            select(documents.c.record)
            .select_from(search.join(documents, documents.c.id == search.c.id))
            .where(*where, probe)
            .order_by(search.c.received_at, search.c.id)
        )
    where = _conditions("sqlite", dataclasses.replace(criteria, text=None, after=None))
    where.append(match)
    if criteria.after is not None:
        where.append(_TEXT.c.rowid > _after_key(conn, *criteria.after))
    return (
        select(documents.c.record)
        .select_from(
            _TEXT.join(search, search.c.id == _TEXT.c.id).join(documents, documents.c.id == search.c.id)
        )
        .where(*where)
        .order_by(_TEXT.c.rowid)
    )


def _fewer_than(conn: Connection, where: list[ColumnElement[bool]], n: int) -> bool:
    rows = select(search.c.id).select_from(search.join(documents, documents.c.id == search.c.id))
    counted = select(func.count()).select_from(rows.where(*where).limit(n).subquery())
    return int(conn.execute(counted).scalar_one()) < n


def _after_key(conn: Connection, received_at: str, doc_id: str) -> int:
    """The key of the last result seen (its row, else the end of its microsecond)."""
    low = text_key(received_at)
    found = conn.execute(
        text("SELECT rowid FROM search_text WHERE rowid BETWEEN :lo AND :hi AND id = :id"),
        {"lo": low, "hi": low + KEY_SLOTS - 1, "id": doc_id},
    ).scalar()
    return int(found) if found is not None else low + KEY_SLOTS - 1


def text_key(received_at: str) -> int:
    """The lowest ``search_text`` key of a receipt time: its microsecond since 1970, times KEY_SLOTS
    (documents received in one microsecond share its slots)."""
    try:
        moment = datetime.fromisoformat(received_at)
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    micros = (moment - EPOCH) // timedelta(microseconds=1)
    return max(0, micros) * KEY_SLOTS


def find_for(services: Services, account: Account, criteria: Criteria, *, limit: int = 50) -> list[Document]:
    """What this account may find: a supplier searches its own tenant only, whatever it asks."""
    if account.role is Role.SUPPLIER:
        criteria = dataclasses.replace(criteria, tenant=account.tenant)
    catch_up(services)
    return find(services.catalogue.engine, criteria, limit=limit)


def catch_up(services: Services, *, batch: int = 200) -> int:
    """Index the captured text of documents whose capture was archived since; how many were read."""
    engine = services.catalogue.engine
    with engine.connect() as conn:
        pending = conn.execute(select(search.c.id).where(search.c.text_state == "pending").limit(batch))
        ids = [r.id for r in pending]
    for doc_id in ids:
        with engine.begin() as conn:
            record = conn.execute(select(documents.c.record).where(documents.c.id == doc_id)).scalar()
            if record is None:
                continue
            doc = Document.from_json(json.loads(record))
            index(conn, doc, _captured(services, doc))
    return len(ids)


def reindex(services: Services, *, batch: int = 500) -> int:
    """Index every document that has no search row yet (an archive older than search); how many."""
    engine = services.catalogue.engine
    missing = select(documents.c.record).where(~exists().where(search.c.id == documents.c.id)).limit(batch)
    count = 0
    while True:
        with engine.begin() as conn:  # one batch per transaction: SQLite allows one writer at a time
            rows = conn.execute(missing).all()
            for r in rows:
                index(conn, Document.from_json(json.loads(r.record)))
        count += len(rows)
        if len(rows) < batch:
            break
    while catch_up(services):
        pass
    return count


def _conditions(dialect: str, c: Criteria) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    for column, value in (
        (search.c.seller_siren, _digits(c.siren)),
        (search.c.seller_siret, _digits(c.siret)),
        (search.c.seller_vat, compact(c.vat) if c.vat else None),
        (search.c.buyer, _name(c.buyer) if c.buyer else None),
        (search.c.invoice_number, c.invoice_number),
        (search.c.doc_type, c.doc_type),
        (search.c.tenant, c.tenant),
        (documents.c.status, c.status.value if c.status else None),
    ):
        if value is not None:
            where.append(column == value)
    for column, low, high in (
        (search.c.issue_date, c.issued_from, c.issued_to),
        (search.c.due_date, c.due_from, c.due_to),
        (search.c.amount, c.min_amount, c.max_amount),
    ):
        if low is not None:
            where.append(column >= low)
        if high is not None:
            where.append(column <= high)
    if c.lifecycle is not None:
        where.append(_current_lifecycle(c.lifecycle))
    if c.text:
        where.append(_matches(dialect, c.text))
    if c.after is not None:
        where.append(tuple_(search.c.received_at, search.c.id) > tuple_(*c.after))
    return where


def _current_lifecycle(code: int) -> ColumnElement[bool]:
    later = lifecycle.alias("later")
    newer = exists().where(later.c.document_id == lifecycle.c.document_id, later.c.seq > lifecycle.c.seq)
    return exists().where(lifecycle.c.document_id == search.c.id, lifecycle.c.code == code, ~newer)


def _matches(dialect: str, query: str) -> ColumnElement[bool]:
    words = _WORD.findall(_clean(query))
    if not words:
        return search.c.id.is_(None)  # nothing to look for: nothing found
    if dialect == "postgresql":
        stemmed = search.c.tsv.op("@@")(func.websearch_to_tsquery("french", _clean(query)))
        plain = search.c.tsv.op("@@")(func.plainto_tsquery("simple", _unaccent(" ".join(words))))
        return or_(stemmed, plain)
    match = " ".join(f'"{w}"*' for w in words)
    fts: Select[Any] = select(_TEXT.c.id).where(literal_column("search_text").op("MATCH")(match))
    return search.c.id.in_(fts)


def columns(fields: dict[str, str]) -> dict[str, Any]:
    """The indexed columns of a document's fields: seller ids, buyer, number, dates, amount."""
    legal = _digits(fields.get("BT-30")) or _digits(fields.get("BT-29")) or ""
    vat = compact(fields["BT-31"]) if fields.get("BT-31") else None
    siren = legal[:9] if len(legal) in (9, 14) else (vat_siren(vat) if vat else None)
    return {
        "seller_siren": siren,
        "seller_siret": legal if len(legal) == 14 else None,
        "seller_vat": vat,
        "buyer": _name(fields["BT-44"])[:200] if fields.get("BT-44") else None,
        "invoice_number": (fields.get("BT-1") or None) and fields["BT-1"][:200],
        "issue_date": _date(fields.get("BT-2")),
        "due_date": _date(fields.get("BT-9")),
        "amount": amount(fields.get("BT-112")),
    }


def amount(value: str | None) -> Decimal | None:
    """BT-112 as a number (``1 234,50`` or ``1234.50``), None if it is not one we can store."""
    if not value:
        return None
    try:
        number = Decimal(value.replace("\u00a0", "").replace(" ", "").replace(",", "."))
    except InvalidOperation:
        return None
    return number.quantize(Decimal("0.01")) if number.is_finite() and abs(number) < MAX_AMOUNT else None


def _captured(services: Services, doc: Document) -> str:
    obj = doc.objects.get("capture")
    try:
        raw = services.store.get(obj.key) if obj else b"{}"
        return "\n".join(str(p.get("text", "")) for p in json.loads(raw).get("pages", ()))
    except (DematflowError, NotFound, OSError, ValueError, AttributeError) as exc:
        log.warning("search: capture of %s unreadable (%s); its fields stay indexed", doc.id, exc)
        return ""


def _fields_text(doc: Document) -> str:
    return "\n".join([doc.filename, *doc.fields.values()])


def _tsvector(body: str) -> ColumnElement[Any]:
    body = _clean(body)
    return func.to_tsvector("french", body).op("||")(func.to_tsvector("simple", _unaccent(body)))


@dataclass(frozen=True)
class _Keyed:
    """What a ``search_text`` key is made of, for rows moved over without their whole document
    (pipeline/migrations/versions/0002_search_text.py)."""

    id: str
    received_at: str


def _clean(value: str) -> str:
    return value.replace("\x00", " ")


def _unaccent(value: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", value) if not unicodedata.combining(ch))


def _digits(value: str | None) -> str | None:
    return "".join(ch for ch in value if ch.isdigit()) or None if value else None


def _name(value: str) -> str:
    return " ".join(value.lower().split())


def _date(value: str | None) -> str | None:
    return value if value and _DATE.match(value) else None
