"""Validate: e-invoices through the XML chain, captured invoices through identifier and sum checks,
and every invoice against the catalogue for duplicates."""

from __future__ import annotations

import dataclasses

from extractors.pdfinspect import inspect_pdf
from extractors.sniff import FileKind
from pipeline.context import Context, versions
from pipeline.records import Document, Event, StageResult
from pipeline.stages.classify import invoice_xml
from pipeline.stages.extract import INVOICES
from validators.chain import validate_document, validate_fields, validate_xml
from validators.pdfchecks import check_active_content
from validators.report import Finding, Report, Severity


def validate(ctx: Context, doc: Document) -> StageResult:
    xml = invoice_xml(ctx, doc)
    if xml is not None and doc.kind is FileKind.PDF:  # Factur-X: the PDF's own checks too
        report = validate_document(ctx.store.get(doc.objects["original"].key))
    elif xml is not None:
        report = validate_xml(xml)
    elif doc.doc_type in INVOICES:
        report = validate_fields(doc.fields)
    else:
        report = Report(checked=())  # a supporting document: nothing to check against
    if xml is None and doc.kind is FileKind.PDF:  # scripts or launch actions in any kept PDF
        original = ctx.store.get(doc.objects["original"].key)
        report = dataclasses.replace(
            report,
            checked=(*report.checked, "pdf-active-content"),
            findings=(*report.findings, *check_active_content(inspect_pdf(original))),
        )
    report = with_duplicates(ctx, doc, report)
    event = Event(
        "validate",
        "validated",
        doc.id,
        tools=versions("lxml", "factur-x", "saxonche", "python-stdnum"),
        detail={
            "valid": report.valid,
            "checked": list(report.checked),
            "not_checked": list(report.not_checked),
            "rules": sorted({f.rule for f in report.findings}),
        },
    )
    updated = doc.evolve(
        findings=report.findings,
        checked=report.checked,
        not_checked=report.not_checked,
        stage="validate",
    )
    return StageResult(updated, event)


def with_duplicates(ctx: Context, doc: Document, report: Report) -> Report:
    """Add a DUPLICATE finding per earlier invoice with the same seller, number (or total) and date."""
    if ctx.index is None or doc.doc_type not in INVOICES:
        return report
    found = tuple(
        Finding(
            "DUPLICATE",
            Severity.ERROR,
            f"{d.criterion} as document {d.document_id} received {d.received_at[:10]}",
        )
        for d in ctx.index.earlier_duplicates(doc)
    )
    return dataclasses.replace(
        report, checked=(*report.checked, "duplicates"), findings=report.findings + found
    )
