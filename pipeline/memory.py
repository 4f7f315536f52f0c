"""Each tenant's supplier memory: layouts learnt from confirmed readings, journalled, portable as JSON.

A lesson is one row per (tenant, supplier) in ``supplier_memory``, replaced field by field when the
same supplier is taught again (its ``version`` counts the lessons). Every lesson and every import is
a journal event written in the same transaction as the row: who taught which fields, from which
document, under which supplier key, and the SHA-256 of the layout kept.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, select

from dematflow.errors import InvalidRequest
from extractors.memory import Layout, Recall, fingerprint, identity_keys, learn, page_keys, recall, similarity
from pipeline import journal
from pipeline.db import supplier_memory
from pipeline.records import Document, Event, utcnow

if TYPE_CHECKING:
    from extractors.results import PageText
    from pipeline.context import Services
    from pipeline.settings import Settings

log = logging.getLogger(__name__)

FORMAT = "dematflow-supplier-memory"
SAME_LAYOUT = 0.5  # fingerprint similarity from which a supplier without identifier is recognised


@dataclass(frozen=True)
class Taught:
    """One lesson as kept: the supplier, its layout's version now, and the fields it covers."""

    tenant: str
    supplier_key: str
    version: int
    fields: tuple[str, ...]
    corrected: tuple[str, ...]


class CatalogueMemory:
    """The read-only look-up the stages get (``Context.memory``): a tenant's layout for these pages."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def layout_for(self, tenant: str, pages: Sequence[PageText]) -> Layout | None:
        """The layout of the supplier whose SIREN, VAT id or IBAN is printed on the pages, else of the
        supplier without identifier whose layout looks most like these pages."""
        keys = page_keys(pages)
        with self.engine.connect() as conn:
            rows = {r.supplier_key: r.layout for r in conn.execute(_rows(tenant, keys))} if keys else {}
            if known := next((k for k in keys if k in rows), None):
                return Layout.from_json(json.loads(rows[known]))
            loose = conn.execute(_rows(tenant).where(supplier_memory.c.supplier_key.like("layout:%"))).all()
        shape = fingerprint(pages)
        scored = [(similarity(shape, (layout := Layout.from_json(json.loads(r.layout))).fingerprint), layout)
                  for r in loose]  # fmt: skip
        best = max(scored, key=lambda s: s[0], default=None)
        return best[1] if best is not None and best[0] >= SAME_LAYOUT else None


def _rows(tenant: str, keys: Sequence[str] | None = None) -> Any:
    query = select(supplier_memory).where(supplier_memory.c.tenant == tenant)
    return query if keys is None else query.where(supplier_memory.c.supplier_key.in_(list(keys)))


def memory_of(settings: Settings) -> CatalogueMemory | None:
    """The memory of the data directory's catalogue; None when there is no catalogue yet (a dry run
    never creates one)."""
    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    return _memory(url)


@functools.cache
def _memory(url: str) -> CatalogueMemory:
    """One engine per catalogue for the dry runs of a process (a benchmark reads thousands)."""
    from pipeline.catalogue import Catalogue

    return CatalogueMemory(Catalogue.open(url).engine)


def recall_for(memory: CatalogueMemory | None, tenant: str, pages: Sequence[PageText]) -> Recall | None:
    """What the tenant's memory reads on the pages, or None when it knows no such supplier."""
    layout = memory.layout_for(tenant, pages) if memory is not None else None
    return Recall(layout.key, layout, recall(layout, pages)) if layout is not None else None


def lesson_of(services: Services, doc: Document, fields: dict[str, str]) -> Layout | None:
    """The layout ``fields`` teach on the document's captured pages; None for an e-invoice (its XML
    says it all) or a document never read."""
    from pipeline.stages.classify import load_capture  # the stages import the context, which imports us

    if doc.einvoice or "capture" not in doc.objects:
        return None
    pages = load_capture(services.store.get(doc.objects["capture"].key)).pages
    layout = learn(pages, fields)
    return layout if layout.lessons else None


def save(conn: Connection, doc: Document, layout: Layout, actor: str) -> Taught:
    """Keep the lesson (inside the caller's transaction) and journal it."""
    old = conn.execute(_rows(doc.tenant, [layout.key])).first()
    kept = _combine(Layout.from_json(json.loads(old.layout)) if old else None, layout)
    version = (old.version + 1) if old else 1
    _write(conn, doc.tenant, kept, actor, doc.id, version, exists=old is not None)
    taught = Taught(doc.tenant, layout.key, version, layout.fields, tuple(sorted(layout.trusted)))
    event = Event(
        "memory",
        "taught",
        doc.id,
        detail={"actor": actor, "tenant": doc.tenant, "supplier_key": layout.key, "version": version,
                "fields": list(taught.fields), "corrected": list(taught.corrected),
                "layout_sha256": _digest(kept)},
    )  # fmt: skip
    journal.append(conn, event)
    log.info("memory: %s taught %s from %s (%d field(s))", actor, layout.key, doc.id, len(taught.fields))
    return taught


def teach(services: Services, document_id: str, fields: dict[str, str], actor: str) -> Taught | None:
    """Learn the supplier's layout from the confirmed ``fields`` of a captured document."""
    doc = services.catalogue.get(document_id)
    layout = lesson_of(services, doc, fields)
    if layout is None:
        return None
    with services.catalogue.engine.begin() as conn:
        return save(conn, doc, layout, actor)


def _combine(old: Layout | None, new: Layout) -> Layout:
    """The new lessons, and the old ones of fields the new reading did not find."""
    if old is None:
        return new
    taught = set(new.fields)
    return Layout(
        new.key, (*new.lessons, *(x for x in old.lessons if x.field not in taught)), new.fingerprint
    )


def _digest(layout: Layout) -> str:
    return hashlib.sha256(journal.canonical(layout.to_json()).encode()).hexdigest()


def _write(
    conn: Connection, tenant: str, layout: Layout, actor: str, doc: str | None, version: int, *, exists: bool
) -> None:
    values = {"layout": json.dumps(layout.to_json(), ensure_ascii=False), "taught_by": actor,
              "document_id": doc, "updated_at": utcnow(), "version": version}  # fmt: skip
    table = supplier_memory.c
    if exists:
        where = (table.tenant == tenant) & (table.supplier_key == layout.key)
        conn.execute(supplier_memory.update().where(where).values(values))
    else:
        conn.execute(supplier_memory.insert().values(tenant=tenant, supplier_key=layout.key, **values))


def about(
    engine: Engine, tenant: str, fields: dict[str, str], *, document_id: str | None = None
) -> dict[str, Any] | None:
    """What the tenant's memory knows of the supplier these fields name, or that ``document_id``
    taught last (for the review desk and `dematflow learn`)."""
    keys = identity_keys(fields)
    with engine.connect() as conn:
        rows = {r.supplier_key: r for r in conn.execute(_rows(tenant, keys))} if keys else {}
        row = next((rows[k] for k in keys if k in rows), None)
        if row is None and document_id is not None:
            row = conn.execute(_rows(tenant).where(supplier_memory.c.document_id == document_id)).first()
    if row is None:
        return None
    layout = Layout.from_json(json.loads(row.layout))
    return {"supplier_key": row.supplier_key, "fields": list(layout.fields), "taught_by": row.taught_by,
            "updated_at": row.updated_at, "document_id": row.document_id, "version": row.version}  # fmt: skip


def export_memory(engine: Engine, tenant: str) -> dict[str, Any]:
    """Everything the tenant's memory knows, as JSON another site can import."""
    with engine.connect() as conn:
        rows = conn.execute(_rows(tenant).order_by(supplier_memory.c.supplier_key)).all()
    suppliers = [{"supplier_key": r.supplier_key, "layout": json.loads(r.layout), "taught_by": r.taught_by,
                  "document_id": r.document_id, "updated_at": r.updated_at, "version": r.version}
                 for r in rows]  # fmt: skip
    return {"format": FORMAT, "version": 1, "tenant": tenant, "exported_at": utcnow(), "suppliers": suppliers}


def import_memory(engine: Engine, data: dict[str, Any], *, tenant: str, actor: str) -> int:
    """Add an exported memory to ``tenant``'s (a supplier known here is replaced field by field);
    one journal event names what came in. Returns the number of suppliers imported."""
    suppliers = data.get("suppliers") if isinstance(data, dict) else None
    if not isinstance(suppliers, list) or data.get("format") != FORMAT:
        raise InvalidRequest("ce fichier n'est pas un export de la mémoire des fournisseurs de dematflow")
    try:
        layouts = [Layout.from_json({**s["layout"], "key": s["supplier_key"]}) for s in suppliers]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidRequest(f"export de la mémoire illisible : {exc}") from None
    with engine.begin() as conn:
        for layout in layouts:
            old = conn.execute(_rows(tenant, [layout.key])).first()
            kept = _combine(Layout.from_json(json.loads(old.layout)) if old else None, layout)
            version = (old.version + 1) if old else 1
            _write(conn, tenant, kept, f"import:{actor}", None, version, exists=old is not None)
        detail = {"actor": actor, "tenant": tenant, "from_tenant": data.get("tenant"),
                  "suppliers": [layout.key for layout in layouts]}  # fmt: skip
        journal.append(conn, Event("memory", "imported", None, detail=detail))
    return len(layouts)
