"""PDF-level Factur-X/ZUGFeRD checks without veraPDF: PDF/A claim, XML attachment, XMP profile, scripts."""

from __future__ import annotations

import logging
import re

from extractors.pdfinspect import EmbeddedFile, PdfFacts
from validators.report import Finding, Severity

log = logging.getLogger(__name__)

CHECK_NAMES = ("pdfa-xmp", "facturx-attachment", "xmp-profile", "pdf-active-content")

ACCEPTED_RELATIONSHIPS = ("Data", "Alternative", "Source")
XML_MIME_TYPES = ("text/xml", "application/xml")
# Names under which an invoice XML is attached (Factur-X, ZUGFeRD 1/2, XRechnung); lower case.
INVOICE_XML_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml")
PARTIAL_PROFILES = ("MINIMUM", "BASIC WL")  # not complete invoices: their XML is "Data", not "Alternative"

_LEVELS = {
    "MINIMUM": "MINIMUM",
    "BASICWL": "BASIC WL",
    "BASIC": "BASIC",
    "EN16931": "EN16931",
    "COMFORT": "EN16931",  # ZUGFeRD 1 name of the level that became EN 16931
    "EXTENDED": "EXTENDED",
    "EXTENDEDCTCFR": "EXTENDED",
    "XRECHNUNG": "XRECHNUNG",
}


def normalise_profile(value: str | None) -> str | None:
    """One spelling per level: "EN 16931"/"EN16931"/"COMFORT" → "EN16931", "BASIC-WL" → "BASIC WL"."""
    if value is None:
        return None
    return _LEVELS.get(re.sub(r"[\s_\-]", "", value.upper()))


def check_facturx_pdf(
    facts: PdfFacts, *, xml_filename: str, xml_profile: str | None
) -> tuple[list[Finding], tuple[str, ...]]:
    """Run the four PDF-level checks; return their findings and the names of the checks that ran.

    These check what a PDF *declares* (XMP, file specifications, actions). Full PDF/A conformance
    (fonts, colour, structure) needs veraPDF and is not verified here.
    """
    findings = (
        check_pdfa_xmp(facts)
        + check_attachment(facts, xml_filename=xml_filename, xml_profile=normalise_profile(xml_profile))
        + check_xmp_profile(facts, xml_filename=xml_filename, xml_profile=xml_profile)
        + check_active_content(facts)
    )
    log.info("PDF checks: %d finding(s)", len(findings))
    return findings, CHECK_NAMES


def check_pdfa_xmp(facts: PdfFacts) -> list[Finding]:
    """PDF/A identification in XMP. Part 3 passes; part 4 (allowed since Factur-X 1.07 / ZUGFeRD 2.3)
    is an info; no XMP, unreadable XMP, or any other part is an ERROR (PDFA-PART): only PDF/A-3 and
    PDF/A-4 may carry an invoice XML. Encryption is an ERROR (PDF-ENCRYPTED): PDF/A forbids it."""
    out: list[Finding] = []
    where = "XMP pdfaid:part"
    if facts.encrypted:
        out.append(_f("PDF-ENCRYPTED", Severity.ERROR, "The PDF is encrypted; PDF/A forbids encryption."))
    if facts.xmp_status != "ok":
        problem = "has no XMP metadata" if facts.xmp_status == "missing" else "has unreadable XMP metadata"
        msg = f"The PDF {problem}, so it does not declare itself PDF/A-3 as Factur-X requires."
        return [*out, _f("PDFA-PART", Severity.ERROR, msg, where)]
    part, level = facts.pdfa_part, (facts.pdfa_conformance or "").upper()
    if part == "3":
        if level not in ("A", "B", "U"):
            msg = f"PDF/A-3 conformance level {facts.pdfa_conformance!r} is not one of A, B or U."
            out.append(_f("PDFA-CONFORMANCE", Severity.WARNING, msg, "XMP pdfaid:conformance"))
    elif part == "4":
        msg = "The PDF declares PDF/A-4, accepted for Factur-X 1.07 / ZUGFeRD 2.3 and later."
        out.append(_f("PDFA-PART", Severity.INFO, msg, where))
    else:
        claim = f"PDF/A-{part}" if part else "no PDF/A part"
        msg = f"The PDF declares {claim}; a Factur-X invoice must be a PDF/A-3 (or PDF/A-4) file."
        out.append(_f("PDFA-PART", Severity.ERROR, msg, where))
    return out


def check_attachment(facts: PdfFacts, *, xml_filename: str, xml_profile: str | None) -> list[Finding]:
    """The invoice XML is an embedded file with a proper /AFRelationship, listed in the catalog /AF.

    Data and Alternative pass. Source is allowed by the Factur-X specification (XML from which the
    PDF was generated): INFO. Data is expected for MINIMUM and BASIC WL, which are not full invoices:
    Alternative there is a WARNING. A missing or other relationship is an ERROR (FX-AF-RELATIONSHIP), a
    missing /AF entry an ERROR (FX-AF-ARRAY), a non-XML MIME type a WARNING (FX-AF-MIME). Several
    invoice XMLs (FX-MULTIPLE-XML): a WARNING when the XMP DocumentFileName says which one is the
    invoice (ZUGFeRD 1 + 2 hybrids), else an ERROR: the recipient could not know which one binds.
    """
    wanted = xml_filename.lower()
    match = next((f for f in facts.embedded_files if f.name.lower() == wanted), None)
    out = _multiple_xml(facts)
    if match is None:
        msg = f"{xml_filename} is not attached as an embedded file of the PDF (PDF/A-3 associated file)."
        return [*out, _f("FX-AF-RELATIONSHIP", Severity.ERROR, msg, "/Root/Names/EmbeddedFiles")]
    out += _relationship(match, xml_profile)
    if wanted not in (name.lower() for name in facts.catalog_af):
        msg = f"{xml_filename} is not listed in the document's associated files (catalog /AF array)."
        out.append(_f("FX-AF-ARRAY", Severity.ERROR, msg, "/Root/AF"))
    if match.subtype not in XML_MIME_TYPES:
        msg = f"{xml_filename} has MIME type {match.subtype or 'none'!s}; expected text/xml."
        out.append(_f("FX-AF-MIME", Severity.WARNING, msg, f"{xml_filename} /Subtype"))
    return out


def _relationship(file: EmbeddedFile, profile: str | None) -> list[Finding]:
    where = f"{file.name} /AFRelationship"
    rel = file.af_relationship
    if rel not in ACCEPTED_RELATIONSHIPS:
        got = f"is {rel!r}" if rel else "is missing"
        msg = f"The relationship (AFRelationship) of {file.name} {got}; it must be Data or Alternative."
        return [_f("FX-AF-RELATIONSHIP", Severity.ERROR, msg, where)]
    if rel == "Source":
        msg = f"{file.name} is attached as Source; Factur-X allows it, Data or Alternative are usual."
        return [_f("FX-AF-RELATIONSHIP", Severity.INFO, msg, where)]
    if rel == "Alternative" and profile in PARTIAL_PROFILES:
        msg = f"A {profile} XML is not a complete invoice: attach {file.name} as Data, not Alternative."
        return [_f("FX-AF-RELATIONSHIP", Severity.WARNING, msg, where)]
    return []


def _multiple_xml(facts: PdfFacts) -> list[Finding]:
    names = sorted({f.name for f in facts.embedded_files if f.name.lower() in INVOICE_XML_NAMES})
    if len(names) < 2:
        return []
    where = "/Root/Names/EmbeddedFiles"
    named = (facts.xmp_fx_document_file_name or "").lower()
    if named in (n.lower() for n in names):
        chosen = facts.xmp_fx_document_file_name
        msg = f"The PDF carries several invoice XMLs ({', '.join(names)}); its XMP names {chosen}."
        return [_f("FX-MULTIPLE-XML", Severity.WARNING, msg, where)]
    msg = f"The PDF carries several invoice XMLs ({', '.join(names)}) and none is named in its XMP."
    return [_f("FX-MULTIPLE-XML", Severity.ERROR, msg, where)]


def check_xmp_profile(facts: PdfFacts, *, xml_filename: str, xml_profile: str | None) -> list[Finding]:
    """XMP fx:ConformanceLevel agrees with the XML's profile (BT-24).

    No Factur-X XMP: WARNING (FX-XMP-MISSING). Unknown XMP level or a different profile: ERROR
    (FX-XMP-PROFILE), except XRechnung XML under an EN 16931 XMP (XRechnung is an EN 16931 CIUS and
    ZUGFeRD before 2.1.1 had no XRECHNUNG level): WARNING. XML profile unknown: INFO, not compared.
    DocumentFileName naming another file, or a DocumentType other than INVOICE: WARNING.
    """
    declared = facts.xmp_fx_level
    if declared is None:
        why = {"missing": "has no XMP metadata", "unparseable": "has unreadable XMP metadata"}.get(
            facts.xmp_status, "declares no Factur-X/ZUGFeRD profile in its XMP metadata"
        )
        msg = f"The PDF {why}; the profile of the attached invoice cannot be confirmed."
        return [_f("FX-XMP-MISSING", Severity.WARNING, msg, "XMP fx:ConformanceLevel")]
    out = _level_agreement(declared, xml_profile)
    named = facts.xmp_fx_document_file_name
    if named is not None and named.lower() != xml_filename.lower():
        msg = f"The XMP names the invoice file {named!r} but the attached invoice is {xml_filename!r}."
        out.append(_f("FX-XMP-FILENAME", Severity.WARNING, msg, "XMP fx:DocumentFileName"))
    doc_type = facts.xmp_fx_document_type
    if doc_type is not None and doc_type.upper() != "INVOICE":
        msg = f"The XMP declares the document type {doc_type!r}, not INVOICE."
        out.append(_f("FX-XMP-DOCTYPE", Severity.WARNING, msg, "XMP fx:DocumentType"))
    return out


def _level_agreement(declared: str, xml_profile: str | None) -> list[Finding]:
    where = "XMP fx:ConformanceLevel"
    xmp, xml = normalise_profile(declared), normalise_profile(xml_profile)
    if xmp is None:
        msg = f"The XMP declares the unknown profile {declared!r} (expected MINIMUM … EXTENDED)."
        return [_f("FX-XMP-PROFILE", Severity.ERROR, msg, where)]
    if xml is None:
        msg = f"The XMP declares {declared!r}; the XML's profile is unknown, so they were not compared."
        return [_f("FX-XMP-PROFILE", Severity.INFO, msg, where)]
    if xmp == xml:
        return []
    msg = f"The XMP metadata declares profile {declared!r} but the invoice XML is {xml_profile!r}."
    severity = Severity.WARNING if (xmp, xml) == ("EN16931", "XRECHNUNG") else Severity.ERROR
    return [_f("FX-XMP-PROFILE", severity, msg, where)]


def check_active_content(facts: PdfFacts) -> list[Finding]:
    """Actions a viewer could run. Launch (starts a program): FATAL. JavaScript, or an XFA form (may
    script, forbidden in PDF/A): ERROR. GoToR/ImportData/SubmitForm (reach other files or servers):
    WARNING. Web links (URI): INFO with their count. An object graph too large to inspect fully
    (hostile or absurd for an invoice): ERROR, since its actions could not all be seen."""
    out: list[Finding] = []
    if facts.has_launch:
        msg = "The PDF contains a Launch action that would start a program: refused."
        out.append(_f("PDF-LAUNCH", Severity.FATAL, msg))
    if facts.has_javascript:
        out.append(_f("PDF-JAVASCRIPT", Severity.ERROR, "The PDF contains JavaScript; remove it."))
    if facts.has_xfa:
        msg = "The PDF contains an XFA form, which may run scripts and is not allowed in PDF/A."
        out.append(_f("PDF-XFA", Severity.ERROR, msg, "/Root/AcroForm/XFA"))
    if facts.has_external_refs:
        msg = "The PDF contains actions that open other files or send data (GoToR, ImportData, SubmitForm)."
        out.append(_f("PDF-EXTERNAL", Severity.WARNING, msg))
    if facts.uri_count:
        out.append(_f("PDF-URI", Severity.INFO, f"The PDF contains {facts.uri_count} web link(s)."))
    if not facts.walk_complete:
        msg = "The PDF has too many objects to be inspected fully for scripts; it cannot be accepted."
        out.append(_f("PDF-TOO-COMPLEX", Severity.ERROR, msg))
    return out


def _f(rule: str, severity: Severity, message: str, location: str | None = None) -> Finding:
    return Finding(rule, severity, message, location)
