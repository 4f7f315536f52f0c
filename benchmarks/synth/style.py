"""How a synthetic document is written: language, label wordings, fonts, date and amount forms."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")

MOIS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# role -> wordings; the extractor must know all of them (or learn to generalise).
LABELS_FR: dict[str, tuple[str, ...]] = {
    "number": (
        "Facture n°",
        "N° facture",
        "Numéro de facture",
        "Réf. facture",
        "Facture N°",
        "N° de facture",
    ),
    "credit_number": ("Avoir n°", "N° d'avoir", "Numéro d'avoir", "Avoir N°"),
    "issue_date": ("Date", "Date de facture", "Date d'émission", "Émise le", "Date facture"),
    "due_date": ("Échéance", "Date d'échéance", "À régler avant le", "Date limite de paiement"),
    "total_ht": ("Total HT", "Montant HT", "Sous-total HT", "Total hors taxes"),
    "total_tva": ("TVA", "T.V.A.", "Montant TVA", "Total TVA"),
    "total_ttc": ("Total TTC", "Montant TTC", "Total à payer", "Net à payer"),
    "siret": ("SIRET", "N° SIRET", "Siret"),
    "vat": ("TVA intracommunautaire", "N° TVA intracom.", "TVA intra", "N° de TVA"),
    "iban": ("IBAN", "Compte IBAN", "IBAN du compte"),
    "buyer": ("Facturé à", "Client", "Destinataire", "Adressé à"),
    "title": ("FACTURE", "Facture", "FACTURE ORIGINALE"),
    "credit_title": ("AVOIR", "Avoir", "FACTURE D'AVOIR"),
}
LABELS_EN: dict[str, tuple[str, ...]] = {
    "number": ("Invoice No", "Invoice number", "Invoice #"),
    "credit_number": ("Credit note No", "Credit note number"),
    "issue_date": ("Invoice date", "Date", "Issue date"),
    "due_date": ("Due date", "Payment due"),
    "total_ht": ("Subtotal", "Total excl. VAT", "Net amount"),
    "total_tva": ("VAT", "VAT amount", "Total VAT"),
    "total_ttc": ("Amount due", "Total incl. VAT", "Total due"),
    "siret": ("SIRET", "Company reg. (SIRET)"),
    "vat": ("VAT number", "VAT No", "VAT ID"),
    "iban": ("IBAN",),
    "buyer": ("Bill to", "Billed to", "Customer"),
    "title": ("INVOICE", "Invoice"),
    "credit_title": ("CREDIT NOTE", "Credit note"),
}


def fr_date_numeric(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def fr_date_long(d: date) -> str:
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {MOIS[d.month - 1]} {d.year}"


def iso_date(d: date) -> str:
    return d.isoformat()


def dotted_date(d: date) -> str:
    return d.strftime("%d.%m.%Y")


def en_date_long(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def _grouped(value: Decimal, sep: str, dec: str) -> str:
    return f"{value:,.2f}".replace(",", "\x00").replace(".", dec).replace("\x00", sep)


def amount_fr_space(v: Decimal) -> str:
    return _grouped(v, " ", ",") + " €"


def amount_fr_dot(v: Decimal) -> str:
    return _grouped(v, ".", ",")


def amount_en(v: Decimal) -> str:
    return "€" + _grouped(v, ",", ".")


def amount_eur(v: Decimal) -> str:
    return f"{v:.2f}".replace(".", ",") + " EUR"


DATE_FORMS_FR: tuple[Callable[[date], str], ...] = (fr_date_numeric, fr_date_long, iso_date, dotted_date)
DATE_FORMS_EN: tuple[Callable[[date], str], ...] = (iso_date, en_date_long)
AMOUNT_FORMS_FR: tuple[Callable[[Decimal], str], ...] = (amount_fr_space, amount_fr_dot, amount_eur)
AMOUNT_FORMS_EN: tuple[Callable[[Decimal], str], ...] = (amount_en, amount_eur)


@dataclass(frozen=True)
class Fonts:
    """A regular and a bold face registered with reportlab."""

    regular: str
    bold: str


@functools.cache
def _dejavu_fonts() -> tuple[Fonts, ...]:
    """DejaVu Sans and Serif, registered once when the TTF files exist on this machine."""
    out = []
    for family in ("DejaVuSans", "DejaVuSerif"):
        regular, bold = DEJAVU / f"{family}.ttf", DEJAVU / f"{family}-Bold.ttf"
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont(family, str(regular)))
            pdfmetrics.registerFont(TTFont(f"{family}-Bold", str(bold)))
            out.append(Fonts(family, f"{family}-Bold"))
    return tuple(out)


def font_choices() -> tuple[Fonts, ...]:
    builtin = (
        Fonts("Helvetica", "Helvetica-Bold"),
        Fonts("Times-Roman", "Times-Bold"),
        Fonts("Courier", "Courier-Bold"),
    )
    return builtin + _dejavu_fonts()


@dataclass(frozen=True)
class Style:
    """One document's writing choices, drawn from a seeded random generator."""

    language: str  # "fr" or "en"
    labels: dict[str, str]
    fonts: Fonts
    date: Callable[[date], str]
    amount: Callable[[Decimal], str]
    size: float  # body font size in points
    colon: str  # " :" (French typography), ":" or ""


def draw_style(
    rng: random.Random,
    *,
    language: str,
    vocab: dict[str, tuple[str, ...]],
    dates: tuple[Callable[[date], str], ...],
    amounts: tuple[Callable[[Decimal], str], ...],
    sizes: tuple[float, ...],
    colons: tuple[str, ...],
) -> Style:
    """A style drawn from these wordings and forms (English always uses ':' or nothing)."""
    return Style(
        language=language,
        labels={role: rng.choice(words) for role, words in vocab.items()},
        fonts=rng.choice(font_choices()),
        date=rng.choice(dates),
        amount=rng.choice(amounts),
        size=rng.choice(sizes),
        colon=rng.choice(colons) if language == "fr" else rng.choice((":", "")),
    )


def pick_style(rng: random.Random, *, language: str) -> Style:
    en = language == "en"
    return draw_style(
        rng,
        language=language,
        vocab=LABELS_EN if en else LABELS_FR,
        dates=DATE_FORMS_EN if en else DATE_FORMS_FR,
        amounts=AMOUNT_FORMS_EN if en else AMOUNT_FORMS_FR,
        sizes=(9.0, 9.5, 10.0, 10.5, 11.0),
        colons=(" :", ":"),
    )


def rate_text(rate: Decimal) -> str:
    """20 → '20 %', 5.5 → '5,5 %'."""
    return f"{rate.normalize():f}".replace(".", ",") + " %"
