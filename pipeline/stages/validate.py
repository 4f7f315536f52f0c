"""Validate: e-invoices through the XML chain, captured invoices through identifier and sum checks,
every invoice against the catalogue for duplicates (the platform's DOUBLON rule), and the signatures
a deposited PDF already carries."""

from __future__ import annotations

import dataclasses
from typing import Any

from extractors.pdfinspect import inspect_pdf
from extractors.sniff import FileKind
from pipeline.context import Context, versions
from pipeline.records import Document, Event, StageResult
from pipeline.stages.classify import invoice_xml
from pipeline.stages.extract import INVOICES
from signing.incoming import SignatureReport, has_signatures, load_trust_roots, read_signatures
from validators.chain import validate_document, validate_fields, validate_xml
from validators.pdfchecks import check_active_content
from validators.report import Finding, Report, Severity
from validators.signatures import CHECK as SIGNATURES
from validators.signatures import signature_findings

DOUBLON = "DOUBLON"  # the platform's uniqueness rule: same BT-1, seller and year of BT-2 (an error)
SUSPECT = "DUPLICATE-SUSPECT"  # same seller, total and date, for captured invoices (a warning)
TOOLS = ("lxml", "factur-x", "saxonche", "python-stdnum")


def validate(ctx: Context, doc: Document) -> StageResult:
    xml = invoice_xml(ctx, doc)
    rules_dir = ctx.settings.rules_dir
    original = ctx.store.get(doc.objects["original"].key) if doc.kind is FileKind.PDF else None
    if xml is not None and original is not None:  # Factur-X: the PDF's own checks too
        report = validate_document(original, rules_dir=rules_dir)
    elif xml is not None:
        report = validate_xml(xml, rules_dir=rules_dir)
    elif doc.doc_type in INVOICES:
        report = validate_fields(doc.fields)
    else:
        report = Report(checked=())  # a supporting document: nothing to check against
    if xml is None and original is not None:  # scripts or launch actions in any kept PDF
        report = dataclasses.replace(
            report,
            checked=(*report.checked, "pdf-active-content"),
            findings=(*report.findings, *check_active_content(inspect_pdf(original))),
        )
    report, signatures = with_signatures(ctx, report, original)
    report, duplicates = with_duplicates(ctx, doc, report, einvoice=xml is not None)
    rule_files: dict[str, str] = report.extra.get("rules", {})
    event = Event(
        "validate",
        "validated",
        doc.id,
        tools=versions(*TOOLS, *(("pyHanko",) if signatures else ())),
        detail={
            "valid": report.valid,
            "checked": list(report.checked),
            "not_checked": list(report.not_checked),
            "rules": sorted({f.rule for f in report.findings}),
            "rule_files": rule_files,
            "duplicates": duplicates,
            **({"signatures": {s.field or "": s.verdict.value for s in signatures}} if signatures else {}),
        },
    )
    updated = doc.evolve(
        findings=report.findings,
        checked=report.checked,
        not_checked=report.not_checked,
        rule_files=rule_files,
        signatures=signatures,
        stage="validate",
    )
    return StageResult(updated, event)


def with_signatures(
    ctx: Context, report: Report, pdf: bytes | None
) -> tuple[Report, tuple[SignatureReport, ...]]:
    """Validate the signatures the deposited PDF already carries (offline; only when it has some, so
    an unsigned invoice pays nothing): a broken, modified or unreadable one is a warning."""
    if pdf is None or not has_signatures(pdf):
        return report, ()
    roots = load_trust_roots(ctx.settings.signature_trust_roots)
    signatures = read_signatures(pdf, trust_roots=roots)
    if not signatures:
        return report, ()
    report = dataclasses.replace(
        report,
        checked=(*report.checked, SIGNATURES),
        findings=(*report.findings, *signature_findings(signatures)),
    )
    return report, signatures


def with_duplicates(
    ctx: Context, doc: Document, report: Report, *, einvoice: bool
) -> tuple[Report, list[dict[str, Any]]]:
    """Add DOUBLON (an error) when an earlier invoice has the same number, seller and year, and for
    captured invoices DUPLICATE-SUSPECT (a warning) for the same seller, total and date. The other
    document is named only in the journal (returned), never in a finding a supplier reads."""
    if ctx.index is None or doc.doc_type not in INVOICES:
        return report, []
    found = [
        d
        for d in ctx.index.earlier_duplicates(doc)
        if d.rule == DOUBLON or (d.rule == SUSPECT and not einvoice)
    ]
    rules = {d.rule for d in found}
    findings = tuple(_finding(rule, doc) for rule in ([DOUBLON] if DOUBLON in rules else sorted(rules)))
    journal = [{"document_id": d.document_id, "rule": d.rule, "criterion": d.criterion} for d in found]
    report = dataclasses.replace(
        report, checked=(*report.checked, "duplicates"), findings=report.findings + findings
    )
    return report, journal


def _finding(rule: str, doc: Document) -> Finding:
    fields = doc.fields
    if rule == DOUBLON:
        message = (
            f"Facture en double : le numéro de facture (BT-1) {fields.get('BT-1')} a déjà été reçu "
            f"de ce vendeur pour l'année {fields.get('BT-2', '')[:4]}"
        )
        return Finding(DOUBLON, Severity.ERROR, message, "BT-1")
    message = (
        f"Doublon possible : une facture du même vendeur, du même montant TTC (BT-112) "
        f"{fields.get('BT-112')} et de la même date (BT-2) {fields.get('BT-2')} a déjà été reçue"
    )
    return Finding(rule, Severity.WARNING, message, "BT-112")
