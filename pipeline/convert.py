"""Paper to Factur-X: an invoice captured from a scan or a plain PDF becomes a Factur-X PDF/A-3,
checked by dematflow's own validator and archived beside (never instead of) the original."""

from __future__ import annotations

from dataclasses import dataclass

from builders.cii import build_cii
from builders.facturx import to_facturx
from dematflow.errors import UnsupportedInput
from extractors.results import Source
from extractors.sniff import FileKind
from pipeline import retention
from pipeline.context import Services
from pipeline.records import Document, Event, StageResult
from pipeline.stages.extract import INVOICES
from signing.wrap import wrap_images_as_pdf
from storage import keys
from validators.chain import validate_document
from validators.report import Report

CAPTURED = (Source.PDF_TEXT, Source.OCR)


@dataclass(frozen=True)
class Conversion:
    pdf: bytes
    profile: str
    report: Report  # dematflow's verdict on the Factur-X it made


def facturx_from(fields: dict[str, str], pdf: bytes) -> Conversion:
    """Build the richest profile the fields allow, embed it, and validate the result.

    The French CTC rules (BR-FR) are not applied: they govern invoices exchanged through a
    Plateforme Agréée, and they ask for terms a paper invoice does not carry (electronic addresses,
    billing mode, legal notes). Every other check runs and must pass; ``checked`` says which ran.
    """
    built = build_cii(fields)
    out = to_facturx(pdf, built)
    report = validate_document(out, french_rules=False)
    if not report.valid:
        rules = ", ".join(sorted({f.rule for f in report.findings})) or ", ".join(report.not_checked)
        raise UnsupportedInput(f"the Factur-X made from the captured fields does not validate ({rules})")
    return Conversion(out, built.profile, report)


def printable_pdf(kind: FileKind | None, original: bytes) -> bytes:
    """The PDF whose pages the Factur-X carries: the original PDF, or a lossless wrap of an image."""
    return original if kind is FileKind.PDF else wrap_images_as_pdf(original)


def convertible(doc: Document) -> bool:
    """A captured (not e-invoice) invoice or credit note that was archived, possibly for review."""
    return (
        doc.source in CAPTURED
        and doc.doc_type in INVOICES
        and doc.status.final
        and (doc.status.value in ("archived", "needs_review"))
    )


def convert(services: Services, document_id: str) -> Document:
    """Add a Factur-X rendition to an archived captured invoice, journalled and linked to it."""
    doc = services.catalogue.get(document_id)
    if not convertible(doc):
        raise UnsupportedInput(f"document {document_id} is not an archived captured invoice")
    if "facturx" in doc.objects:
        return doc
    original = services.store.get(doc.objects["original"].key)
    conversion = facturx_from(doc.fields, printable_pdf(doc.kind, original))
    obj = retention.keep_once(services, doc, keys.facturx(doc.id), lambda: conversion.pdf)
    event = Event(
        "convert",
        "facturx",
        doc.id,
        inputs={"original": doc.sha256},
        outputs={obj.key: obj.sha256},
        detail={"profile": conversion.profile, "checked": list(conversion.report.checked)},
    )
    updated = doc.with_object("facturx", obj)
    services.catalogue.amend(StageResult(updated, event))
    return updated
