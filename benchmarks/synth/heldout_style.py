"""Wordings, value forms and drawing helpers of the held-out layouts (``heldout.py``)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from benchmarks.synth.draw import Page, siret_text
from benchmarks.synth.model import spaced
from benchmarks.synth.style import MONTHS, Style, draw_style, fr_date_long, fr_date_numeric, rate_text
from cli.sample_invoices import InvoiceData, group4

# Wordings absent from style.LABELS_FR / LABELS_EN, as printed by French invoicing software.
HELD_FR: dict[str, tuple[str, ...]] = {
    "number": ("Facture numéro", "Référence facture", "N° de pièce", "Facture no", "Numéro"),
    "credit_number": ("Avoir numéro", "Facture d'avoir n°", "Note de crédit n°"),
    "issue_date": ("Date de la facture", "Facturé le", "Date d'établissement", "Date de facturation"),
    "due_date": ("Échéance le", "Payable le", "Date de règlement", "À payer avant le"),
    "total_ht": ("Montant net HT", "Base HT", "Total H.T.", "Net HT"),
    "total_tva": ("TVA", "Montant T.V.A.", "Total taxes"),
    "total_ttc": ("Total T.T.C.", "Montant total TTC", "Total TTC net"),
    "due_amount": ("Net à payer TTC", "Reste à payer", "Solde dû", "Montant à régler"),
    "siret": ("Identifiant SIRET", "SIRET n°", "N° Siret"),
    "vat": ("N° d'identification TVA", "N° TVA intracommunautaire", "Identifiant TVA", "TVA intracom."),
    "iban": ("IBAN", "Code IBAN", "Coordonnées bancaires : IBAN"),
    "buyer": ("Client", "Adresse de facturation", "Doit", "Facturer à"),
    "seller": ("Fournisseur", "Vendeur", "Prestataire"),
    "title": ("FACTURE", "Facture"),
    "credit_title": ("AVOIR", "Note de crédit", "FACTURE D'AVOIR"),
}
HELD_EN: dict[str, tuple[str, ...]] = {
    "number": ("Invoice no.", "Invoice ref.", "Reference"),
    "credit_number": ("Credit memo no.", "Credit note ref."),
    "issue_date": ("Date issued", "Dated", "Invoice issued"),
    "due_date": ("Due by", "Pay by", "Payment due date"),
    "total_ht": ("Net total", "Subtotal (excl. tax)", "Amount before tax"),
    "total_tva": ("Tax", "Sales tax", "Tax total"),
    "total_ttc": ("Total", "Grand total", "Invoice total"),
    "due_amount": ("Balance due", "Amount payable", "Please pay"),
    "siret": ("SIRET no.", "Company ID (SIRET)"),
    "vat": ("Tax ID", "VAT reg. no.", "EU VAT no."),
    "iban": ("IBAN", "Bank account (IBAN)"),
    "buyer": ("Sold to", "Invoice to", "Client"),
    "seller": ("Supplier", "Vendor", "From"),
    "title": ("INVOICE", "Tax invoice"),
    "credit_title": ("CREDIT MEMO", "Credit note"),
}


def _nbsp_group(v: Decimal, sep: str, dec: str) -> str:
    return f"{v:,.2f}".replace(",", "\x00").replace(".", dec).replace("\x00", sep)


AMOUNTS_FR: tuple[Callable[[Decimal], str], ...] = (
    lambda v: _nbsp_group(v, "\xa0", ",") + "\xa0€",  # word processors group with a no-break space
    lambda v: f"{v:.2f}".replace(".", ",") + " €",  # no grouping
    lambda v: "EUR " + _nbsp_group(v, " ", ","),
    lambda v: _nbsp_group(v, " ", ","),  # no currency sign: omitted BT-5
)
AMOUNTS_EN: tuple[Callable[[Decimal], str], ...] = (
    lambda v: "EUR " + _nbsp_group(v, ",", "."),
    lambda v: _nbsp_group(v, ",", ".") + " EUR",
    lambda v: "€ " + _nbsp_group(v, ",", "."),
)
DATES_FR: tuple[Callable[[date], str], ...] = (
    lambda d: d.strftime("%d-%m-%Y"),
    lambda d: d.strftime("%d/%m/%y"),
    lambda d: fr_date_long(d).replace("1er ", "1 "),
    fr_date_numeric,
)
DATES_EN: tuple[Callable[[date], str], ...] = (
    lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    lambda d: f"{d.day:02d} {MONTHS[d.month - 1][:3]} {d.year}",
    lambda d: d.strftime("%d/%m/%Y"),
)


def held_style(rng: random.Random, *, language: str) -> Style:
    """A style drawn from the held-out wordings, date and amount forms."""
    en = language == "en"
    return draw_style(
        rng,
        language=language,
        vocab=HELD_EN if en else HELD_FR,
        dates=DATES_EN if en else DATES_FR,
        amounts=AMOUNTS_EN if en else AMOUNTS_FR,
        sizes=(8.5, 9.0, 10.0, 11.0),
        colons=(" :", ":", ""),
    )


def held_number(rng: random.Random, inv: InvoiceData) -> str:
    """Numbering schemes of other invoicing tools (year-month, short year, long counters)."""
    d, n = inv.issue_date, rng.randint(1, 99999)
    return rng.choice(
        (f"{d.year}{d.month:02d}-{n:05d}", f"F{d.year % 100}/{n:04d}", f"FA-{n:08d}", f"{d.year}.{n:04d}")
    )


def tr(page: Page, fr: str, en: str) -> str:
    return en if page.style.language == "en" else fr


def vat_id(vat: str, rng: random.Random) -> str:
    """'FR12345678901' as printed, sometimes spaced 'FR 12 345 678 901'."""
    return spaced(vat, groups=(2, 2, 3, 3, 3)) if rng.random() < 0.4 else vat


def id_rows(page: Page, inv: InvoiceData, rng: random.Random) -> list[str]:
    s, rows = inv.seller, []
    if s.siret:
        rows.append(f"{page.label('siret')} {siret_text(s.siret) if rng.random() < 0.6 else s.siret}")
    if s.vat:
        rows.append(f"{page.label('vat')} {vat_id(s.vat, rng)}")
    return rows


def phone(rng: random.Random) -> str:
    return f"0{rng.randint(1, 5)} " + " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4))


def totals_rows(page: Page, inv: InvoiceData, *, due: Decimal | None = None) -> list[tuple[str, Decimal]]:
    """HT, 'TVA (20 %)' per rate (then the VAT total), TTC, and 'Net à payer' when printed."""
    lab, colon = page.style.labels, page.style.colon
    breakdown = inv.vat_breakdown()
    rows = [(page.label("total_ht"), inv.line_total)]
    rows += [(f"{lab['total_tva']} ({rate_text(rate)}){colon}", tax) for rate, _, tax in breakdown]
    if len(breakdown) > 1:
        rows.append((tr(page, "Total TVA", "Total tax") + colon, inv.tax_total))
    rows.append((page.label("total_ttc"), inv.grand_total))
    if due is not None:
        rows.append((page.label("due_amount"), due))
    return rows


def draw_totals(page: Page, rows: list[tuple[str, Decimal]], top: float, x: float, x_amount: float) -> float:
    y = top
    for i, (label, amount) in enumerate(rows):
        last = i == len(rows) - 1
        page.text(x, y, label, bold=last)
        page.right(x_amount, y, page.style.amount(amount), bold=last)
        y -= page.style.size * 1.7
    return y


def iban_line(page: Page, inv: InvoiceData) -> str:
    return f"{page.label('iban')} {group4(inv.iban)} - BIC {inv.bic}"
