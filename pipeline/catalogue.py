"""The catalogue: documents and their archived objects, saved together with their journal event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, exc, func, select, tuple_

from dematflow.errors import NotFound, StorageUnavailable
from extractors.identifiers import compact, vat_siren
from pipeline import journal, search
from pipeline.db import documents, make_engine, objects
from pipeline.records import BUYER_TENANT, Document, Event, StageResult, Status, utcnow
from storage.base import StoredObject


@dataclass(frozen=True)
class ObjectRow:
    document_id: str
    role: str
    obj: StoredObject


@dataclass(frozen=True)
class Query:
    """What a listing is narrowed to; ``after`` is the (received_at, id) of the last one seen."""

    tenant: str | None = None
    status: Status | None = None
    doc_type: str | None = None
    owner: str | None = None
    received_from: str | None = None
    received_to: str | None = None
    after: tuple[str, str] | None = None


@dataclass(frozen=True)
class Duplicate:
    """An earlier document the platform's uniqueness rule (DOUBLON: same BT-1, seller and year of
    BT-2) or the same-seller-total-date heuristic (DUPLICATE-SUSPECT) matches."""

    document_id: str
    received_at: str
    criterion: str
    rule: str = "DOUBLON"  # "DOUBLON" | "DUPLICATE-SUSPECT"


def seller_key(fields: dict[str, str]) -> str | None:
    """One key per seller: the SIREN (from BT-30 or a French BT-31), else BT-31, else BT-27."""
    legal = "".join(ch for ch in fields.get("BT-30", "") if ch.isdigit())
    if len(legal) in (9, 14):
        return f"siren:{legal[:9]}"
    vat = fields.get("BT-31")
    if vat:
        siren = vat_siren(vat)
        return f"siren:{siren}" if siren else f"vat:{compact(vat)}"
    name = " ".join(fields.get("BT-27", "").lower().split())
    return f"name:{name}" if name else None


class Catalogue:
    """Documents, objects and the journal in one database; every change is journalled atomically."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Catalogue:
        return cls(make_engine(url))

    def create(self, result: StageResult) -> Document:
        """Insert a new document with its first event; if its bytes are known already, return the
        document received first instead (the unique fingerprint settles races between processes)."""
        doc = result.document
        try:
            with self.engine.begin() as conn:
                conn.execute(documents.insert().values(self._row(doc)))
                self._save_objects(conn, doc)
                journal.append(conn, result.event)
            return doc
        except exc.IntegrityError:
            first = self.find_by_sha256(doc.sha256, tenant=doc.tenant)
            if first is None:
                raise
            return first

    def commit(self, result: StageResult, *, after: str) -> journal.Entry | None:
        """Save the document's new state and its event in one transaction, provided the document is
        still at stage ``after`` and not final (compare-and-set); None if another worker got there first."""
        doc = result.document
        with self._begin() as conn:
            changed = conn.execute(
                documents.update()
                .where(
                    documents.c.id == doc.id,
                    documents.c.stage == after,
                    documents.c.status == Status.RECEIVED.value,
                )
                .values(self._row(doc))
            ).rowcount
            if changed != 1:
                return None
            self._save_objects(conn, doc)
            return journal.append(conn, result.event)

    def reopen(self, result: StageResult) -> journal.Entry | None:
        """Put a quarantined document back into the pipeline (``result.document`` is ``received`` at
        the stage it stopped after) with its ``retry`` event, provided it is still quarantined at that
        stage (compare-and-set); None if someone changed it first."""
        doc = result.document
        with self._begin() as conn:
            changed = conn.execute(
                documents.update()
                .where(
                    documents.c.id == doc.id,
                    documents.c.stage == doc.stage,
                    documents.c.status == Status.QUARANTINED.value,
                )
                .values(self._row(doc))
            ).rowcount
            if changed != 1:
                return None
            return journal.append(conn, result.event)

    def amend(self, result: StageResult) -> journal.Entry:
        """Add to a document that reached its final status (a later rendition); the status and
        everything already archived stay as they are."""
        doc = result.document
        with self._begin() as conn:
            conn.execute(documents.update().where(documents.c.id == doc.id).values(self._row(doc)))
            self._save_objects(conn, doc)
            return journal.append(conn, result.event)

    def record(self, ev: Event) -> journal.Entry:
        """Journal an event that changes no document (a duplicate receipt, an anchor)."""
        with self._begin() as conn:
            return journal.append(conn, ev)

    def get(self, document_id: str) -> Document:
        with self.engine.connect() as conn:
            row = conn.execute(select(documents.c.record).where(documents.c.id == document_id)).first()
        if row is None:
            raise NotFound(f"no document {document_id}")
        return Document.from_json(json.loads(row.record))

    def find_by_sha256(self, sha256: str, *, tenant: str = BUYER_TENANT) -> Document | None:
        """The tenant's document with these bytes: another tenant's copy is never found."""
        query = select(documents.c.record).where(documents.c.sha256 == sha256, documents.c.tenant == tenant)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return Document.from_json(json.loads(row.record)) if row else None

    def list(
        self,
        *,
        status: Status | None = None,
        limit: int = 100,
        offset: int = 0,
        query: Query | None = None,
    ) -> list[Document]:
        """Documents in the order received; ``query`` filters and pages by cursor (after an id)."""
        q = query or Query()
        stmt = select(documents.c.record).order_by(documents.c.received_at, documents.c.id)
        if status is not None:
            stmt = stmt.where(documents.c.status == status.value)
        for column, value in (
            (documents.c.tenant, q.tenant),
            (documents.c.status, q.status.value if q.status else None),
            (documents.c.doc_type, q.doc_type),
            (documents.c.owner, q.owner),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if q.received_from:
            stmt = stmt.where(documents.c.received_at >= q.received_from)
        if q.received_to:
            stmt = stmt.where(documents.c.received_at < q.received_to)
        if q.after is not None:
            stmt = stmt.where(tuple_(documents.c.received_at, documents.c.id) > tuple_(*q.after))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.limit(limit).offset(offset)).all()
        return [Document.from_json(json.loads(r.record)) for r in rows]

    def earlier_duplicates(self, doc: Document) -> tuple[Duplicate, ...]:
        """Documents of the same tenant received before ``doc`` from the same seller with the same
        invoice number (BT-1) in the same year of BT-2 (DOUBLON), or else on the same date with the
        same total (BT-112, DUPLICATE-SUSPECT); quarantined and rejected ones, and the documents
        ``doc`` was derived from (``meta["derived_from"]``), do not count."""
        seller, date = seller_key(doc.fields), doc.fields.get("BT-2") or ""
        number, total, year = doc.fields.get("BT-1"), doc.fields.get("BT-112"), date[:4]
        if seller is None or not year.isdigit():
            return ()
        query = select(
            documents.c.id, documents.c.received_at, documents.c.invoice_number, documents.c.total,
            documents.c.issue_date,
        ).where(
            documents.c.tenant == doc.tenant,
            documents.c.seller_key == seller,
            documents.c.issue_date.like(f"{year}%"),
            # a document split or merged at the review desk is not an earlier copy of what it became
            documents.c.id.not_in([doc.id, *filter(None, doc.meta.get("derived_from", "").split(","))]),
            documents.c.received_at <= doc.received_at,
            # a rejected invoice (213) was never accepted: its corrected copy may reuse the number
            documents.c.status.not_in((Status.QUARANTINED.value, Status.REJECTED.value)),
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(documents.c.received_at)).all()
        found = []
        for r in rows:
            if number and r.invoice_number == number:
                found.append(Duplicate(r.id, r.received_at, "same seller, invoice number and year"))
            elif total and r.total == total and r.issue_date == date:
                criterion = "same seller, total and date"
                found.append(Duplicate(r.id, r.received_at, criterion, "DUPLICATE-SUSPECT"))
        return tuple(found)

    def count(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(documents.c.status, func.count()).group_by(documents.c.status)).all()
        return {str(r[0]): int(r[1]) for r in rows}

    def objects(self) -> Iterator[ObjectRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(objects).order_by(objects.c.id)).all()
        for r in rows:
            yield ObjectRow(r.document_id, r.role, StoredObject(r.key, r.sha256, int(r.size)))

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except exc.OperationalError as err:
            raise StorageUnavailable(f"catalogue database unavailable: {err.orig}") from err

    @staticmethod
    def _row(doc: Document) -> dict[str, object]:
        return {
            "id": doc.id,
            "sha256": doc.sha256,
            "tenant": doc.tenant,
            "owner": doc.owner,
            "filename": doc.filename,
            "received_at": doc.received_at,
            "updated_at": utcnow(),
            "status": doc.status.value,
            "stage": doc.stage,
            "doc_type": doc.doc_type.value if doc.doc_type else None,
            "reason": doc.reason,
            "record": json.dumps(doc.to_json(), ensure_ascii=False),
            "seller_key": seller_key(doc.fields),
            "invoice_number": doc.fields.get("BT-1"),
            "issue_date": doc.fields.get("BT-2"),
            "total": doc.fields.get("BT-112"),
        }

    @staticmethod
    def _save_objects(conn: Connection, doc: Document) -> None:
        search.index(conn, doc)  # every save of a document's content passes here: create, commit, amend
        query = select(objects.c.role, objects.c.key).where(objects.c.document_id == doc.id)
        known = {r.role: r.key for r in conn.execute(query)}
        for role, obj in doc.objects.items():
            if role not in known:
                conn.execute(
                    objects.insert().values(
                        document_id=doc.id, role=role, key=obj.key, sha256=obj.sha256, size=obj.size
                    )
                )
            elif known[role] != obj.key:  # a new version took the role (a renewed seal, pipeline/renew.py)
                conn.execute(
                    objects.update()
                    .where(objects.c.document_id == doc.id, objects.c.role == role)
                    .values(key=obj.key, sha256=obj.sha256, size=obj.size)
                )
