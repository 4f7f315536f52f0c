"""Recompute each catalogue row from the journal and name what differs (the catalogue is only a cache:
the journal, chained and sealed day by day, is the record).

What the journal says of a document: ``ingest/received`` its bytes, name, tenant and depositor;
``classify`` its class; ``*/quarantined``, ``*/retry``, ``archive/archived`` and ``ingest/separated``
(a separated batch) its status and reason;
any event whose detail carries ``fields_sha256`` (the archive stage, a review) its fields, and a
``review`` event with a ``status`` in its detail a decision of the review desk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, select

from dematflow.errors import NotFound
from pipeline import journal
from pipeline.context import Services
from pipeline.db import documents
from pipeline.db import journal as journal_table
from storage import keys
from storage.base import sha256_hex

Report = Callable[[str, str], None]
BATCH = 500
UNCHECKED = "\x00unchecked"  # a reason the journal does not carry word for word


def fields_digest(fields: Mapping[str, str]) -> str:
    """The SHA-256 the journal keeps of a document's fields (canonical JSON)."""
    return sha256_hex(journal.canonical(dict(fields)).encode())


@dataclass
class Expected:
    """A document as its journal events describe it."""

    sha256: str = ""
    filename: str = ""
    tenant: str = ""
    owner: str | None = None
    status: str = "received"
    reason: str | None = None  # UNCHECKED: not compared
    doc_type: str | None = None
    fields_sha256: str | None = None
    data_key: str | None = None  # the last archived data version (fields in full)
    outputs: dict[str, str] = field(default_factory=dict)  # key -> sha256


def replay(entries: Iterable[journal.Entry]) -> Expected | None:
    """None when the journal never received the document."""
    exp: Expected | None = None
    for e in entries:
        detail = _dict(e.body.get("detail"))
        outputs = _dict(e.body.get("outputs"))
        if (e.stage, e.action) == ("ingest", "received"):
            digest = str(next(iter(outputs.values()), ""))
            exp = Expected(digest, detail.get("filename", ""), detail.get("tenant", ""))
            exp.owner = detail.get("account")
        if exp is None:
            continue
        exp.outputs.update(outputs)
        data_key = next((k for k in outputs if _is_data(k)), None)
        if data_key is not None:  # a new data version: its fields are the reference from now on
            exp.data_key, exp.fields_sha256 = data_key, None
        if (e.stage, e.action) == ("classify", "classified"):
            exp.doc_type = detail.get("doc_type")
        elif e.action == "quarantined":
            exp.status, exp.reason = "quarantined", detail.get("reason")
        elif e.action == "retry":
            exp.status, exp.reason = "received", None
        elif (e.stage, e.action) == ("archive", "archived"):
            exp.status, exp.reason = str(detail.get("status")), detail.get("reason")
        elif (e.stage, e.action) == ("ingest", "separated"):  # a batch closed once made into documents
            exp.status, exp.reason = str(_dict(detail.get("status")).get("after")), detail.get("reason")
        elif e.stage == "review":
            _review(exp, detail)
        if "fields_sha256" in detail:
            exp.fields_sha256 = detail["fields_sha256"]
    return exp


def _review(exp: Expected, detail: dict[str, Any]) -> None:
    """A review desk decision: its status is journalled (``status.after`` or ``after.status``); the
    reason it leaves is worded from the decision, so it is not compared."""
    status, after = _dict(detail.get("status")), _dict(detail.get("after"))
    new = status.get("after") or after.get("status")
    if new:
        exp.status, exp.reason = str(new), UNCHECKED


def check_catalogue(services: Services, report: Report) -> int:
    """Compare every catalogue row with its replayed journal; name documents erased from it."""
    engine, count = services.catalogue.engine, 0
    for row in _rows(services):
        count += 1
        exp = replay(journal.entries(engine, document_id=row.id))
        where = f"document {row.id}"
        if exp is None:
            report(where, "catalogued but never received in the journal")
            continue
        for what in differences(services, row, exp):
            report(where, what)
    received = (
        select(journal_table.c.document_id)
        .distinct()
        .where(
            journal_table.c.stage == "ingest",
            journal_table.c.action == "received",
            journal_table.c.document_id.not_in(select(documents.c.id)),
        )
    )
    with engine.connect() as conn:
        for erased in sorted(str(r[0]) for r in conn.execute(received)):
            report(f"document {erased}", "received in the journal but erased from the catalogue")
    return count


def differences(services: Services, row: Row[Any], exp: Expected) -> Iterator[str]:
    try:
        record = json.loads(row.record)
    except ValueError:
        yield "the catalogue's record is unreadable"
        return
    fields = record.get("fields") or {}
    for name, column, in_record, journalled in (
        ("status", row.status, record.get("status"), exp.status),
        ("reason", row.reason, record.get("reason"), exp.reason),
        ("doc_type", row.doc_type, record.get("doc_type"), exp.doc_type),
        ("sha256", row.sha256, record.get("sha256"), exp.sha256),
        ("filename", row.filename, record.get("filename"), exp.filename),
        ("tenant", row.tenant, record.get("tenant"), exp.tenant),
        ("owner", row.owner, record.get("owner"), exp.owner),
    ):
        if journalled == UNCHECKED:
            continue
        if column != journalled or in_record != journalled:
            shown = column if column != journalled else in_record
            yield f"{name} is {shown!r} in the catalogue but {journalled!r} in the journal"
    for bt, column in (("BT-1", row.invoice_number), ("BT-2", row.issue_date), ("BT-112", row.total)):
        if column != fields.get(bt):
            yield f"{bt} is {column!r} in the catalogue's index but {fields.get(bt)!r} in its record"
    if exp.fields_sha256 is not None and fields_digest(fields) != exp.fields_sha256:
        changed = _changed_fields(services, exp, fields)
        yield f"fields differ from those journalled: {changed}"
    elif exp.fields_sha256 is None and exp.data_key is not None:  # archived before fields_sha256
        changed = _changed_fields(services, exp, fields)
        if changed:
            yield f"fields differ from the archived data: {changed}"
    for role, obj in (record.get("objects") or {}).items():
        if exp.outputs.get(obj.get("key")) != obj.get("sha256"):
            yield f"its {role} object ({obj.get('key')}) is not the one journalled"


def _changed_fields(services: Services, exp: Expected, fields: Mapping[str, str]) -> str:
    """Which fields differ from the last archived data version (hash-checked against the journal)."""
    if exp.data_key is None:
        return "(no archived data to compare with)"
    try:
        data = services.store.get(exp.data_key)
    except NotFound:
        return "(the archived data is missing)"
    if sha256_hex(data) != exp.outputs.get(exp.data_key):
        return "(the archived data was altered too)"
    archived = json.loads(data).get("fields", {})
    names = sorted(k for k in set(archived) | set(fields) if archived.get(k) != fields.get(k))
    return ", ".join(f"{k} {fields.get(k)!r} instead of {archived.get(k)!r}" for k in names)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_data(key: str) -> bool:
    try:
        return keys.role_of(key) is keys.Role.DATA
    except ValueError:
        return False


def _rows(services: Services) -> Iterator[Row[Any]]:
    last = ""
    while True:
        query = select(documents).where(documents.c.id > last).order_by(documents.c.id).limit(BATCH)
        with services.catalogue.engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        yield from rows
        last = str(rows[-1].id)
