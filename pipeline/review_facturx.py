"""A Factur-X PDF/A-3 made from the fields an agent confirmed on a paper or plain-PDF invoice.

It is a new object of the document (role ``facturx``, key ``facturx/ID.pdf``), built by
``pipeline.convert`` with the existing builders and validated before it is kept; the original and the
sealed copy are never touched. A conversion that cannot be made is journalled (``convert
facturx-failed``, with why) so the review screen can say so: the confirm itself stands.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from dematflow.errors import DematflowError
from pipeline import journal
from pipeline.context import Services
from pipeline.records import Document, Event, Status
from pipeline.stages.extract import INVOICES

log = logging.getLogger(__name__)

ROLE = "facturx"


@dataclass(frozen=True)
class FacturxNote:
    built: bool
    profile: str | None = None
    error: str | None = None


def refusal(doc: Document) -> str | None:
    """Why no Factur-X can be made from this confirmed document (None: it can)."""
    if doc.einvoice:
        return "c'est déjà une facture électronique : sa Factur-X est l'original"
    if doc.doc_type not in INVOICES:
        return "seules les factures et les avoirs se convertissent en Factur-X"
    if doc.status is not Status.ARCHIVED:
        return "la facture confirmée ne respecte pas toutes les règles bloquantes : pas de Factur-X"
    return None


def build(services: Services, document_id: str, *, actor: str) -> FacturxNote:
    """Make and keep the Factur-X (idempotent: one already made is kept); a failure is journalled."""
    from pipeline import convert  # builders, factur-x and the wrapper load only when asked

    doc = services.catalogue.get(document_id)
    if ROLE in doc.objects:
        return note_of(services.catalogue.engine, doc) or FacturxNote(True)
    why = refusal(doc)
    if why is None:
        try:
            convert.convert(services, doc.id)
            log.info("review: Factur-X of %s made for %s", doc.id, actor)
            return note_of(services.catalogue.engine, services.catalogue.get(doc.id)) or FacturxNote(True)
        except DematflowError as exc:
            why = f"la Factur-X n'a pas pu être produite : {exc.message}"
    services.catalogue.record(
        Event("convert", "facturx-failed", doc.id, detail={"actor": actor, "error": why})
    )
    return FacturxNote(False, error=why)


def note_of(engine: Engine, doc: Document) -> FacturxNote | None:
    """The Factur-X made from the document, or the last failure to make it, or None."""
    note = None
    for entry in journal.entries(engine, document_id=doc.id):
        detail = entry.body.get("detail", {})
        if entry.stage == "convert" and entry.action == "facturx":
            note = FacturxNote(True, profile=detail.get("profile"))
        elif entry.stage == "convert" and entry.action == "facturx-failed":
            note = FacturxNote(False, error=detail.get("error"))
    if note is None and ROLE in doc.objects:
        note = FacturxNote(True)
    return note
