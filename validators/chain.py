"""The validation chain: find the invoice XML, read it, then XSD, identifier and sum checks."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dematflow.errors import CorruptInput, EmptyInput, ToolUnavailable, UnsupportedInput
from extractors.einvoice import invoice_from_tree
from extractors.facturx import find_embedded_xml, xmp_profile
from extractors.safexml import read_xml
from validators.business import check_arithmetic, check_identifiers
from validators.report import Finding, Report, Severity
from validators.xsd import check_xsd_tree

log = logging.getLogger(__name__)

# Checks that belong to a full validation but are not implemented yet; they do not block `valid`.
PENDING = ("schematron:en16931",)


def validate_document(data: bytes) -> Report:
    """Validate a Factur-X/ZUGFeRD PDF or a CII/UBL XML; UnsupportedInput for anything else."""
    if not data:
        raise EmptyInput("empty document")
    if _is_pdf(data):
        return _validate_pdf(data)
    if _is_xml(data):
        return validate_xml(data)
    raise UnsupportedInput("not an e-invoice: neither a PDF nor an XML document")


def validate_xml(xml: bytes) -> Report:
    """Validate an invoice XML: read → XSD → identifiers → arithmetic."""
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
    findings += check_identifiers(fields)
    # MINIMUM carries no prepaid amount (BT-113), so BT-115 cannot be tied to BT-112 there.
    skip = ("BR-CO-16",) if invoice.profile == "MINIMUM" else ()
    findings += check_arithmetic(fields, invoice.line_net_amounts, skip=skip)
    checked += ["identifiers", "arithmetic"]
    extra: dict[str, Any] = {
        "pending": list(PENDING),
        "guideline_id": invoice.guideline_id,
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


def validate_fields(fields: Mapping[str, str]) -> Report:
    """Validate fields captured from a paper or plain-PDF invoice (OCR or text layer, no XML)."""
    findings = check_identifiers(fields) + check_arithmetic(fields)
    return Report(checked=("identifiers", "arithmetic"), findings=tuple(findings))


def _validate_pdf(pdf: bytes) -> Report:
    embedded = find_embedded_xml(pdf)
    level = xmp_profile(pdf)
    if embedded is None:
        if level is not None:
            raise CorruptInput(
                f"the PDF declares the e-invoice profile {level!r} in its XMP metadata "
                "but no readable invoice XML is attached"
            )
        raise UnsupportedInput("not an e-invoice: PDF without an embedded invoice XML")
    report = validate_xml(embedded.xml)
    report.extra["embedded_filename"] = embedded.filename
    report.extra["xmp_profile"] = level
    return report


def _is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def _is_xml(data: bytes) -> bool:
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<") or head[:2] in (b"\xff\xfe", b"\xfe\xff")
