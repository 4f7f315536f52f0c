"""CDAR lifecycle messages: the D22B XSD (lxml) and the fatal BR-FR-CDV schematron (saxonche), fail closed.

The rule files are third-party artefacts read at run time from the rules folder (validators.rules:
``../shared/rules`` beside the repository unless configured), never copied into the repository.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from dematflow.errors import DematflowError, InputError, InvalidStatusMessage, ToolFailed, ToolUnavailable
from extractors.safexml import parse_xml
from validators import schematron
from validators.report import Finding, Report, Severity
from validators.rules import SHARED, base_dir, fingerprints

log = logging.getLogger(__name__)

CDAR_RULES = "fnfe-cdar-1.4.0"
XSD = "xsd/CrossDomainAcknowledgementAndResponse_100pD22B.xsd"
XSLT = "xslt/BR-FR-CDV-Schematron-CDAR.xslt"
MAX_FINDINGS = 50
_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}


def validate_cdar(xml: bytes, *, rules: Path | None = None) -> Report:
    """XSD then fatal schematron; a check that cannot run is listed in ``not_checked`` (not valid).
    ``rules``: the rules folder (Settings.rules_dir; None: ``shared/rules`` beside the repository).
    ``extra["artefacts"]`` gives the sha256 of every XSD and of the XSLT used."""
    try:
        root = parse_xml(xml)
    except InputError as err:
        return Report(
            checked=("xml",), findings=(Finding("XML", Severity.FATAL, err.message),), syntax="CDAR"
        )
    checked: list[str] = ["xml"]
    not_checked: list[str] = []
    findings: list[Finding] = []
    artefacts: dict[str, str] = {}
    try:
        folder = base_dir(SHARED, rules) / CDAR_RULES
        artefacts = {
            **fingerprints(SHARED, f"{CDAR_RULES}/{XSD}", rules),
            **fingerprints(SHARED, f"{CDAR_RULES}/{XSLT}", rules),
        }
    except (ToolUnavailable, OSError) as exc:
        reason = exc.message if isinstance(exc, DematflowError) else str(exc)
        return Report(("xml",), (), ("xsd", "schematron:br-fr-cdv"), "CDAR", extra={"why": reason})
    for name, check in (("xsd", _xsd_findings), ("schematron:br-fr-cdv", _schematron_findings)):
        try:
            findings += check(root, folder)
            checked.append(name)
        except (ToolUnavailable, ToolFailed) as exc:
            log.warning("CDAR %s not checked: %s", name, exc.message)
            not_checked.append(name)
            artefacts[f"{name}:why"] = exc.message
    return Report(tuple(checked), tuple(findings), tuple(not_checked), "CDAR", extra={"artefacts": artefacts})


def _xsd_findings(root: etree._Element, folder: Path) -> list[Finding]:
    schema = _schema(str(folder / XSD), threading.get_ident())
    if schema.validate(root):
        return []
    errors = list(schema.error_log)
    return [Finding("XSD", Severity.FATAL, e.message, f"line {e.line}") for e in errors[:MAX_FINDINGS]]


def _schematron_findings(root: etree._Element, folder: Path) -> list[Finding]:
    text = etree.tostring(root, encoding="unicode")  # Saxon reads our safe re-serialisation
    svrl = _transform(str(folder / XSLT), text)
    try:
        report = parse_xml(svrl.encode("utf-8"))
    except DematflowError as exc:
        raise ToolFailed(f"BR-FR-CDV: unreadable SVRL output: {exc.message}") from exc
    if not report.xpath("//svrl:fired-rule", namespaces={"svrl": schematron.SVRL_NS}):
        raise ToolUnavailable("BR-FR-CDV does not apply to this document (no rule fired)")
    return schematron.findings_from_svrl(report)


def _transform(path: str, text: str) -> str:
    # The one Saxon processor of the process and its lock live in validators.schematron (saxonche
    # crashes when processors multiply or are shared across threads).
    saxonche = schematron._saxonche()
    with schematron._saxon_lock():
        try:
            executable = _executable(path)
            node = schematron._processor().parse_xml(xml_text=text)
            out = executable.transform_to_string(xdm_node=node)
        except saxonche.PySaxonApiError as exc:
            raise ToolFailed(
                f"Saxon failed running {Path(path).name}: {schematron._first_line(exc)}"
            ) from exc
    if not out:
        raise ToolFailed(f"Saxon produced no SVRL for {Path(path).name}")
    return str(out)


@cache
def _executable(path: str) -> Any:
    # Compiled once per process, under the Saxon lock; a failure is not cached.
    if not Path(path).is_file():
        raise ToolUnavailable(f"schematron {path} is missing")
    try:
        return schematron._processor().new_xslt30_processor().compile_stylesheet(stylesheet_file=path)
    except schematron._saxonche().PySaxonApiError as exc:
        raise ToolUnavailable(f"{path} does not compile: {schematron._first_line(exc)}") from exc


@cache
def _schema(path: str, _thread: int) -> etree.XMLSchema:
    # One compiled schema per thread (its error log lives on the instance); no network, no DTD.
    if not Path(path).is_file():
        raise ToolUnavailable(f"XSD {path} is missing")
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    try:
        return etree.XMLSchema(etree.parse(path, parser))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise ToolUnavailable(f"XSD {path} does not compile: {exc}") from exc


# --- reading a message ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IncomingStatus:
    """What a CDAR says, in the terms dematflow records (BT-1, BT-2, status, reason, issuer)."""

    message_id: str
    code: int  # MDT-105
    invoice_id: str  # BT-1 (MDT-87)
    invoice_date: date | None  # BT-2 (MDT-100)
    seller_siren: str | None  # MDT-129
    issuer_role: str | None  # MDT-40: BY, SE, WK...
    issuer_siren: str | None
    issuer_name: str | None
    issued_at: datetime | None
    reason_code: str | None = None
    reason: str | None = None
    amount: Decimal | None = None
    vat_rate: Decimal | None = None


def parse_cdar(xml: bytes) -> IncomingStatus:
    """Read one MONO CDAR (safe parser); InvalidStatusMessage when a required term is missing."""
    root = parse_xml(xml)
    ref = _one(root, "rsm:AcknowledgementDocument/ram:ReferenceReferencedDocument")
    if _text(root, "rsm:AcknowledgementDocument/ram:MultipleReferencesIndicator/udt:Indicator") == "true":
        raise InvalidStatusMessage("a CDAR about several documents (MULTI) is not supported")
    code = _text(ref, "ram:ProcessConditionCode")
    invoice_id = _text(ref, "ram:IssuerAssignedID")
    if not code or not code.isdigit() or not invoice_id:
        raise InvalidStatusMessage("the CDAR names no status code (MDT-105) or no invoice (MDT-87)")
    issuer = "rsm:ExchangedDocument/ram:IssuerTradeParty"
    return IncomingStatus(
        message_id=_text(root, "rsm:ExchangedDocument/ram:ID") or "",
        code=int(code),
        invoice_id=invoice_id,
        invoice_date=_date(_text(ref, "ram:FormattedIssueDateTime/qdt:DateTimeString")),
        seller_siren=_text(ref, "ram:IssuerTradeParty/ram:GlobalID"),
        issuer_role=_text(root, f"{issuer}/ram:RoleCode"),
        issuer_siren=_text(root, f"{issuer}/ram:GlobalID"),
        issuer_name=_text(root, f"{issuer}/ram:Name"),
        issued_at=_datetime(_text(root, "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString")),
        reason_code=_text(ref, "ram:SpecifiedDocumentStatus/ram:ReasonCode"),
        reason=_text(ref, "ram:SpecifiedDocumentStatus/ram:Reason"),
        amount=_decimal(_text(ref, _CHARACTERISTIC + "/ram:ValueAmount")),
        vat_rate=_decimal(_text(ref, _CHARACTERISTIC + "/ram:ValuePercent")),
    )


_CHARACTERISTIC = (
    "ram:SpecifiedDocumentStatus/ram:SpecifiedDocumentCharacteristic"
    "[ram:TypeCode='MEN' or ram:TypeCode='MPA']"
)


def _one(root: etree._Element, path: str) -> etree._Element:
    found = root.xpath(path, namespaces=_NS)
    if not isinstance(found, list) or len(found) != 1 or not isinstance(found[0], etree._Element):
        raise InvalidStatusMessage(f"a CDAR needs exactly one {path.rsplit('/', 1)[-1]}")
    return found[0]


def _text(root: etree._Element, path: str) -> str | None:
    found = root.xpath(path, namespaces=_NS)
    if not isinstance(found, list) or not found or not isinstance(found[0], etree._Element):
        return None
    text = " ".join("".join(found[0].itertext()).split())
    return text or None


def _date(value: str | None) -> date | None:
    try:
        return datetime.strptime(value, "%Y%m%d").date() if value else None
    except ValueError as exc:
        raise InvalidStatusMessage(f"invoice date {value!r} is not CCYYMMDD") from exc


def _datetime(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S") if value else None
    except ValueError as exc:
        raise InvalidStatusMessage(f"date-time {value!r} is not CCYYMMDDHHMMSS") from exc


def _decimal(value: str | None) -> Decimal | None:
    try:
        return Decimal(value) if value else None
    except InvalidOperation as exc:
        raise InvalidStatusMessage(f"{value!r} is not a decimal amount") from exc
