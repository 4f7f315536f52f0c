"""Read a CII (Factur-X, ZUGFeRD 1/2, XRechnung) or UBL invoice XML into EN 16931 business terms."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import cache

from lxml import etree

from dematflow.errors import DematflowError, UnsupportedInput
from extractors.identifiers import compact
from extractors.results import FieldSet
from extractors.safexml import parse_xml

log = logging.getLogger(__name__)

CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
ZF1_NS = "urn:ferd:CrossIndustryDocument:invoice:1p0"
UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
_ROOTS = {
    (CII_NS, "CrossIndustryInvoice"): "CII",
    (ZF1_NS, "CrossIndustryDocument"): "CII",
    (UBL_INVOICE_NS, "Invoice"): "UBL",
    (UBL_CREDIT_NOTE_NS, "CreditNote"): "UBL",
}
_SIREN_SCHEMES = ("0002", "0009")  # ISO 6523 ICD: SIREN, SIRET
_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}")


@dataclass(frozen=True)
class InvoiceLine:
    """The amounts of one top-level invoice line (BG-25), as written in the XML."""

    line_id: str | None  # BT-126
    quantity: str | None  # BT-129
    net_price: str | None  # BT-146
    base_quantity: str | None  # BT-149 (absent: 1)
    allowances: tuple[str, ...]  # BT-136 of each line allowance (BG-27)
    charges: tuple[str, ...]  # BT-141 of each line charge (BG-28)
    net_amount: str | None  # BT-131


@dataclass(frozen=True)
class EInvoice:
    """What an invoice XML says, in EN 16931 terms."""

    syntax: str  # "CII" | "UBL"
    flavor: str | None  # "factur-x" | "zugferd" | "xrechnung" | "ubl" | "cii"
    profile: str | None  # "MINIMUM" | "BASIC WL" | "BASIC" | "EN16931" | "EXTENDED" | ...
    guideline_id: str | None  # BT-24
    fields: FieldSet
    line_net_amounts: tuple[str, ...] = ()  # BT-131 of each top-level line
    lines: tuple[InvoiceLine, ...] = ()  # top-level lines (CII D16B and UBL; not ZUGFeRD 1)


def sniff_syntax(data: bytes) -> str | None:
    """``"CII"`` or ``"UBL"`` from the root element, None for other XML or non-XML."""
    try:
        return root_syntax(parse_xml(data))
    except DematflowError:
        return None


def root_syntax(root: etree._Element) -> str | None:
    """``"CII"`` or ``"UBL"`` for a parsed root element, else None."""
    qname = etree.QName(root)
    return _ROOTS.get((qname.namespace or "", qname.localname))


def is_zugferd1(root: etree._Element) -> bool:
    return etree.QName(root).namespace == ZF1_NS


def parse_invoice_xml(xml: bytes) -> EInvoice:
    """Parse an invoice XML; UnsupportedInput if it is XML but not a CII/UBL invoice."""
    return invoice_from_tree(parse_xml(xml))


def invoice_from_tree(root: etree._Element) -> EInvoice:
    """Build an :class:`EInvoice` from an already safely parsed root element."""
    syntax = root_syntax(root)
    if syntax is None:
        raise UnsupportedInput(f"not an e-invoice: XML root element is {etree.QName(root).localname}")
    paths = _UBL if syntax == "UBL" else (_ZF1 if is_zugferd1(root) else _CII)
    guideline = _text(root, paths.guideline)
    flavor, profile = flavor_and_profile(guideline, syntax=syntax, zf1=is_zugferd1(root))
    values = _fields(root, paths, ubl=syntax == "UBL")
    line_elements = [line for line in _all(root, paths.lines) if _top_level(line, paths)]
    amounts = tuple(a for a in (_text(line, paths.line_amount) for line in line_elements) if a)
    details = tuple(_line(el, paths) for el in line_elements) if paths.line_items else ()
    fields = FieldSet(values=values, confidence=dict.fromkeys(values, 1.0))
    log.debug("parsed %s invoice: flavor=%s profile=%s terms=%s", syntax, flavor, profile, sorted(values))
    return EInvoice(syntax, flavor, profile, guideline, fields, amounts, details)


def flavor_and_profile(
    guideline: str | None, *, syntax: str, zf1: bool = False
) -> tuple[str | None, str | None]:
    """Flavor and profile from the guideline id (BT-24)."""
    g = (guideline or "").strip().lower()
    if zf1 or g.startswith("urn:ferd:"):
        level = g.rsplit(":", 1)[-1]
        # ZUGFeRD 1 COMFORT became EN 16931 in ZUGFeRD 2 / Factur-X.
        return "zugferd", {"basic": "BASIC", "comfort": "EN16931", "extended": "EXTENDED"}.get(level)
    if "xrechnung" in g:
        return "xrechnung", "XRECHNUNG"
    if "extended-ctc-fr" in g:
        return ("cii" if syntax == "CII" else "ubl"), "EXTENDED-CTC-FR"
    for token, flavor in (("factur-x.eu", "factur-x"), ("zugferd.de", "zugferd")):
        if token in g:
            level = re.split(r"[:#]", g)[-1]
            profile = {"minimum": "MINIMUM", "basicwl": "BASIC WL", "basic": "BASIC"}.get(level)
            return flavor, profile or {"en16931": "EN16931", "extended": "EXTENDED"}.get(level)
    default_flavor = "ubl" if syntax == "UBL" else "cii"
    if g == "urn:cen.eu:en16931:2017":
        return ("factur-x" if syntax == "CII" else "ubl"), "EN16931"
    if g.startswith("urn:cen.eu:en16931:2017"):
        return default_flavor, "EN16931"  # another CIUS (e.g. Peppol BIS Billing 3.0)
    return default_flavor, None


def _xp(path: str) -> etree.XPath:
    """A namespace-agnostic XPath: ``A/B[@x='y']`` matches by local names."""
    return _compiled_xpath(path, threading.get_ident())


@cache
def _compiled_xpath(path: str, _thread: int) -> etree.XPath:
    # Compiled once per thread: lxml XPath objects are not meant to be shared between threads.
    steps = []
    for step in path.split("/"):
        name, _, pred = step.partition("[")
        steps.append(f"*[local-name()='{name}']" + (f"[{pred}" if pred else ""))
    return etree.XPath("/".join(steps))


def _text(node: etree._Element, path: str) -> str | None:
    for el in _xp(path)(node):
        if el.text and el.text.strip():
            return str(el.text.strip())
    return None


def _all(node: etree._Element, paths: tuple[str, ...]) -> list[etree._Element]:
    return [el for path in paths for el in _xp(path)(node)]


@dataclass(frozen=True)
class _LinePaths:
    """Where the terms of a line sit (relative to the line element)."""

    line_id: str
    quantity: tuple[str, ...]
    net_price: str
    base_quantity: str
    allowance_charge: str  # BG-27/BG-28 elements
    is_charge: str  # relative to one of them: "true" for a charge
    amount: str  # relative to one of them


@dataclass(frozen=True)
class _Paths:
    """Where each business term sits in one syntax (local names, relative to the root)."""

    guideline: str
    terms: dict[str, tuple[str, ...]]
    lines: tuple[str, ...]
    line_amount: str
    line_parent: str = ""
    line_status: str = ""
    line_items: _LinePaths | None = None  # None: line details are not read (ZUGFeRD 1)


_CII_LINE = _LinePaths(
    line_id="AssociatedDocumentLineDocument/LineID",
    quantity=("SpecifiedLineTradeDelivery/BilledQuantity",),
    net_price="SpecifiedLineTradeAgreement/NetPriceProductTradePrice/ChargeAmount",
    base_quantity="SpecifiedLineTradeAgreement/NetPriceProductTradePrice/BasisQuantity",
    allowance_charge="SpecifiedLineTradeSettlement/SpecifiedTradeAllowanceCharge",
    is_charge="ChargeIndicator/Indicator",
    amount="ActualAmount",
)
_UBL_LINE = _LinePaths(
    line_id="ID",
    quantity=("InvoicedQuantity", "CreditedQuantity"),
    net_price="Price/PriceAmount",
    base_quantity="Price/BaseQuantity",
    allowance_charge="AllowanceCharge",  # the line's own; Price/AllowanceCharge is the price discount
    is_charge="ChargeIndicator",
    amount="Amount",
)


def _cii_like(
    doc: str,
    ctx: str,
    tx: str,
    agr: str,
    stl: str,
    sums: str,
    line_sum: str,
    line_items: _LinePaths | None = None,
) -> _Paths:
    seller, buyer = f"{tx}/{agr}/SellerTradeParty", f"{tx}/{agr}/BuyerTradeParty"
    total = f"{tx}/{stl}/{sums}"
    return _Paths(
        guideline=f"{ctx}/GuidelineSpecifiedDocumentContextParameter/ID",
        terms={
            "BT-1": (f"{doc}/ID",),
            "BT-2": (f"{doc}/IssueDateTime/DateTimeString",),
            "BT-3": (f"{doc}/TypeCode",),
            "BT-5": (f"{tx}/{stl}/InvoiceCurrencyCode",),
            "BT-9": (f"{tx}/{stl}/SpecifiedTradePaymentTerms/DueDateDateTime/DateTimeString",),
            "BT-27": (f"{seller}/Name",),
            "BT-30": (f"{seller}/SpecifiedLegalOrganization/ID",),
            "BT-31": (f"{seller}/SpecifiedTaxRegistration/ID[@schemeID='VA']",),
            "BT-40": (f"{seller}/PostalTradeAddress/CountryID",),
            "BT-44": (f"{buyer}/Name",),
            "BT-55": (f"{buyer}/PostalTradeAddress/CountryID",),
            "BT-84": (
                f"{tx}/{stl}/SpecifiedTradeSettlementPaymentMeans/PayeePartyCreditorFinancialAccount/IBANID",
            ),
            "BT-106": (f"{total}/LineTotalAmount",),
            "BT-109": (f"{total}/TaxBasisTotalAmount",),
            "BT-110": (f"{total}/TaxTotalAmount",),
            "BT-112": (f"{total}/GrandTotalAmount",),
            "BT-113": (f"{total}/TotalPrepaidAmount",),
            "BT-114": (f"{total}/RoundingAmount",),
            "BT-115": (f"{total}/DuePayableAmount",),
        },
        lines=(f"{tx}/IncludedSupplyChainTradeLineItem",),
        line_amount=line_sum,
        line_parent="AssociatedDocumentLineDocument/ParentLineID",
        line_status="AssociatedDocumentLineDocument/LineStatusReasonCode",
        line_items=line_items,
    )


_CII = _cii_like(
    "ExchangedDocument",
    "ExchangedDocumentContext",
    "SupplyChainTradeTransaction",
    "ApplicableHeaderTradeAgreement",
    "ApplicableHeaderTradeSettlement",
    "SpecifiedTradeSettlementHeaderMonetarySummation",
    "SpecifiedLineTradeSettlement/SpecifiedTradeSettlementLineMonetarySummation/LineTotalAmount",
    _CII_LINE,
)
_ZF1 = _cii_like(
    "HeaderExchangedDocument",
    "SpecifiedExchangedDocumentContext",
    "SpecifiedSupplyChainTradeTransaction",
    "ApplicableSupplyChainTradeAgreement",
    "ApplicableSupplyChainTradeSettlement",
    "SpecifiedTradeSettlementMonetarySummation",
    "SpecifiedSupplyChainTradeSettlement/SpecifiedTradeSettlementMonetarySummation/LineTotalAmount",
)
_SELLER, _BUYER, _TOTAL = (
    "AccountingSupplierParty/Party",
    "AccountingCustomerParty/Party",
    "LegalMonetaryTotal",
)
_UBL = _Paths(
    guideline="CustomizationID",
    terms={
        "BT-1": ("ID",),
        "BT-2": ("IssueDate",),
        "BT-3": ("InvoiceTypeCode", "CreditNoteTypeCode"),
        "BT-5": ("DocumentCurrencyCode",),
        "BT-9": ("DueDate", "PaymentMeans/PaymentDueDate"),
        "BT-27": (f"{_SELLER}/PartyLegalEntity/RegistrationName",),
        "BT-30": (f"{_SELLER}/PartyLegalEntity/CompanyID",),
        "BT-40": (f"{_SELLER}/PostalAddress/Country/IdentificationCode",),
        "BT-44": (f"{_BUYER}/PartyLegalEntity/RegistrationName",),
        "BT-55": (f"{_BUYER}/PostalAddress/Country/IdentificationCode",),
        "BT-84": ("PaymentMeans/PayeeFinancialAccount/ID",),
        "BT-106": (f"{_TOTAL}/LineExtensionAmount",),
        "BT-109": (f"{_TOTAL}/TaxExclusiveAmount",),
        "BT-110": ("TaxTotal/TaxAmount",),
        "BT-112": (f"{_TOTAL}/TaxInclusiveAmount",),
        "BT-113": (f"{_TOTAL}/PrepaidAmount",),
        "BT-114": (f"{_TOTAL}/PayableRoundingAmount",),
        "BT-115": (f"{_TOTAL}/PayableAmount",),
    },
    lines=("InvoiceLine", "CreditNoteLine"),
    line_amount="LineExtensionAmount",
    line_items=_UBL_LINE,
)


def _fields(root: etree._Element, paths: _Paths, *, ubl: bool) -> dict[str, str]:
    values: dict[str, str] = {}
    for term, alternatives in paths.terms.items():
        if term in ("BT-9", "BT-30", "BT-31", "BT-84", "BT-110"):
            continue
        value = next((v for v in (_text(root, p) for p in alternatives) if v), None)
        if value is not None:
            values[term] = _normalise(term, value)
    dates = (el.text.strip() for el in _all(root, paths.terms["BT-9"]) if el.text and el.text.strip())
    if due := sorted(_normalise("BT-9", d) for d in dates):  # EXTENDED may list several terms: the
        values["BT-9"] = due[0]  # earliest (a discount date) is due first
    legal = _legal_registration(_all(root, paths.terms["BT-30"]), values.get("BT-40"))
    if legal:
        values["BT-30"] = legal
    vat = _ubl_seller_vat(root) if ubl else _text(root, paths.terms["BT-31"][0])
    if vat:
        values["BT-31"] = re.sub(r"\s", "", vat).upper()
    iban = _first_iban(_all(root, paths.terms["BT-84"]))
    if iban:
        values["BT-84"] = iban
    tax = _amount_in_currency(_all(root, paths.terms["BT-110"]), values.get("BT-5"))
    if tax:
        values["BT-110"] = tax
    return values


def _normalise(term: str, value: str) -> str:
    if term in ("BT-2", "BT-9") and re.fullmatch(r"\d{8}", value):
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


def _legal_registration(elements: list[etree._Element], country: str | None) -> str | None:
    """BT-30 as written, or digits only when it is a SIREN/SIRET (scheme 0002/0009, or French)."""
    for el in elements:
        value = (el.text or "").strip()
        if not value:
            continue
        digits, scheme = compact(value), el.get("schemeID")
        french = scheme in _SIREN_SCHEMES or (scheme is None and country in (None, "FR"))
        return digits if french and digits.isdigit() and len(digits) in (9, 14) else value
    return None


def _ubl_seller_vat(root: etree._Element) -> str | None:
    for scheme in _xp(f"{_SELLER}/PartyTaxScheme")(root):
        if (_text(scheme, "TaxScheme/ID") or "").upper() == "VAT":
            return _text(scheme, "CompanyID")
    return None


def _first_iban(elements: list[etree._Element]) -> str | None:
    for el in elements:
        candidate = compact(el.text or "")
        if _IBAN_SHAPE.fullmatch(candidate):
            return candidate
    return None


def _amount_in_currency(elements: list[etree._Element], currency: str | None) -> str | None:
    """BT-110 is the tax total in the invoice currency; a second one may be in the VAT currency."""
    texts = [(el.get("currencyID"), (el.text or "").strip()) for el in elements]
    texts = [(cur, t) for cur, t in texts if t]
    for cur, t in texts:
        if cur is None or cur == currency:
            return t
    return texts[0][1] if texts else None


def _top_level(line: etree._Element, paths: _Paths) -> bool:
    """False for EXTENDED sub-lines and information lines: they are not summed."""
    if paths.line_parent and _text(line, paths.line_parent):
        return False
    return not (paths.line_status and (_text(line, paths.line_status) or "").upper() == "INFORMATION")


def _line(line: etree._Element, paths: _Paths) -> InvoiceLine:
    p = paths.line_items
    assert p is not None
    allowances: list[str] = []
    charges: list[str] = []
    for ac in _xp(p.allowance_charge)(line):
        amount = _text(ac, p.amount)
        if amount:
            (charges if (_text(ac, p.is_charge) or "").lower() == "true" else allowances).append(amount)
    return InvoiceLine(
        line_id=_text(line, p.line_id),
        quantity=next((q for q in (_text(line, path) for path in p.quantity) if q), None),
        net_price=_text(line, p.net_price),
        base_quantity=_text(line, p.base_quantity),
        allowances=tuple(allowances),
        charges=tuple(charges),
        net_amount=_text(line, paths.line_amount),
    )
