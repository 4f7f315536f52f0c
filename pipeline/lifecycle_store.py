"""Lifecycle persistence: the CDAR of a status built from the document, and the one transaction that
archives it (lifecycle row + object row + journal event)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Connection, exc, select

from builders.cdar import Party, StatusMessage, build_cdar
from dematflow.errors import InvalidTransition, StorageUnavailable
from pipeline import journal, retention
from pipeline.catalogue import seller_key
from pipeline.context import Services, versions
from pipeline.db import documents, lifecycle, objects
from pipeline.lifecycle_codes import CDAR_LABELS, LABELS, Code, Side, side_of
from pipeline.records import Document, Event
from storage import keys
from storage.base import StoredObject
from validators.report import BLOCKING, Report

MAX_FINDINGS = 20  # in the journal detail; the CDAR itself is archived


def key_of(document_id: str, seq: int, code: int) -> str:
    return keys.lifecycle(document_id, seq, code)


def seller_siren(doc: Document) -> str | None:
    found = seller_key(doc.fields)
    return found.removeprefix("siren:") if found and found.startswith("siren:") else None


def build(
    services: Services,
    doc: Document,
    seq: int,
    status: Code,
    reason: str | None,
    text: str | None,
    amount: Decimal | None,
    vat_rate: Decimal | None,
    at: str,
) -> bytes:
    """The CDAR dematflow sends for ``status``: as the platform (200, 213, 501), for the buyer
    organisation of the settings (204-211), or relaying the supplier's own (209, 212)."""
    settings = services.settings
    siren = seller_siren(doc)
    seller = Party("SE", siren=siren, name=doc.fields.get("BT-27"), address=siren or doc.owner or doc.tenant)
    buyer = Party(
        "BY", siren=settings.org_siren, name=settings.org_name, address=settings.org_siren or doc.tenant
    )
    platform = Party("WK")
    side = side_of(status)
    issuer = {Side.PLATFORM: platform, Side.BUYER: buyer, Side.SUPPLIER: seller}[side]
    recipient = buyer if side is Side.SUPPLIER else seller
    when = datetime.fromisoformat(at)
    # a file name may hold control characters (terminal escapes) that XML cannot carry
    number = doc.fields.get("BT-1") or "".join(ch if ch.isprintable() else "_" for ch in doc.filename)
    credit_note = doc.doc_type is not None and doc.doc_type.value == "credit_note"
    invoice_type = doc.fields.get("BT-3") or ("381" if credit_note else "380")
    issue_date = _date(doc.fields.get("BT-2"))
    stamp = when.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    suffix = f"#{invoice_type}_{issue_date:%Y%m%d}" if issue_date else ""
    msg = StatusMessage(
        message_id=f"{number}_{int(status)}_{stamp}_{seq:03d}{suffix}",
        name=f"{number}-CDV-{int(status)}_{LABELS[status].replace(' ', '_')}",
        issued_at=when,
        status_at=when,
        sender=platform,
        issuer=Party(issuer.role, issuer.siren, issuer.name),  # an issuer carries no address
        recipients=(recipient,),
        invoice_id=number,
        code=int(status),
        label=CDAR_LABELS.get(status, LABELS[status]),
        invoice_date=issue_date,
        invoice_type=None if status is Code.IRRECEVABLE and "BT-1" not in doc.fields else invoice_type,
        received_at=datetime.fromisoformat(doc.received_at),
        seller_siren=siren,
        reason_code=reason,
        reason=text,
        amount=amount,
        vat_rate=vat_rate,
        currency=doc.fields.get("BT-5") or "EUR",
    )
    return build_cdar(msg)


def save(
    services: Services,
    doc: Document,
    seq: int,
    status: Code,
    reason: str | None,
    text: str | None,
    actor: str,
    at: str,
    data: bytes,
    report: Report,
    *,
    incoming: bool,
    also: Sequence[Event] = (),
) -> StoredObject:
    """Archive the CDAR, then in one transaction the lifecycle row, the object row, the document's
    record (so the object is listed with the others), the journal event and ``also`` (the events the
    status comes with, such as a supplier's answer: all of them are written, or none)."""
    obj = retention.keep(services, doc, key_of(doc.id, seq, int(status)), data)
    role = f"lifecycle-{seq:03d}"
    blocking = [f for f in report.findings if f.severity in BLOCKING]
    detail = {
        "code": int(status),
        "label": LABELS[status],
        "reason": reason,
        "message": text,
        "actor": actor,
        "seq": seq,
        "incoming": incoming,
        "validated": report.valid,
        "checked": list(report.checked),
        "not_checked": list(report.not_checked),
        "findings": [f"{f.rule}: {f.message}" for f in blocking[:MAX_FINDINGS]],
        "rules": report.extra.get("artefacts", {}),  # sha256 of the XSD set and the XSLT used
    }
    if not report.valid:
        detail["why_not_validated"] = (
            "blocking findings" if blocking else f"could not run: {', '.join(report.not_checked)}"
        )
    event = Event(
        "lifecycle",
        "status",
        doc.id,
        outputs={obj.key: obj.sha256},
        tools=versions("lxml", "saxonche"),
        detail=detail,
    )
    row = {
        "document_id": doc.id,
        "seq": seq,
        "code": int(status),
        "reason": reason,
        "message": text,
        "actor": actor,
        "at": at,
        "key": obj.key,
        "sha256": obj.sha256,
    }
    try:
        with _begin(services) as conn:
            conn.execute(lifecycle.insert().values(**row))
            conn.execute(
                objects.insert().values(
                    document_id=doc.id, role=role, key=obj.key, sha256=obj.sha256, size=obj.size
                )
            )
            _list_object(conn, doc.id, role, obj)
            journal.append(conn, event)
            for more in also:
                journal.append(conn, more)
    except exc.IntegrityError as err:
        raise InvalidTransition(
            f"un autre statut du document {doc.id} vient d'être enregistré : relisez son cycle de vie"
        ) from err
    return obj


def _list_object(conn: Connection, document_id: str, role: str, obj: StoredObject) -> None:
    query = select(documents.c.record).where(documents.c.id == document_id).with_for_update()
    current = Document.from_json(json.loads(conn.execute(query).one().record))
    record = json.dumps(current.with_object(role, obj).to_json(), ensure_ascii=False)
    conn.execute(documents.update().where(documents.c.id == document_id).values(record=record))


@contextmanager
def _begin(services: Services) -> Iterator[Connection]:
    try:
        with services.catalogue.engine.begin() as conn:
            yield conn
    except exc.OperationalError as err:
        raise StorageUnavailable(f"catalogue database unavailable: {err.orig}") from err


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
