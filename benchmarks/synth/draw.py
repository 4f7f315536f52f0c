"""Drawing helpers shared by the layouts: a styled page, party blocks, line tables, totals."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from benchmarks.synth.model import spaced
from benchmarks.synth.style import Style, rate_text
from cli.sample_invoices import InvoiceData, Party, group4

WIDTH, HEIGHT = A4


@dataclass
class Page:
    """A reportlab canvas plus the document's style; y grows upwards as in PDF."""

    canvas: Canvas
    style: Style

    def text(self, x: float, y: float, s: str, *, bold: bool = False, size: float | None = None) -> None:
        f = self.style.fonts
        self.canvas.setFont(f.bold if bold else f.regular, size or self.style.size)
        self.canvas.drawString(x, y, s)

    def right(self, x: float, y: float, s: str, *, bold: bool = False, size: float | None = None) -> None:
        f = self.style.fonts
        self.canvas.setFont(f.bold if bold else f.regular, size or self.style.size)
        self.canvas.drawRightString(x, y, s)

    def lines(self, x: float, y: float, rows: list[str], *, bold_first: bool = False) -> float:
        """Rows from (x, y) downwards; returns the y below the block."""
        for i, row in enumerate(rows):
            self.text(x, y, row, bold=bold_first and i == 0)
            y -= self.style.size * 1.4
        return y

    def label(self, role: str) -> str:
        return self.style.labels[role] + self.style.colon

    def pair(self, x: float, y: float, role: str, value: str, *, above: bool = False) -> float:
        """'Label : value' on one line, or the label with the value just below; returns the next y."""
        if above:
            self.text(x, y, self.style.labels[role], bold=True, size=self.style.size - 1)
            self.text(x, y - self.style.size * 1.3, value)
            return y - self.style.size * 3
        self.text(x, y, f"{self.label(role)} {value}")
        return y - self.style.size * 1.5

    def rule(self, x1: float, y: float, x2: float) -> None:
        self.canvas.setLineWidth(0.6)
        self.canvas.line(x1, y, x2, y)


def new_page(style: Style, title: str) -> tuple[Page, io.BytesIO]:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor("dematflow synthetic benchmark")
    return Page(canvas, style), buffer


def finish(page: Page, buffer: io.BytesIO) -> bytes:
    page.canvas.showPage()
    page.canvas.save()
    return buffer.getvalue()


def siret_text(siret: str) -> str:
    return spaced(siret, groups=(3, 3, 3, 5))


def party_rows(page: Page, party: Party, *, ids: bool) -> list[str]:
    rows = [party.name, party.street, f"{party.postcode} {party.city}"]
    if ids and party.siret:
        rows.append(f"{page.label('siret')} {siret_text(party.siret)}")
    if ids and party.vat:
        rows.append(f"{page.label('vat')} {party.vat}")
    return rows


def title_of(page: Page, inv: InvoiceData) -> str:
    return page.style.labels["credit_title" if inv.type_code == "381" else "title"]


def number_role(inv: InvoiceData) -> str:
    return "credit_number" if inv.type_code == "381" else "number"


def qty_text(q: Decimal) -> str:
    return f"{q.normalize():f}".replace(".", ",")


def line_table(page: Page, inv: InvoiceData, top: float, *, x0: float = 50, grid: bool = False) -> float:
    """Description, quantity, unit price, VAT rate, net; returns the y below the table."""
    en = page.style.language == "en"
    heads = (
        ("Description", "Qty", "Unit price", "VAT", "Amount")
        if en
        else ("Désignation", "Qté", "P.U. HT", "TVA", "Montant HT")
    )
    cols = (x0, 300, 385, 440, WIDTH - 50)
    page.canvas.setFillColorRGB(0.88, 0.88, 0.88)
    page.canvas.rect(x0 - 4, top - 5, WIDTH - 50 - x0 + 8, page.style.size + 8, stroke=0, fill=1)
    page.canvas.setFillColorRGB(0, 0, 0)
    page.text(cols[0], top, heads[0], bold=True)
    for x, head in zip(cols[1:], heads[1:], strict=True):
        page.right(x, top, head, bold=True)
    y = top - page.style.size * 2
    for ln in inv.lines:
        page.text(cols[0], y, ln.description[:36])
        page.right(cols[1], y, qty_text(ln.quantity))
        page.right(cols[2], y, page.style.amount(ln.unit_price))
        page.right(cols[3], y, rate_text(ln.vat_rate))
        page.right(cols[4], y, page.style.amount(ln.net))
        if grid:
            page.rule(x0 - 4, y - 5, WIDTH - 46)
        y -= page.style.size * 1.8
    page.rule(x0 - 4, y + page.style.size, WIDTH - 46)
    return y - 6


def vat_rows(page: Page, inv: InvoiceData) -> list[tuple[str, Decimal]]:
    """One VAT row per rate when there are several, else the single 'TVA' total."""
    breakdown = inv.vat_breakdown()
    if len(breakdown) == 1:
        return [(page.label("total_tva") + f" {rate_text(breakdown[0][0])}", inv.tax_total)]
    rows = [
        (f"{page.style.labels['total_tva']} {rate_text(rate)}{page.style.colon}", tax)
        for rate, _, tax in breakdown
    ]
    return [*rows, (page.label("total_tva"), inv.tax_total)]


def totals_stacked(page: Page, inv: InvoiceData, top: float, *, x: float = 340) -> float:
    rows = [
        (page.label("total_ht"), inv.line_total),
        *vat_rows(page, inv),
        (page.label("total_ttc"), inv.grand_total),
    ]
    y = top
    for i, (label, amount) in enumerate(rows):
        last = i == len(rows) - 1
        page.text(x, y, label, bold=last)
        page.right(WIDTH - 50, y, page.style.amount(amount), bold=last)
        y -= page.style.size * 1.7
    return y


def totals_grid(page: Page, inv: InvoiceData, top: float) -> float:
    """A VAT breakdown table (base, rate, VAT) then a boxed totals grid."""
    en = page.style.language == "en"
    heads = ("VAT rate", "Taxable base", "VAT") if en else ("Taux", "Base HT", "Montant TVA")
    xs = (60, 200, 300)
    for x, h in zip(xs, heads, strict=True):
        page.text(x, top, h, bold=True)
    y = top - page.style.size * 1.6
    for rate, basis, tax in inv.vat_breakdown():
        page.text(xs[0], y, rate_text(rate))
        page.text(xs[1], y, page.style.amount(basis))
        page.text(xs[2], y, page.style.amount(tax))
        y -= page.style.size * 1.5
    box_top = top + page.style.size + 2
    rows = [("total_ht", inv.line_total), ("total_tva", inv.tax_total), ("total_ttc", inv.grand_total)]
    page.canvas.setLineWidth(0.8)
    page.canvas.rect(
        380, box_top - 3 * page.style.size * 1.9 - 4, WIDTH - 50 - 380, 3 * page.style.size * 1.9 + 2
    )
    ty = top
    for role, amount in rows:
        page.text(386, ty, page.style.labels[role], bold=role == "total_ttc")
        page.right(WIDTH - 56, ty, page.style.amount(amount), bold=role == "total_ttc")
        ty -= page.style.size * 1.9
    return min(y, ty) - 10


def bank_line(page: Page, inv: InvoiceData) -> str:
    return f"{page.label('iban')} {group4(inv.iban)}   BIC{page.style.colon} {inv.bic}"


def legal_footer(page: Page, inv: InvoiceData, *, y: float = 60) -> None:
    """Legal mentions in small grey type at the foot of the page."""
    s = inv.seller
    page.canvas.setFillColorRGB(0.35, 0.35, 0.35)
    parts = [f"{s.name} — {s.street}, {s.postcode} {s.city}"]
    ids = f"{page.label('siret')} {siret_text(s.siret or '')} — RCS {s.city} {siret_text(s.siret or '')[:11]}"
    parts.append(ids + (f" — {page.label('vat')} {s.vat}" if s.vat else ""))
    for i, row in enumerate(parts):
        page.text(50, y - i * 10, row, size=7.5)
    page.canvas.setFillColorRGB(0, 0, 0)
