"""Legal holds, what reaches the end of its retention, and deletion after it (two admins, a tombstone).

Every step is a journal event naming who asked and why. A deletion is asked by one admin and approved
by another; it is refused under a legal hold or before the retain-until date, here first (in French,
for the person asking) and, on S3 with Object Lock, by the server behind us.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select

from dematflow.errors import Forbidden, InvalidRequest
from pipeline import accounts, journal, retention
from pipeline.catalogue import Query
from pipeline.context import Services
from pipeline.db import documents, objects
from pipeline.records import Document, Event
from storage.base import StoredObject, check_deletable

STAGE = "retention"
REQUESTED, DELETED = "delete-requested", "deleted"


@dataclass(frozen=True)
class Expiry:
    document_id: str
    doc_type: str | None
    retain_until: str  # the latest retain-until of the document's objects
    filename: str


@dataclass(frozen=True)
class Tombstone:
    document_id: str
    deleted: dict[str, str]  # key -> sha256
    kept: tuple[str, ...]  # keys another document still uses (the same bytes from another tenant)
    requested_by: str
    approved_by: str


def admin(services: Services, name: str) -> str:
    """The name of an active admin account, or Forbidden."""
    account = accounts.find(services.catalogue.engine, name)
    if account.role is not accounts.Role.ADMIN or not account.active:
        raise Forbidden(f"{name} n'est pas un compte administrateur actif")
    return account.name


def set_hold(services: Services, document_id: str, *, on: bool, by: str, reason: str) -> list[StoredObject]:
    """Set (or lift) a legal hold on every object of a document. A hold is set before it is journalled
    and lifted after, so that a failure never leaves an object unprotected without a trace."""
    who = admin(services, by)
    doc = services.catalogue.get(document_id)
    event = Event(
        STAGE,
        "legal-hold" if on else "legal-hold-released",
        doc.id,
        detail={"by": who, "reason": reason, "keys": sorted(o.key for o in doc.objects.values())},
    )
    if not on:
        services.catalogue.record(event)
    changed = [services.store.set_legal_hold(o.key, on) for o in doc.objects.values()]
    if on:
        services.catalogue.record(event)
    return changed


def retained_until(services: Services, doc: Document) -> datetime:
    """The latest retain-until date recorded for the document's objects (the class's rule for an
    object recorded without one, by an earlier version); the store's own dates decide a deletion."""
    rule = retention.for_document(services.settings.retention, doc)
    dates = [datetime.fromisoformat(o.retain_until) if o.retain_until else rule for o in doc.objects.values()]
    return max(dates, default=rule)


def expiring(services: Services, before: datetime) -> Iterator[Expiry]:
    """Documents whose every object's retention ends before ``before`` (oldest received first)."""
    after: tuple[str, str] | None = None
    while page := services.catalogue.list(limit=500, query=Query(after=after)):
        for doc in page:
            end = retained_until(services, doc)
            if doc.objects and end <= before:
                kind = doc.doc_type.value if doc.doc_type else None
                yield Expiry(doc.id, kind, end.isoformat(timespec="seconds"), doc.filename)
        after = (page[-1].received_at, page[-1].id)


def _deletable(services: Services, doc: Document) -> list[StoredObject]:
    """The document's objects as the store knows them now; refused if any is held or retained."""
    if not doc.objects:
        raise InvalidRequest(f"le document {doc.id} n'a plus d'objet archivé : déjà supprimé")
    found = [services.store.stat(o.key) for o in doc.objects.values()]
    now = datetime.now(UTC)
    for obj in found:
        check_deletable(obj, now)
    return found


def request_deletion(services: Services, document_id: str, *, by: str, reason: str = "") -> journal.Entry:
    """First admin: ask for the deletion of a document whose retention is over."""
    who = admin(services, by)
    doc = services.catalogue.get(document_id)
    _deletable(services, doc)
    detail = {"by": who, "reason": reason}
    return services.catalogue.record(Event(STAGE, REQUESTED, doc.id, detail=detail))


def _pending(services: Services, document_id: str) -> journal.Entry | None:
    pending = None
    for entry in journal.entries(services.catalogue.engine, document_id=document_id):
        if entry.stage == STAGE and entry.action in (REQUESTED, DELETED):
            pending = entry if entry.action == REQUESTED else None
    return pending


def approve_deletion(services: Services, document_id: str, *, by: str) -> Tombstone:
    """Second admin: delete the document's objects, leaving a tombstone (what, when, who, hash) in
    the journal. The tombstone is committed before the objects go: a failure half-way leaves objects
    that a second approval removes, never a deletion without a trace."""
    who = admin(services, by)
    doc = services.catalogue.get(document_id)
    request = _pending(services, doc.id)
    if request is None:
        raise InvalidRequest(f"aucune demande de suppression en attente pour le document {doc.id}")
    asked_by = str(request.body["detail"]["by"])
    if asked_by == who:
        raise Forbidden(f"la suppression demandée par {who} doit être approuvée par un autre administrateur")
    found = _deletable(services, doc)
    shared = _shared_keys(services, doc)
    gone = {o.key: o.sha256 for o in found if o.key not in shared}
    detail = {
        "requested_by": asked_by,
        "requested_at": request.at,
        "approved_by": who,
        "sha256": doc.sha256,
        "filename": doc.filename,
        "doc_type": doc.doc_type.value if doc.doc_type else None,
        "deleted": gone,
        "kept_shared": sorted(shared),
        "retain_until": {o.key: o.retain_until for o in found},
    }
    event = Event(STAGE, DELETED, doc.id, inputs=dict(gone), detail=detail)
    with services.catalogue.engine.begin() as conn:
        journal.append(conn, event)
        conn.execute(delete(objects).where(objects.c.document_id == doc.id))
        record = json.dumps(doc.evolve(objects={}).to_json(), ensure_ascii=False)
        conn.execute(documents.update().where(documents.c.id == doc.id).values(record=record))
    for key in gone:
        services.store.delete(key)
    return Tombstone(doc.id, gone, tuple(sorted(shared)), asked_by, who)


def _shared_keys(services: Services, doc: Document) -> set[str]:
    """Keys of this document that another document also lists (an original received by two tenants)."""
    mine = [o.key for o in doc.objects.values()]
    query = select(objects.c.key).where(objects.c.key.in_(mine), objects.c.document_id != doc.id)
    with services.catalogue.engine.connect() as conn:
        return {str(r.key) for r in conn.execute(query)}
