"""Build a Factur-X CII XML (EN 16931, BASIC WL or MINIMUM) from captured EN 16931 business terms."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree

from builders.lines import (
    InvoiceLine,
    TaxBreakdown,
    breakdown_from_lines,
    breakdown_from_totals,
    money,
    parse_lines,
)
from dematflow.errors import UnsupportedInput

log = logging.getLogger(__name__)

EN16931, BASIC_WL, MINIMUM = "EN16931", "BASIC WL", "MINIMUM"
GUIDELINES = {
    EN16931: "urn:cen.eu:en16931:2017",
    BASIC_WL: "urn:factur-x.eu:1p0:basicwl",
    MINIMUM: "urn:factur-x.eu:1p0:minimum",
}
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
_TEXT_TERMS = ("BT-1", "BT-23", "BT-27", "BT-30", "BT-31", "BT-34", "BT-34-1", "BT-44", "BT-49",
               "BT-49-1", "BT-84")  # fmt: skip
_DATE_TERMS = ("BT-2", "BT-9")
_AMOUNT_TERMS = ("BT-109", "BT-110", "BT-112", "BT-115")
_AMOUNT = re.compile(r"-?\d+(\.\d{1,2})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_TYPE_CODE = re.compile(r"\d{3}")
_SELLER_ID = "BT-30 or BT-31"  # BR-CO-26: some seller identifier, even in MINIMUM


@dataclass(frozen=True)
class Built:
    """A CII XML, the Factur-X profile it follows, and what kept it from being EN 16931."""

    xml: bytes
    profile: str  # "EN16931" | "BASIC WL" | "MINIMUM"
    missing_for_en16931: tuple[str, ...]  # business terms (or rules) missing or inconsistent


@dataclass(frozen=True)
class _Header:
    """The document-level terms that could be read, in typed form; bad values are left out."""

    text: dict[str, str]
    dates: dict[str, date]
    amounts: dict[str, Decimal]
    type_code: str
    notes: tuple[tuple[str, str], ...] = ()  # (BT-21 subject code, BT-22 text)


def build_cii(
    fields: Mapping[str, str],
    *,
    lines: Sequence[Mapping[str, str]] = (),
    seller_country: str = "FR",
    buyer_country: str = "FR",
    notes: Mapping[str, str] | None = None,
) -> Built:
    """The richest Factur-X CII the fields allow; UnsupportedInput naming the gaps if not even MINIMUM.

    ``fields`` use the ``extract --json`` contract; ``lines`` are optional invoice lines keyed by
    business term (see :mod:`builders.lines`). Nothing is invented: EN 16931 needs lines, BASIC WL a
    VAT breakdown derivable from the totals at one standard French rate.

    Terms the French CTC rules (BR-FR) also demand are written only when the caller has them:
    ``BT-23`` billing mode, ``BT-34``/``BT-34-1`` and ``BT-49``/``BT-49-1`` electronic addresses
    with their schemes, and ``notes`` (BT-21 subject code such as PMT, PMD, AAB → BT-22 text).
    MINIMUM has no room for addresses or notes: only BT-23 is kept there.
    """
    head = _read_header(fields, notes or {})
    minimum_gaps = _minimum_gaps(head)
    if minimum_gaps:
        raise UnsupportedInput(
            "cannot build even a Factur-X MINIMUM invoice: missing or malformed " + ", ".join(minimum_gaps)
        )
    basic_gaps = _basic_wl_gaps(head)
    totals_taxes = breakdown_from_totals(head.amounts.get("BT-109"), head.amounts.get("BT-110"))
    if totals_taxes is None:
        basic_gaps.append("BG-23")
    parsed, line_gaps = parse_lines(lines)
    taxes = None
    if parsed:
        taxes, tax_gaps = breakdown_from_lines(
            parsed, net_total=head.amounts.get("BT-109"), tax_total=head.amounts.get("BT-110")
        )
        line_gaps += tax_gaps
    en_gaps = [g for g in basic_gaps if g != "BG-23"] + line_gaps
    if not en_gaps and taxes:
        profile, used_taxes, used_lines = EN16931, taxes, parsed
    elif not basic_gaps and totals_taxes:
        profile, used_taxes, used_lines = BASIC_WL, totals_taxes, ()
    else:
        profile, used_taxes, used_lines = MINIMUM, (), ()
    xml = _render(profile, head, used_taxes, used_lines, seller_country, buyer_country)
    log.info("built CII %s for invoice %s; EN 16931 gaps: %s", profile, head.text["BT-1"], en_gaps)
    return Built(xml=xml, profile=profile, missing_for_en16931=tuple(dict.fromkeys(en_gaps)))


def _read_header(fields: Mapping[str, str], notes: Mapping[str, str]) -> _Header:
    text = {t: v.strip() for t in _TEXT_TERMS if (v := fields.get(t)) and v.strip()}
    for term in ("BT-30", "BT-31", "BT-84"):
        if term in text:
            text[term] = re.sub(r"\s", "", text[term]).upper()
    currency = (fields.get("BT-5") or "").strip().upper()
    if _CURRENCY.fullmatch(currency):
        text["BT-5"] = currency
    dates: dict[str, date] = {}
    for term in _DATE_TERMS:
        with contextlib.suppress(ValueError):
            dates[term] = date.fromisoformat((fields.get(term) or "").strip())
    amounts: dict[str, Decimal] = {}
    for term in _AMOUNT_TERMS:
        raw = (fields.get(term) or "").strip()
        if _AMOUNT.fullmatch(raw):  # the pattern guarantees a valid Decimal
            amounts[term] = money(Decimal(raw))
    type_code = (fields.get("BT-3") or "380").strip()
    kept_notes = tuple((code.strip(), t.strip()) for code, t in notes.items() if t.strip())
    return _Header(text, dates, amounts, type_code, kept_notes)


def _minimum_gaps(head: _Header) -> list[str]:
    gaps = [t for t in ("BT-1", "BT-5", "BT-27", "BT-44") if t not in head.text]
    if not _TYPE_CODE.fullmatch(head.type_code):
        gaps.append("BT-3")
    if "BT-2" not in head.dates:
        gaps.append("BT-2")
    gaps += [t for t in ("BT-109", "BT-112", "BT-115") if t not in head.amounts]
    if "BT-30" not in head.text and "BT-31" not in head.text:
        gaps.append(_SELLER_ID)
    return sorted(gaps, key=_term_order)


def _basic_wl_gaps(head: _Header) -> list[str]:
    gaps = [] if "BT-110" in head.amounts else ["BT-110"]
    due = head.amounts["BT-115"]
    if due > 0 and "BT-9" not in head.dates:
        gaps.append("BT-9")  # BR-CO-25: a positive amount due needs a due date (or terms)
    if due != head.amounts["BT-112"]:
        gaps.append("BT-113")  # BR-CO-16: a prepaid amount we cannot tell from rounding
    return gaps


def _term_order(term: str) -> int:
    digits = re.search(r"\d+", term)
    return int(digits.group()) if digits else 0


# --- XML -------------------------------------------------------------------------------------------


def element(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    """A child ``prefix:name`` (prefixes of :data:`NS`) with its text set by lxml, never by hand."""
    prefix, name = tag.split(":")
    el = etree.SubElement(parent, f"{{{NS[prefix]}}}{name}", attrib)
    if text is not None:
        el.text = text
    return el


def date102(parent: etree._Element, tag: str, value: date) -> None:
    """A CII date, ``udt:DateTimeString`` in format 102 (YYYYMMDD)."""
    element(element(parent, tag), "udt:DateTimeString", value.strftime("%Y%m%d"), format="102")


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _render(
    profile: str,
    head: _Header,
    taxes: Sequence[TaxBreakdown],
    lines: Sequence[InvoiceLine],
    seller_country: str,
    buyer_country: str,
) -> bytes:
    root = etree.Element(f"{{{NS['rsm']}}}CrossIndustryInvoice", nsmap=NS)
    context = element(root, "rsm:ExchangedDocumentContext")
    if "BT-23" in head.text:
        element(element(context, "ram:BusinessProcessSpecifiedDocumentContextParameter"), "ram:ID",
            head.text["BT-23"])  # fmt: skip
    element(element(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINES[profile])
    document = element(root, "rsm:ExchangedDocument")
    element(document, "ram:ID", head.text["BT-1"])
    element(document, "ram:TypeCode", head.type_code)
    date102(document, "ram:IssueDateTime", head.dates["BT-2"])
    for code, content in head.notes if profile != MINIMUM else ():
        note = element(document, "ram:IncludedNote")
        element(note, "ram:Content", content)
        if code:
            element(note, "ram:SubjectCode", code)
    transaction = element(root, "rsm:SupplyChainTradeTransaction")
    for line in lines:
        _line_item(transaction, line)
    agreement = element(transaction, "ram:ApplicableHeaderTradeAgreement")
    _seller(agreement, head, seller_country, rich=profile != MINIMUM)
    buyer = element(agreement, "ram:BuyerTradeParty")
    element(buyer, "ram:Name", head.text["BT-44"])
    if profile != MINIMUM:  # BR-10/BR-11: buyer address with its country, from BASIC WL on
        element(element(buyer, "ram:PostalTradeAddress"), "ram:CountryID", buyer_country)
        _endpoint(buyer, head, "BT-49")
    element(transaction, "ram:ApplicableHeaderTradeDelivery")
    _settlement(transaction, profile, head, taxes)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _seller(agreement: etree._Element, head: _Header, country: str, *, rich: bool) -> None:
    seller = element(agreement, "ram:SellerTradeParty")
    legal = head.text.get("BT-30")
    french = country == "FR" and legal is not None and legal.isdigit() and len(legal) in (9, 14)
    if rich and french and legal is not None and len(legal) == 14:
        element(seller, "ram:GlobalID", legal, schemeID="0009")  # BT-29: the SIRET
    element(seller, "ram:Name", head.text["BT-27"])
    if legal is not None:
        organisation = element(seller, "ram:SpecifiedLegalOrganization")
        if french:
            element(organisation, "ram:ID", legal[:9], schemeID="0002")  # BT-30: the SIREN
        else:
            element(organisation, "ram:ID", legal)
    element(element(seller, "ram:PostalTradeAddress"), "ram:CountryID", country)
    if rich:
        _endpoint(seller, head, "BT-34")
    if "BT-31" in head.text:
        element(element(seller, "ram:SpecifiedTaxRegistration"), "ram:ID", head.text["BT-31"], schemeID="VA")


def _endpoint(party: etree._Element, head: _Header, term: str) -> None:
    """BT-34/BT-49, an electronic address: written only with its scheme (BR-62/BR-63)."""
    address, scheme = head.text.get(term), head.text.get(f"{term}-1")
    if address and scheme:
        element(element(party, "ram:URIUniversalCommunication"), "ram:URIID", address, schemeID=scheme)


def _line_item(parent: etree._Element, line: InvoiceLine) -> None:
    item = element(parent, "ram:IncludedSupplyChainTradeLineItem")
    element(element(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", line.line_id)
    element(element(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.name)
    agreement = element(item, "ram:SpecifiedLineTradeAgreement")
    element(element(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", f"{line.price}")
    delivery = element(item, "ram:SpecifiedLineTradeDelivery")
    element(delivery, "ram:BilledQuantity", f"{line.quantity}", unitCode=line.unit)
    settlement = element(item, "ram:SpecifiedLineTradeSettlement")
    tax = element(settlement, "ram:ApplicableTradeTax")
    element(tax, "ram:TypeCode", "VAT")
    element(tax, "ram:CategoryCode", "S")
    element(tax, "ram:RateApplicablePercent", _amount(line.rate))
    summation = element(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    element(summation, "ram:LineTotalAmount", _amount(line.net))


def _settlement(
    transaction: etree._Element, profile: str, head: _Header, taxes: Sequence[TaxBreakdown]
) -> None:
    settlement = element(transaction, "ram:ApplicableHeaderTradeSettlement")
    currency = head.text["BT-5"]
    element(settlement, "ram:InvoiceCurrencyCode", currency)
    amounts = head.amounts
    if profile != MINIMUM:
        if "BT-84" in head.text:
            means = element(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
            element(means, "ram:TypeCode", "30")  # credit transfer: all an IBAN tells us
            element(
                element(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", head.text["BT-84"]
            )
        for breakdown in taxes:
            tax = element(settlement, "ram:ApplicableTradeTax")
            element(tax, "ram:CalculatedAmount", _amount(breakdown.amount))
            element(tax, "ram:TypeCode", "VAT")
            element(tax, "ram:BasisAmount", _amount(breakdown.basis))
            element(tax, "ram:CategoryCode", "S")
            element(tax, "ram:RateApplicablePercent", _amount(breakdown.rate))
        if "BT-9" in head.dates:
            date102(element(settlement, "ram:SpecifiedTradePaymentTerms"), "ram:DueDateDateTime",
                     head.dates["BT-9"])  # fmt: skip
    totals = element(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    if profile != MINIMUM:  # BT-106: no document-level allowances or charges were captured
        element(totals, "ram:LineTotalAmount", _amount(amounts["BT-109"]))
    element(totals, "ram:TaxBasisTotalAmount", _amount(amounts["BT-109"]))
    if "BT-110" in amounts:
        element(totals, "ram:TaxTotalAmount", _amount(amounts["BT-110"]), currencyID=currency)
    element(totals, "ram:GrandTotalAmount", _amount(amounts["BT-112"]))
    element(totals, "ram:DuePayableAmount", _amount(amounts["BT-115"]))
