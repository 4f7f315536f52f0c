"""Ground truth of the demo invoices in EN 16931 terms: valid identifiers, totals, CII XML."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree
from stdnum import iban as _iban
from stdnum import luhn

from builders.cii import EN16931, GUIDELINES, build_cii
from builders.cii import date102 as _date102
from builders.cii import element as _el

CENT = Decimal("0.01")
GUIDELINE_EN16931 = GUIDELINES[EN16931]


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Party:
    """A seller or buyer: name, postal address, SIRET and French VAT number."""

    name: str
    street: str
    postcode: str
    city: str
    siret: str | None = None
    vat: str | None = None
    country: str = "FR"


@dataclass(frozen=True)
class Line:
    """An invoice line: quantity × unit price (without VAT) at a VAT rate in percent."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal = Decimal("20")
    unit: str = "C62"  # UN/ECE rec. 20 "one"

    @property
    def net(self) -> Decimal:
        """BT-131, the line net amount."""
        return _money(self.quantity * self.unit_price)


@dataclass(frozen=True)
class InvoiceData:
    """The ground truth of one invoice, in EN 16931 terms."""

    number: str  # BT-1
    issue_date: date  # BT-2
    due_date: date  # BT-9
    seller: Party  # BT-27, BT-30, BT-31
    buyer: Party  # BT-44
    lines: tuple[Line, ...]
    iban: str  # BT-84, without spaces
    bic: str  # BT-86
    bank: str
    currency: str = "EUR"  # BT-5
    type_code: str = "380"  # BT-3
    payment_terms: str = "Paiement à 30 jours par virement"

    @property
    def line_total(self) -> Decimal:
        """BT-106 (and BT-109: there are no document-level charges or allowances)."""
        return sum((line.net for line in self.lines), Decimal("0.00"))

    def vat_breakdown(self) -> tuple[tuple[Decimal, Decimal, Decimal], ...]:
        """(rate, taxable amount BT-116, VAT amount BT-117) per rate, highest rate first."""
        rates = sorted({line.vat_rate for line in self.lines}, reverse=True)
        out = []
        for rate in rates:
            basis = sum((ln.net for ln in self.lines if ln.vat_rate == rate), Decimal("0.00"))
            out.append((rate, basis, _money(basis * rate / 100)))
        return tuple(out)

    @property
    def tax_total(self) -> Decimal:
        """BT-110."""
        return sum((tax for _, _, tax in self.vat_breakdown()), Decimal("0.00"))

    @property
    def grand_total(self) -> Decimal:
        """BT-112 (= BT-115: nothing prepaid)."""
        return self.line_total + self.tax_total

    def expected_fields(self) -> dict[str, str]:
        """The fields `extract --json` should report, in its contract forms."""
        fields = {
            "BT-1": self.number,
            "BT-2": self.issue_date.isoformat(),
            "BT-3": self.type_code,
            "BT-5": self.currency,
            "BT-9": self.due_date.isoformat(),
            "BT-27": self.seller.name,
            "BT-44": self.buyer.name,
            "BT-84": self.iban,
            "BT-109": f"{self.line_total:.2f}",
            "BT-110": f"{self.tax_total:.2f}",
            "BT-112": f"{self.grand_total:.2f}",
            "BT-115": f"{self.grand_total:.2f}",
        }
        if self.seller.siret:
            fields["BT-30"] = self.seller.siret
        if self.seller.vat:
            fields["BT-31"] = self.seller.vat
        return fields


# --- valid fictitious identifiers -----------------------------------------------------------------


def fake_siret(rng: random.Random) -> str:
    """A SIRET whose SIREN and SIRET both pass Luhn (never La Poste's SIREN)."""
    body = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(7))
    siren = body + luhn.calc_check_digit(body)
    nic = f"{rng.randint(1, 999):04d}"
    return siren + nic + luhn.calc_check_digit(siren + nic)


def french_vat(siret_or_siren: str) -> str:
    """FR + key + SIREN, key = (12 + 3 × (SIREN mod 97)) mod 97."""
    siren = siret_or_siren[:9]
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


def fake_french_iban(rng: random.Random, *, bank_code: str) -> str:
    """A French IBAN with a valid RIB key and valid mod-97 check digits."""
    branch = f"{rng.randint(0, 99999):05d}"
    account = "".join(str(rng.randint(0, 9)) for _ in range(11))
    rib_key = 97 - (89 * int(bank_code) + 15 * int(branch) + 3 * int(account)) % 97
    bban = f"{bank_code}{branch}{account}{rib_key:02d}"
    return f"FR{_iban.calc_check_digits('FR00' + bban)}{bban}"


def group4(value: str) -> str:
    """'FR7630004…' → 'FR76 3000 4…' as IBANs are printed."""
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def fr_amount(value: Decimal) -> str:
    """1234.5 → '1 234,50' (French grouping, decimal comma)."""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",")


def fr_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def demo_invoices(*, seed: int = 7) -> tuple[InvoiceData, InvoiceData, InvoiceData]:
    """The three invoices of the demo set: two from a stationer, one from a garage (scanned)."""
    rng = random.Random(seed)
    papeterie_siret = fake_siret(rng)
    papeterie = Party(
        "Papeterie Martin SARL",
        "14 rue des Lilas",
        "35000",
        "Rennes",
        papeterie_siret,
        french_vat(papeterie_siret),
    )
    mairie_siret = fake_siret(rng)
    mairie = Party("Mairie de Saint-Aubin", "1 place de la Mairie", "35250", "Saint-Aubin",
                   mairie_siret)  # fmt: skip
    college = Party("Collège Jules Ferry", "8 avenue de la République", "35250", "Saint-Aubin",
                    fake_siret(rng))  # fmt: skip
    garage_siret = fake_siret(rng)
    garage = Party(
        "Garage Lefèvre et Fils",
        "27 route de Brest",
        "35740",
        "Pacé",
        garage_siret,
        french_vat(garage_siret),
    )
    papeterie_iban = fake_french_iban(rng, bank_code="30004")
    garage_iban = fake_french_iban(rng, bank_code="10278")
    d = Decimal
    first = InvoiceData(
        number="FA-2026-0142",
        issue_date=date(2026, 3, 12),
        due_date=date(2026, 4, 11),
        seller=papeterie,
        buyer=mairie,
        lines=(
            Line("Ramettes papier A4 80 g (carton de 5)", d("12"), d("24.90")),
            Line("Classeurs à levier dos 80 mm", d("40"), d("3.45")),
            Line("Stylos bille bleus (boîte de 50)", d("6"), d("18.50")),
            Line("Frais de livraison", d("1"), d("15.00")),
        ),
        iban=papeterie_iban,
        bic="BNPAFRPPXXX",
        bank="BNP Paribas, agence Rennes République",
    )
    second = InvoiceData(
        number="FA-2026-0143",
        issue_date=date(2026, 3, 19),
        due_date=date(2026, 4, 18),
        seller=papeterie,
        buyer=college,
        lines=(
            Line("Cahiers grand format 96 pages", d("150"), d("1.85")),
            Line("Feutres effaçables (lot de 4)", d("25"), d("6.40")),
            Line("Agrafeuse de bureau", d("3"), d("21.90")),
        ),
        iban=papeterie_iban,
        bic="BNPAFRPPXXX",
        bank="BNP Paribas, agence Rennes République",
    )
    third = InvoiceData(
        number="2026-031",
        issue_date=date(2026, 3, 5),
        due_date=date(2026, 4, 4),
        seller=garage,
        buyer=mairie,
        lines=(
            Line("Révision véhicule utilitaire AB-123-CD", d("1"), d("189.00")),
            Line("Pneumatiques 195/65 R15", d("4"), d("86.50")),
            Line("Main d'oeuvre (heures)", d("2.5"), d("62.00")),
        ),
        iban=garage_iban,
        bic="CMCIFR2AXXX",
        bank="Crédit Mutuel de Bretagne, agence Pacé",
    )
    return first, second, third


# --- EN 16931 CII XML ----------------------------------------------------------------------------


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    el = _el(parent, tag)
    _el(el, "ram:Name", party.name)
    if party.siret:
        _el(_el(el, "ram:SpecifiedLegalOrganization"), "ram:ID", party.siret, schemeID="0009")
    address = _el(el, "ram:PostalTradeAddress")
    _el(address, "ram:PostcodeCode", party.postcode)
    _el(address, "ram:LineOne", party.street)
    _el(address, "ram:CityName", party.city)
    _el(address, "ram:CountryID", party.country)
    if party.vat:
        _el(_el(el, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat, schemeID="VA")


def _line_item(parent: etree._Element, number: int, line: Line) -> None:
    item = _el(parent, "ram:IncludedSupplyChainTradeLineItem")
    _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(number))
    _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
    agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
    _el(_el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", f"{line.unit_price}")
    delivery = _el(item, "ram:SpecifiedLineTradeDelivery")
    _el(delivery, "ram:BilledQuantity", f"{line.quantity}", unitCode=line.unit)
    settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:CategoryCode", "S")
    _el(tax, "ram:RateApplicablePercent", f"{line.vat_rate:.2f}")
    summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _el(summation, "ram:LineTotalAmount", f"{line.net:.2f}")


def _settlement(parent: etree._Element, inv: InvoiceData) -> None:
    settlement = _el(parent, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:PaymentReference", inv.number)
    _el(settlement, "ram:InvoiceCurrencyCode", inv.currency)
    means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    _el(means, "ram:TypeCode", "58")  # SEPA credit transfer
    _el(_el(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", inv.iban)
    _el(_el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", inv.bic)
    for rate, basis, amount in inv.vat_breakdown():
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:CalculatedAmount", f"{amount:.2f}")
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:BasisAmount", f"{basis:.2f}")
        _el(tax, "ram:CategoryCode", "S")
        _el(tax, "ram:RateApplicablePercent", f"{rate:.2f}")
    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    _el(terms, "ram:Description", inv.payment_terms)
    _date102(terms, "ram:DueDateDateTime", inv.due_date)
    totals = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(totals, "ram:LineTotalAmount", f"{inv.line_total:.2f}")
    _el(totals, "ram:TaxBasisTotalAmount", f"{inv.line_total:.2f}")
    _el(totals, "ram:TaxTotalAmount", f"{inv.tax_total:.2f}", currencyID=inv.currency)
    _el(totals, "ram:GrandTotalAmount", f"{inv.grand_total:.2f}")
    _el(totals, "ram:DuePayableAmount", f"{inv.grand_total:.2f}")


# The French CTC rules (BR-FR) ask for legal notes, a billing mode and electronic addresses.
LEGAL_NOTES = {
    "PMT": "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 €.",
    "PMD": "Pénalités de retard : trois fois le taux d'intérêt légal.",
    "AAB": "Pas d'escompte pour paiement anticipé.",
}


def cii_xml(inv: InvoiceData) -> bytes:
    """The invoice as an EN 16931 CrossIndustryInvoice that passes EN 16931 and BR-FR, built by the
    same builder that turns captured invoices into Factur-X."""
    fields = inv.expected_fields()
    fields |= {
        "BT-23": "B1",  # billing mode: goods
        "BT-34": fields["BT-30"][:9], "BT-34-1": "0225",  # electronic addresses by SIREN
        "BT-49": (inv.buyer.siret or "")[:9], "BT-49-1": "0225",
    }  # fmt: skip
    lines = [
        {"BT-153": li.description, "BT-129": str(li.quantity), "BT-146": str(li.unit_price),
         "BT-152": str(li.vat_rate), "BT-130": li.unit}
        for li in inv.lines
    ]  # fmt: skip
    built = build_cii(fields, lines=lines, notes=LEGAL_NOTES)
    assert built.profile == "EN16931", built.missing_for_en16931
    return built.xml
