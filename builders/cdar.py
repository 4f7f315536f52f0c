"""CDAR D22B lifecycle messages (cycle de vie, XP Z12-012 Annexe B) built from plain inputs, with lxml."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from lxml import etree

RSM = "urn:un:unece:uncefact:data:standard:CrossDomainAcknowledgementAndResponse:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"qdt": QDT, "udt": UDT, "ram": RAM, "rsm": RSM}
GUIDELINE = "urn.cpro.gouv.fr:1p0:CDV:invoice"  # MDT-3
SIREN_SCHEME = "0002"
ADDRESS_SCHEME = "0225"  # the electronic address (annuaire) scheme of the examples

# MDT-77: 305 for the statuses a platform sets, 23 for the business statuses of buyer and seller.
PLATFORM_CODES = frozenset({200, 201, 202, 203, 213, 221, 501})
# MDT-88 (UNCL 1373 subset) for each MDT-105 status, as in the Annexe B examples; 501 carries none.
DOCUMENT_STATUS = {
    200: "10",
    201: "51",
    202: "43",
    203: "48",
    204: "45",
    205: "1",
    206: "49",
    207: "46",
    208: "39",
    209: "37",
    210: "50",
    211: "47",
    212: "47",
    213: "8",
}


@dataclass(frozen=True)
class Party:
    """A trade party of the message: role MDT-59 (SE seller, BY buyer, WK platform, DFH PPF)."""

    role: str
    siren: str | None = None  # GlobalID, scheme 0002
    name: str | None = None
    address: str | None = None  # electronic address (URIID); required for a recipient other than WK/DFH


@dataclass(frozen=True)
class StatusMessage:
    """Everything one CDAR says about one invoice (MONO message: one referenced document)."""

    message_id: str  # MDT-4
    name: str  # MDT-5
    issued_at: datetime  # MDT-8: when the message was made
    status_at: datetime  # MDT-78: when the status was set
    sender: Party  # MDT-21
    issuer: Party  # MDT-38..40
    recipients: tuple[Party, ...]
    invoice_id: str  # BT-1 (MDT-87); for 501 the file deposited
    code: int  # MDT-105
    label: str  # MDT-106, e.g. "Déposée"
    invoice_date: date | None = None  # BT-2 (MDT-100)
    invoice_type: str | None = "380"  # BT-3 (MDT-91)
    received_at: datetime | None = None  # MDT-95
    seller_siren: str | None = None  # MDT-129
    reason_code: str | None = None  # MDT-113
    reason: str | None = None  # MDT-114: what a person reads
    amount: Decimal | None = None  # MEN for 212, MPA for 211
    vat_rate: Decimal | None = None  # with MEN
    currency: str = "EUR"
    business_process: str = "REGULATED"  # MDT-2


def build_cdar(msg: StatusMessage) -> bytes:
    """The CDAR as UTF-8 bytes with an XML declaration, in the element order of the D22B XSD."""
    root = etree.Element(f"{{{RSM}}}CrossDomainAcknowledgementAndResponse", nsmap=NSMAP)
    context = _sub(root, RSM, "ExchangedDocumentContext")
    _sub(
        _sub(context, RAM, "BusinessProcessSpecifiedDocumentContextParameter"),
        RAM,
        "ID",
        msg.business_process,
    )
    _sub(_sub(context, RAM, "GuidelineSpecifiedDocumentContextParameter"), RAM, "ID", GUIDELINE)
    exchanged = _sub(root, RSM, "ExchangedDocument")
    _sub(exchanged, RAM, "ID", msg.message_id)
    _sub(exchanged, RAM, "Name", msg.name)
    _datetime(exchanged, "IssueDateTime", msg.issued_at)
    _party(exchanged, "SenderTradeParty", msg.sender)
    _party(exchanged, "IssuerTradeParty", msg.issuer)
    for recipient in msg.recipients:
        _party(exchanged, "RecipientTradeParty", recipient, address=True)
    _acknowledgement(_sub(root, RSM, "AcknowledgementDocument"), msg)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def ack_type(code: int) -> str:
    """MDT-77: 305 for a platform's status, 23 for a buyer's or seller's."""
    return "305" if code in PLATFORM_CODES else "23"


def _acknowledgement(ack: etree._Element, msg: StatusMessage) -> None:
    _sub(_sub(ack, RAM, "MultipleReferencesIndicator"), UDT, "Indicator", "false")
    _sub(ack, RAM, "TypeCode", ack_type(msg.code))
    _datetime(ack, "IssueDateTime", msg.status_at)
    ref = _sub(ack, RAM, "ReferenceReferencedDocument")
    _sub(ref, RAM, "IssuerAssignedID", msg.invoice_id)
    if msg.code in DOCUMENT_STATUS:
        _sub(ref, RAM, "StatusCode", DOCUMENT_STATUS[msg.code])
    if msg.invoice_type:
        _sub(ref, RAM, "TypeCode", msg.invoice_type)
    if msg.received_at is not None:
        _datetime(ref, "ReceiptDateTime", msg.received_at)
    if msg.invoice_date is not None:
        formatted = _sub(ref, RAM, "FormattedIssueDateTime")
        _sub(formatted, QDT, "DateTimeString", msg.invoice_date.strftime("%Y%m%d")).set("format", "102")
    _sub(ref, RAM, "ProcessConditionCode", str(msg.code))
    _sub(ref, RAM, "ProcessCondition", msg.label.replace(" ", "_"))
    if msg.seller_siren:
        issuer = _sub(ref, RAM, "IssuerTradeParty")
        _sub(issuer, RAM, "GlobalID", msg.seller_siren).set("schemeID", SIREN_SCHEME)
    if msg.reason_code or msg.reason or msg.amount is not None:
        _status(_sub(ref, RAM, "SpecifiedDocumentStatus"), msg)


def _status(status: etree._Element, msg: StatusMessage) -> None:
    if msg.reason_code:
        _sub(status, RAM, "ReasonCode", msg.reason_code)
    if msg.reason:
        _sub(status, RAM, "Reason", msg.reason)
    _sub(status, RAM, "SequenceNumeric", "1")  # BR-FR-CDV-16: every status detail is numbered
    if msg.amount is None:
        return
    characteristic = _sub(status, RAM, "SpecifiedDocumentCharacteristic")
    _sub(characteristic, RAM, "TypeCode", "MEN" if msg.code == 212 else "MPA")
    _sub(_sub(characteristic, RAM, "ValueChangedIndicator"), UDT, "IndicatorString", "false")
    _sub(characteristic, RAM, "ValueAmount", f"{msg.amount:.2f}").set("currencyID", msg.currency)
    if msg.vat_rate is not None:
        _sub(characteristic, RAM, "ValuePercent", f"{msg.vat_rate:.2f}")


def _party(parent: etree._Element, tag: str, party: Party, *, address: bool = False) -> None:
    el = _sub(parent, RAM, tag)
    if party.siren:
        _sub(el, RAM, "GlobalID", party.siren).set("schemeID", SIREN_SCHEME)
    if party.name:
        _sub(el, RAM, "Name", party.name)
    _sub(el, RAM, "RoleCode", party.role)
    if address and party.address:
        uri = _sub(_sub(el, RAM, "URIUniversalCommunication"), RAM, "URIID", party.address)
        if party.address.isdigit() or party.address.endswith("_STATUTS"):
            uri.set("schemeID", ADDRESS_SCHEME)


def _datetime(parent: etree._Element, tag: str, value: datetime) -> None:
    # Format 204 (CCYYMMDDHHMMSS) carries no zone: dematflow writes UTC.
    utc = value.astimezone(UTC) if value.tzinfo else value
    _sub(_sub(parent, RAM, tag), UDT, "DateTimeString", utc.strftime("%Y%m%d%H%M%S")).set("format", "204")


def _sub(parent: etree._Element, ns: str, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        el.text = text
    return el
