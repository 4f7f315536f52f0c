"""Validate: e-invoices through the XML chain, captured invoices through identifier and sum checks."""

from __future__ import annotations

from pipeline.context import Context, versions
from pipeline.records import Document, Event, StageResult
from pipeline.stages.classify import invoice_xml
from pipeline.stages.extract import INVOICES
from validators.chain import validate_fields, validate_xml
from validators.report import Report


def validate(ctx: Context, doc: Document) -> StageResult:
    xml = invoice_xml(ctx, doc)
    if xml is not None:
        report = validate_xml(xml)
    elif doc.doc_type in INVOICES:
        report = validate_fields(doc.fields)
    else:
        report = Report(checked=())  # a supporting document: nothing to check against
    event = Event(
        "validate",
        "validated",
        doc.id,
        tools=versions("lxml", "factur-x", "python-stdnum"),
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
