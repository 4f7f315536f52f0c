"""The validation chain: find the invoice XML, read it, then XSD, schematrons, identifier and sum checks.

``valid`` means *conforms*: XSD, EN 16931, the profile, BR-FR where it applies, the XRechnung CIUS. The
checks beyond the standard (check digits, bank details, in-house sums, line net amounts) are warnings.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lxml import etree

from dematflow.errors import CorruptInput, EmptyInput, ToolFailed, ToolUnavailable, UnsupportedInput
from extractors.einvoice import EInvoice, invoice_from_tree, is_zugferd1
from extractors.facturx import find_embedded_xml
from extractors.pdfinspect import inspect_pdf
from extractors.safexml import read_xml
from validators.business import check_arithmetic, check_identifiers, check_line_net
from validators.pdfchecks import check_facturx_pdf
from validators.report import Finding, Report, Severity
from validators.schematron import fingerprints_of, rules_named, run_schematron_tree, schematrons_for
from validators.xsd import check_xsd_tree, fingerprints_for

log = logging.getLogger(__name__)


_IN_HOUSE_SUMS = ("BR-CO-10", "BR-CO-15", "BR-CO-16")


def validate_document(
    data: bytes, *, french_rules: bool | None = None, rules_dir: Path | None = None
) -> Report:
    """Validate a Factur-X/ZUGFeRD PDF or a CII/UBL XML; UnsupportedInput for anything else."""
    if not data:
        raise EmptyInput("empty document")
    if _is_pdf(data):
        return _validate_pdf(data, french_rules=french_rules, rules_dir=rules_dir)
    if _is_xml(data):
        return validate_xml(data, french_rules=french_rules, rules_dir=rules_dir)
    raise UnsupportedInput("not an e-invoice: neither a PDF nor an XML document")


def validate_xml(xml: bytes, *, french_rules: bool | None = None, rules_dir: Path | None = None) -> Report:
    """Validate an invoice XML: read → XSD → schematrons → identifiers → arithmetic.

    ``french_rules``: run the French CTC rules (BR-FR); None = when the seller (BT-40) or the buyer
    (BT-55) is French, False = never, True = always. ``rules_dir``: the folder of the rule files not
    shipped with factur-x (XRechnung); None = ``shared/rules`` beside the repository if it is there.
    The sha256 of every rule file that ran is in ``extra["rules"]``.
    """
    doc = read_xml(xml)
    invoice = invoice_from_tree(doc.root)
    fields = invoice.fields.values
    findings: list[Finding] = [Finding("XML-DECL", Severity.ERROR, note, "line 1") for note in doc.repairs]
    checked: list[str] = []
    not_checked: list[str] = []
    rules: dict[str, str] = {}
    try:
        findings += check_xsd_tree(
            doc.root, syntax=invoice.syntax, flavor=invoice.flavor, profile=invoice.profile
        )
        checked.append("xsd")
        rules |= fingerprints_for(doc.root, syntax=invoice.syntax, profile=invoice.profile)
    except ToolUnavailable as exc:
        log.warning("XSD not checked: %s", exc.message)
        not_checked.append("xsd")
    # Run even after fatal XSD errors: a supplier fixes more in one round with the rule findings too.
    french = _is_french(fields) if french_rules is None else french_rules
    ran = _Ran(checked, not_checked, rules)
    findings += _run_schematrons(doc.root, invoice, french=french, rules_dir=rules_dir, ran=ran)
    findings += check_identifiers(fields)
    # The in-house sums only stand in for a schematron that does not carry them (MINIMUM, EXTENDED,
    # ZUGFeRD 1, or one that could not run); MINIMUM carries no prepaid amount (BT-113) for BR-CO-16.
    skip = set(ran.sums_covered) | ({"BR-CO-16"} if invoice.profile == "MINIMUM" else set())
    findings += check_arithmetic(fields, invoice.line_net_amounts, skip=skip)
    findings += check_line_net(invoice.lines)
    checked += ["identifiers", "arithmetic"]
    extra: dict[str, Any] = {
        "guideline_id": invoice.guideline_id,
        "french_rules": french,
        "fields": dict(fields),
        "rules": dict(sorted(rules.items())),
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


@dataclasses.dataclass
class _Ran:
    """What the checks of one validation ran: names, names that could not run, rule file sha256s."""

    checked: list[str]
    not_checked: list[str]
    rules: dict[str, str]
    sums_covered: set[str] = dataclasses.field(default_factory=set)  # BR-CO-* a schematron that ran has


def _run_schematrons(
    root: etree._Element, invoice: EInvoice, *, french: bool, rules_dir: Path | None, ran: _Ran
) -> list[Finding]:
    """Every schematron that applies; one that cannot run goes to ``not_checked`` (fail closed)."""
    findings: list[Finding] = []
    for sch in schematrons_for(
        syntax=invoice.syntax,
        flavor=invoice.flavor,
        profile=invoice.profile,
        french=french,
        zugferd1=is_zugferd1(root),
        guideline=invoice.guideline_id,
    ):
        try:
            findings += run_schematron_tree(root, sch, rules_dir=rules_dir)
        except (ToolUnavailable, ToolFailed) as exc:
            log.warning("%s not checked: %s", sch.name, exc.message)
            ran.not_checked.append(sch.name)
            continue
        ran.checked.append(sch.name)
        ran.rules |= fingerprints_of(sch, rules_dir)
        ran.sums_covered |= rules_named(sch, _IN_HOUSE_SUMS, rules_dir)
    return findings


def _is_french(fields: Mapping[str, str]) -> bool:
    return any(fields.get(term, "").strip().upper() == "FR" for term in ("BT-40", "BT-55"))


def validate_fields(fields: Mapping[str, str]) -> Report:
    """Validate fields captured from a paper or plain-PDF invoice (OCR or text layer, no XML)."""
    findings = check_identifiers(fields) + check_arithmetic(fields)
    return Report(checked=("identifiers", "arithmetic"), findings=tuple(findings))


def _validate_pdf(pdf: bytes, *, french_rules: bool | None, rules_dir: Path | None) -> Report:
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
    report = validate_xml(embedded.xml, french_rules=french_rules, rules_dir=rules_dir)
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
