"""The agent's desk: which documents await a person, and what the screen shows of one of them.

A document awaits a person while it is ``needs_review`` and no buyer decision holds it (approved,
disputed, suspended, refused...; a 209 Complétée answering a suspension puts it back). Its
*version* is the ``seq`` of its last journal entry that changes it: reads (``access``) and webhook
deliveries are left out, so an auditor opening the document never makes an agent's edit stale.
Decisions are in ``pipeline.review_decide``, claims in ``pipeline.review_locks``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, not_, select

from dematflow.errors import InvalidRequest
from extractors.fields import extract_fields
from extractors.results import DocType, Located, Source
from pipeline import answers, journal, lifecycle, memory, review_facturx, review_locks, review_render
from pipeline.accounts import Account, Role
from pipeline.context import Services
from pipeline.db import journal as journal_table
from pipeline.db import lifecycle as lifecycle_table
from pipeline.records import Document, Event, Status
from pipeline.review_locks import Lock
from pipeline.review_render import Box

# After these buyer (or closing) statuses the document waits on no agent.
DECIDED = frozenset({205, 206, 207, 208, 210, 211, 212, 213, 501})
INVOICE_TERMS = (
    "BT-1", "BT-2", "BT-3", "BT-5", "BT-9", "BT-27", "BT-30", "BT-31", "BT-44", "BT-84",
    "BT-109", "BT-110", "BT-112", "BT-115",
)  # fmt: skip
LOW_CONFIDENCE = "LOW-CONFIDENCE"  # the rule id shown for a field the reader was unsure of
MAX_QUEUE = 5000  # documents examined for one listing


class Sort(StrEnum):
    AGE = "age"  # oldest first
    CONFIDENCE = "confidence"  # lowest confidence first


@dataclass(frozen=True)
class QueueQuery:
    sort: Sort = Sort.AGE
    supplier: str | None = None  # a substring of BT-27, BT-30 or BT-31
    doc_type: str | None = None
    reason: str | None = None  # a rule id or field in doubt
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class QueueItem:
    document: Document
    min_confidence: float | None
    lock: Lock | None
    version: int


def version(conn: Engine | Connection, document_id: str) -> int:
    """The seq of the document's last journal entry that changed it (0 if none)."""
    table = journal_table.c
    query = select(func.max(table.seq)).where(
        table.document_id == document_id,
        table.stage != "access",
        not_(and_(table.stage == "lifecycle", table.action.like("webhook-%"))),
    )
    if isinstance(conn, Engine):
        with conn.connect() as c:
            return int(c.execute(query).scalar() or 0)
    return int(conn.execute(query).scalar() or 0)


def _current_codes(engine: Engine, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    query = select(lifecycle_table.c.document_id, lifecycle_table.c.code).order_by(lifecycle_table.c.seq)
    with engine.connect() as conn:
        rows = conn.execute(query.where(lifecycle_table.c.document_id.in_(ids))).all()
    return {r.document_id: int(r.code) for r in rows}  # the last one per document wins


def awaiting(doc: Document, code: int | None) -> bool:
    return doc.status is Status.NEEDS_REVIEW and (code is None or code not in DECIDED)


def min_confidence(doc: Document) -> float | None:
    return round(min(doc.confidence.values()), 3) if doc.confidence else None


def _matches(doc: Document, q: QueueQuery) -> bool:
    if q.doc_type and (doc.doc_type.value if doc.doc_type else None) != q.doc_type:
        return False
    if q.supplier:
        wanted = q.supplier.casefold().replace(" ", "")
        seller = [doc.fields.get(t, "") for t in ("BT-27", "BT-30", "BT-31")]
        if not any(wanted in s.casefold().replace(" ", "") for s in seller):
            return False
    if q.reason:
        rules = {*doc.review, *(f.rule for f in doc.findings)}
        return q.reason in rules or q.reason in (doc.reason or "")
    return True


def _sort_key(item: QueueItem, sort: Sort) -> list[Any]:
    doc = item.document
    if sort is Sort.CONFIDENCE:
        conf = item.min_confidence if item.min_confidence is not None else 2.0
        return [conf, doc.received_at, doc.id]
    return [doc.received_at, doc.id]


def _awaiting(services: Services, q: QueueQuery) -> list[QueueItem]:
    """Every document awaiting a person that ``q`` selects, in its order (no lock nor version yet)."""
    docs = services.catalogue.list(status=Status.NEEDS_REVIEW, limit=MAX_QUEUE)
    codes = _current_codes(services.catalogue.engine, [d.id for d in docs])
    docs = [d for d in docs if awaiting(d, codes.get(d.id)) and _matches(d, q)]
    items = [QueueItem(d, min_confidence(d), None, 0) for d in docs]
    items.sort(key=lambda i: _sort_key(i, q.sort))
    return items


def queue(services: Services, q: QueueQuery) -> tuple[list[QueueItem], str | None]:
    """One page of the documents awaiting a person, and the cursor of the next page (or None)."""
    engine = services.catalogue.engine
    items = _awaiting(services, q)
    if q.cursor:
        after = decode_cursor(q.cursor, q.sort)
        items = [i for i in items if _sort_key(i, q.sort) > after]
    page, more = items[: q.limit], len(items) > q.limit
    locks = review_locks.in_force(engine, [i.document.id for i in page])
    page = [
        QueueItem(i.document, i.min_confidence, locks.get(i.document.id), version(engine, i.document.id))
        for i in page
    ]
    return page, (encode_cursor(_sort_key(page[-1], q.sort)) if more and page else None)


def neighbours(services: Services, q: QueueQuery, document_id: str, me: str) -> tuple[str | None, str | None]:
    """The documents before and after ``document_id`` among the first ``q.limit`` of the queue, skipping
    those another account holds (``me``: the account name); the first free one when it is not there."""
    ids = [i.document.id for i in _awaiting(services, q)[: q.limit]]
    locks = review_locks.in_force(services.catalogue.engine, ids)
    free = [i for i in ids if i == document_id or i not in locks or locks[i].by == me]
    if document_id not in free:
        return None, (free[0] if free else None)
    at = free.index(document_id)
    return (free[at - 1] if at > 0 else None), (free[at + 1] if at + 1 < len(free) else None)


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> list[Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidRequest("curseur de pagination invalide") from None
    shape = [float, str, str] if sort is Sort.CONFIDENCE else [str, str]
    if not (isinstance(key, list) and len(key) == len(shape)):
        raise InvalidRequest("curseur de pagination invalide")
    if not all(
        isinstance(v, t) or (t is float and isinstance(v, int)) for v, t in zip(key, shape, strict=True)
    ):
        raise InvalidRequest("curseur de pagination invalide")
    return key


# --- one document, as the review screen shows it ------------------------------------------------


@dataclass(frozen=True)
class Reading:
    value: str
    confidence: float | None
    page: int | None
    box: Box | None


@dataclass(frozen=True)
class FieldView:
    term: str
    value: str | None
    confidence: float | None
    page: int | None
    box: Box | None
    rules: tuple[str, ...]
    candidates: tuple[Reading, ...] = ()


@dataclass(frozen=True)
class ReviewView:
    document: Document
    version: int
    lock: Lock | None
    pages: int
    lifecycle: lifecycle.Transition | None
    fields: tuple[FieldView, ...]
    totals: dict[str, Any] = field(default_factory=dict)
    answers: tuple[answers.Answered, ...] = ()  # the supplier's answers to a 208
    memory_taught: MemoryNote | None = None  # the layout this document's confirm taught
    memory_used: MemoryNote | None = None  # the layout it was read with
    facturx: review_facturx.FacturxNote | None = None  # made from the confirmed fields


@dataclass(frozen=True)
class MemoryNote:
    supplier_key: str
    fields: tuple[str, ...]
    by: str | None  # the account name that taught the layout
    at: str | None


def view(services: Services, account: Account, doc: Document) -> ReviewView:
    """The document with each field's value, confidence, box, failing rules and other candidates;
    an auditor's opening is journalled (the trail says who looked, not only who changed)."""
    engine = services.catalogue.engine
    if account.role is Role.AUDITOR:
        detail = {"account": account.id, "role": account.role.value, "screen": "review"}
        services.catalogue.record(Event("access", "viewed", doc.id, detail=detail))
    located = _located(services, doc)
    extra = sorted(set(doc.fields) - set(INVOICE_TERMS))
    terms = [*INVOICE_TERMS, *extra] if doc.doc_type in (DocType.INVOICE, DocType.CREDIT_NOTE) else extra
    views = tuple(_field(doc, term, located.get(term, ())) for term in terms)
    return ReviewView(
        document=doc,
        version=version(engine, doc.id),
        lock=review_locks.holder(engine, doc.id),
        pages=review_render.page_count(services, doc),
        lifecycle=lifecycle.current(engine, doc.id),
        fields=views,
        totals=totals(doc.fields),
        answers=tuple(answers.answers_of(engine, doc.id)),
        facturx=review_facturx.note_of(engine, doc),
        **_memory_notes(engine, doc),
    )


def _memory_notes(engine: Engine, doc: Document) -> dict[str, MemoryNote | None]:
    """What the journal says the supplier memory did with the document: taught from its confirm
    (the last lesson), read it at extraction (by and when: the memory's lesson in force now)."""
    taught = used = None
    for entry in journal.entries(engine, document_id=doc.id):
        detail = entry.body.get("detail", {})
        if entry.stage == "memory" and entry.action == "taught":
            by = str(detail.get("actor", "")).split(":", 1)[-1] or None
            key, learnt = str(detail.get("supplier_key")), tuple(detail.get("fields", ()))
            taught = MemoryNote(key, learnt, by, entry.at)
        elif entry.stage == "extract" and (detail.get("memory") or {}).get("used"):
            read = detail["memory"]
            used = MemoryNote(str(read.get("supplier_key")), tuple(read.get("fields", ())), None, entry.at)
    if used is not None:
        known = memory.about(engine, doc.tenant, doc.fields)
        read_at = used.at or ""
        used = MemoryNote(used.supplier_key, used.fields, None, None)
        if known is not None and known["supplier_key"] == used.supplier_key and known["updated_at"] < read_at:
            by = str(known.get("taught_by") or "").split(":", 1)[-1] or None
            used = MemoryNote(used.supplier_key, used.fields, by, known.get("updated_at"))
    return {"memory_taught": taught, "memory_used": used}


def _located(services: Services, doc: Document) -> dict[str, tuple[Reading, ...]]:
    """Where each field was read, from the capture (the reader is run again on its words: it is
    deterministic, and the record keeps values, not boxes)."""
    if doc.source not in (Source.OCR, Source.PDF_TEXT) or doc.doc_type is None:
        return {}
    cap = review_render.capture_of(services, doc)
    if cap is None or not cap.pages:
        return {}
    norm = review_render.normaliser(services, doc, cap)

    def reading(loc: Located) -> Reading:
        return Reading(loc.value, loc.confidence, loc.page, norm(loc.page, loc.box))

    capture = doc.objects["capture"].key
    located = review_render.kept(("located", capture), lambda: extract_fields(cap.pages).located)
    return {term: tuple(map(reading, locs)) for term, locs in located.items()}  # type: ignore[attr-defined]


def prepare(services: Services, doc: Document) -> None:
    """Read what the review screen will show of ``doc`` (capture, page sizes, field boxes) into memory,
    before the agent opens it: the page then answers sooner."""
    _located(services, doc)


def _mentions(text: str | None, term: str) -> bool:
    return bool(text) and re.search(rf"(?<![\w-]){re.escape(term)}(?!\d)", text or "") is not None


def _field(doc: Document, term: str, readings: tuple[Reading, ...]) -> FieldView:
    value = doc.fields.get(term)
    rules = sorted({f.rule for f in doc.findings if _mentions(f.location, term)})
    if any(entry == term or _mentions(entry, term) for entry in doc.review):
        rules.append(LOW_CONFIDENCE)
    chosen = next((r for r in readings if r.value == value), None)
    others = tuple(r for r in readings if r is not chosen)
    return FieldView(
        term=term,
        value=value,
        confidence=round(doc.confidence[term], 3) if term in doc.confidence else None,
        page=chosen.page if chosen else None,
        box=chosen.box if chosen else None,
        rules=tuple(rules),
        candidates=others,
    )


def totals(fields: dict[str, str]) -> dict[str, Any]:
    """HT, TVA and TTC, and whether HT + TVA = TTC."""
    out: dict[str, Any] = {t: fields.get(t) for t in ("BT-109", "BT-110", "BT-112")}
    try:
        ht, tva, ttc = (Decimal(fields[t]) for t in ("BT-109", "BT-110", "BT-112"))
        out["consistent"] = ht + tva == ttc
    except (KeyError, InvalidOperation):
        out["consistent"] = False
    return out
