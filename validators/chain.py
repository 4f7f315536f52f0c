"""The validation chain: find the invoice XML, read it, then XSD, schematrons, identifier and sum checks."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from lxml import etree

from dematflow.errors import CorruptInput, EmptyInput, ToolFailed, ToolUnavailable, UnsupportedInput
from extractors.einvoice import EInvoice, invoice_from_tree, is_zugferd1
from extractors.facturx import find_embedded_xml
from extractors.pdfinspect import inspect_pdf
from extractors.safexml import read_xml
from validators.business import check_arithmetic, check_identifiers
from validators.pdfchecks import check_facturx_pdf
from validators.report import Finding, Report, Severity
from validators.schematron import run_schematron_tree, schematrons_for
from validators.xsd import check_xsd_tree

log = logging.getLogger(__name__)


def validate_document(data: bytes, *, french_rules: bool | None = None) -> Report:
    """Validate a Factur-X/ZUGFeRD PDF or a CII/UBL XML; UnsupportedInput for anything else."""
    if not data:
        raise EmptyInput("empty document")
    if _is_pdf(data):
        return _validate_pdf(data, french_rules=french_rules)
    if _is_xml(data):
        return validate_xml(data, french_rules=french_rules)
    raise UnsupportedInput("not an e-invoice: neither a PDF nor an XML document")


def validate_xml(xml: bytes, *, french_rules: bool | None = None) -> Report:
    """Validate an invoice XML: read → XSD → schematrons → identifiers → arithmetic.

    ``french_rules``: run the French CTC rules (BR-FR); None = when the seller (BT-40) or the buyer
    (BT-55) is French, False = never, True = always.
    """
    doc = read_xml(xml)
    invoice = invoice_from_tree(doc.root)
    fields = invoice.fields.values
    findings: list[Finding] = [Finding("XML-DECL", Severity.ERROR, note, "line 1") for note in doc.repairs]
    checked: list[str] = []
    not_checked: list[str] = []
    try:
        findings += check_xsd_tree(
            doc.root, syntax=invoice.syntax, flavor=invoice.flavor, profile=invoice.profile
        )
        checked.append("xsd")
    except ToolUnavailable as exc:
        log.warning("XSD not checked: %s", exc.message)
        not_checked.append("xsd")
    # Run even after fatal XSD errors: a supplier fixes more in one round with the rule findings too.
    french = _is_french(fields) if french_rules is None else french_rules
    findings += _run_schematrons(doc.root, invoice, french=french, checked=checked, not_checked=not_checked)
    findings += check_identifiers(fields)
    # MINIMUM carries no prepaid amount (BT-113), so BT-115 cannot be tied to BT-112 there.
    skip = ("BR-CO-16",) if invoice.profile == "MINIMUM" else ()
    findings += check_arithmetic(fields, invoice.line_net_amounts, skip=skip)
    checked += ["identifiers", "arithmetic"]
    extra: dict[str, Any] = {
        "guideline_id": invoice.guideline_id,
        "french_rules": french,
        "fields": dict(fields),
    }
    log.info(
        "validated %s/%s invoice %s: %d finding(s)",
        invoice.syntax,
        invoice.profile,
        fields.get("BT-1"),
        len(findings),
    )
    return Report(
        checked=tuple(checked),
        findings=tuple(findings),
        not_checked=tuple(not_checked),
        syntax=invoice.syntax,
        flavor=invoice.flavor,
        profile=invoice.profile,
        extra=extra,
    )


def _run_schematrons(
    root: etree._Element, invoice: EInvoice, *, french: bool, checked: list[str], not_checked: list[str]
) -> list[Finding]:
    """Every schematron that applies; one that cannot run goes to ``not_checked`` (fail closed)."""
    findings: list[Finding] = []
    for sch in schematrons_for(
        syntax=invoice.syntax,
        flavor=invoice.flavor,
        profile=invoice.profile,
        french=french,
        zugferd1=is_zugferd1(root),
    ):
        try:
            findings += run_schematron_tree(root, sch)
            checked.append(sch.name)
        except (ToolUnavailable, ToolFailed) as exc:
            log.warning("%s not checked: %s", sch.name, exc.message)
            not_checked.append(sch.name)
    return findings


def _is_french(fields: Mapping[str, str]) -> bool:
    return any(fields.get(term, "").strip().upper() == "FR" for term in ("BT-40", "BT-55"))


def validate_fields(fields: Mapping[str, str]) -> Report:
    """Validate fields captured from a paper or plain-PDF invoice (OCR or text layer, no XML)."""
    findings = check_identifiers(fields) + check_arithmetic(fields)
    return Report(checked=("identifiers", "arithmetic"), findings=tuple(findings))


def _validate_pdf(pdf: bytes, *, french_rules: bool | None) -> Report:
    facts = inspect_pdf(pdf)  # read-only; nothing in the PDF is run or fetched
    embedded = find_embedded_xml(pdf)
    level = facts.xmp_fx_level
    if embedded is None:
        if level is not None:
            raise CorruptInput(
                f"the PDF declares the e-invoice profile {level!r} in its XMP metadata "
                "but no readable invoice XML is attached"
            )
        raise UnsupportedInput("not an e-invoice: PDF without an embedded invoice XML")
    report = validate_xml(embedded.xml, french_rules=french_rules)
    pdf_findings, pdf_checks = check_facturx_pdf(
        facts, xml_filename=embedded.filename, xml_profile=report.profile
    )
    extra = {**report.extra, "embedded_filename": embedded.filename, "xmp_profile": level}
    return dataclasses.replace(
        report,
        checked=(*report.checked, *pdf_checks),
        findings=(*report.findings, *pdf_findings),
        extra=extra,
    )


def _is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def _is_xml(data: bytes) -> bool:
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<") or head[:2] in (b"\xff\xfe", b"\xfe\xff")
