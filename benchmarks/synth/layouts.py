"""Seven structurally different invoice / credit-note layouts; each returns the PDF and unprinted fields."""

from __future__ import annotations

import random
from collections.abc import Callable

from benchmarks.synth.draw import (
    HEIGHT,
    WIDTH,
    Page,
    bank_line,
    finish,
    legal_footer,
    line_table,
    new_page,
    number_role,
    party_rows,
    siret_text,
    title_of,
    totals_grid,
    totals_stacked,
)
from benchmarks.synth.style import Style
from cli.sample_invoices import InvoiceData

Layout = Callable[[InvoiceData, Style, random.Random], tuple[bytes, frozenset[str]]]


def _meta(page: Page, inv: InvoiceData, x: float, y: float, *, above: bool) -> float:
    y = page.pair(x, y, number_role(inv), inv.number, above=above)
    y = page.pair(x, y, "issue_date", page.style.date(inv.issue_date), above=above)
    return page.pair(x, y, "due_date", page.style.date(inv.due_date), above=above)


def classic(inv: InvoiceData, style: Style, rng: random.Random) -> tuple[bytes, frozenset[str]]:
    """Seller block top left, title and meta top right, buyer below, stacked totals."""
    page, buf = new_page(style, inv.number)
    page.text(50, HEIGHT - 60, inv.seller.name, bold=True, size=style.size + 5)
    page.lines(50, HEIGHT - 80, party_rows(page, inv.seller, ids=True)[1:])
    x = WIDTH - 250
    page.text(x, HEIGHT - 60, title_of(page, inv), bold=True, size=18)
    y = _meta(page, inv, x, HEIGHT - 85, above=False)
    page.text(x, y - 10, page.style.labels["buyer"], bold=True)
    page.lines(x, y - 10 - style.size * 1.4, party_rows(page, inv.buyer, ids=False))
    y = line_table(page, inv, HEIGHT - 290)
    y = totals_stacked(page, inv, y - 10)
    page.lines(
        50,
        y - 20,
        [inv.payment_terms if style.language == "fr" else "Payment by bank transfer", bank_line(page, inv)],
    )
    return finish(page, buf), frozenset()


def banner(inv: InvoiceData, style: Style, rng: random.Random) -> tuple[bytes, frozenset[str]]:
    """A shaded top banner with the seller; buyer left and meta right (label above value); VAT grid."""
    page, buf = new_page(style, inv.number)
    page.canvas.setFillColorRGB(0.85, 0.88, 0.93)
    page.canvas.rect(0, HEIGHT - 95, WIDTH, 95, stroke=0, fill=1)
    page.canvas.setFillColorRGB(0, 0, 0)
    page.text(50, HEIGHT - 45, inv.seller.name, bold=True, size=20)
    s = inv.seller
    page.text(50, HEIGHT - 68, f"{s.street} — {s.postcode} {s.city}")
    page.right(WIDTH - 50, HEIGHT - 45, title_of(page, inv), bold=True, size=16)
    page.text(50, HEIGHT - 130, page.style.labels["buyer"], bold=True)
    page.lines(50, HEIGHT - 146, party_rows(page, inv.buyer, ids=True))
    _meta(page, inv, WIDTH - 200, HEIGHT - 130, above=True)
    y = line_table(page, inv, HEIGHT - 300)
    y = totals_grid(page, inv, y - 16)
    page.text(50, y - 20, bank_line(page, inv))
    legal_footer(page, inv)
    return finish(page, buf), frozenset()


def right_seller(inv: InvoiceData, style: Style, rng: random.Random) -> tuple[bytes, frozenset[str]]:
    """Seller block on the right, buyer on the left, meta as a row of label-above-value cells."""
    page, buf = new_page(style, inv.number)
    x = WIDTH - 230
    page.lines(x, HEIGHT - 60, party_rows(page, inv.seller, ids=True), bold_first=True)
    page.text(50, HEIGHT - 60, title_of(page, inv), bold=True, size=22)
    page.text(50, HEIGHT - 150, page.style.labels["buyer"], bold=True)
    page.lines(50, HEIGHT - 166, party_rows(page, inv.buyer, ids=False))
    top = HEIGHT - 250
    cells = (
        (number_role(inv), inv.number),
        ("issue_date", style.date(inv.issue_date)),
        ("due_date", style.date(inv.due_date)),
    )
    for i, (role, value) in enumerate(cells):
        cx = 50 + i * 170
        page.canvas.rect(cx - 4, top - style.size * 1.8, 162, style.size * 3.2)
        page.pair(cx, top, role, value, above=True)
    y = line_table(page, inv, top - 60)
    y = totals_stacked(page, inv, y - 10, x=60)
    page.text(50, y - 20, bank_line(page, inv))
    return finish(page, buf), frozenset()


def table_heavy(inv: InvoiceData, style: Style, rng: random.Random) -> tuple[bytes, frozenset[str]]:
    """Everything in ruled grids: meta grid, line table with rules, VAT breakdown and totals boxes."""
    page, buf = new_page(style, inv.number)
    page.text(50, HEIGHT - 55, title_of(page, inv), bold=True, size=18)
    page.lines(50, HEIGHT - 80, party_rows(page, inv.seller, ids=False), bold_first=True)
    page.text(WIDTH - 230, HEIGHT - 80, page.style.labels["buyer"], bold=True)
    page.lines(WIDTH - 230, HEIGHT - 96, party_rows(page, inv.buyer, ids=False))
    top, h = HEIGHT - 190, style.size * 2.2
    grid = (
        (number_role(inv), inv.number),
        ("issue_date", style.date(inv.issue_date)),
        ("due_date", style.date(inv.due_date)),
    )
    for i, (role, value) in enumerate(grid):
        y = top - i * h
        page.canvas.rect(50, y - 6, 180, h)
        page.canvas.rect(230, y - 6, 160, h)
        page.text(56, y, style.labels[role], bold=True)
        page.text(236, y, value)
    y = line_table(page, inv, top - 3 * h - 20, grid=True)
    y = totals_grid(page, inv, y - 16)
    page.text(50, y - 20, bank_line(page, inv))
    legal_footer(page, inv)
    return finish(page, buf), frozenset()


def minimal(inv: InvoiceData, style: Style, rng: random.Random) -> tuple[bytes, frozenset[str]]:
    """A small-business note: a few one-liners, no table, no due date."""
    page, buf = new_page(style, inv.number)
    s = inv.seller
    y = page.lines(
        60,
        HEIGHT - 70,
        [s.name, f"{s.street}, {s.postcode} {s.city}", f"{page.label('siret')} {s.siret}"],
        bold_first=True,
    )
    if s.vat:
        y = page.lines(60, y, [f"{page.label('vat')} {s.vat}"])
    of = "of" if style.language == "en" else "du"
    y -= 30
    number = f"{style.labels[number_role(inv)]} {inv.number}"
    head = f"{title_of(page, inv)} — {number} {of} {style.date(inv.issue_date)}"
    page.text(60, y, head, bold=True)
    y -= 22
    to = "To" if style.language == "en" else "Pour"
    y = page.lines(60, y, [f"{to}{style.colon} {inv.buyer.name}, {inv.buyer.postcode} {inv.buyer.city}"])
    y -= 12
    for ln in inv.lines:
        page.text(60, y, f"- {ln.description}")
        page.right(WIDTH - 60, y, style.amount(ln.net))
        y -= style.size * 1.5
    y -= 12
    for role, amount in (
        ("total_ht", inv.line_total),
        ("total_tva", inv.tax_total),
        ("total_ttc", inv.grand_total),
    ):
        page.text(60, y, f"{page.label(role)} {style.amount(amount)}", bold=role == "total_ttc")
        y -= style.size * 1.6
    page.text(60, y - 20, bank_line(page, inv))
    return finish(page, buf), frozenset({"BT-9"})


def footer_legal(inv: InvoiceData, style: Style, rng: random.Random) -> tuple[bytes, frozenset[str]]:
    """Seller name only at the top; all legal identifiers and the IBAN in the footer."""
    page, buf = new_page(style, inv.number)
    page.text(50, HEIGHT - 60, inv.seller.name, bold=True, size=16)
    page.text(50, HEIGHT - 100, title_of(page, inv), bold=True, size=14)
    _meta(page, inv, 50, HEIGHT - 125, above=True)
    page.text(WIDTH - 240, HEIGHT - 125, page.style.labels["buyer"], bold=True)
    page.lines(WIDTH - 240, HEIGHT - 141, party_rows(page, inv.buyer, ids=True))
    y = line_table(page, inv, HEIGHT - 300)
    totals_stacked(page, inv, y - 10)
    page.canvas.setFillColorRGB(0.35, 0.35, 0.35)
    page.text(50, 80, bank_line(page, inv), size=8)
    page.canvas.setFillColorRGB(0, 0, 0)
    legal_footer(page, inv, y=66)
    return finish(page, buf), frozenset()


def two_columns(inv: InvoiceData, style: Style, rng: random.Random) -> tuple[bytes, frozenset[str]]:
    """Two boxed header columns (issuer / customer), then one meta line separated by bars."""
    page, buf = new_page(style, inv.number)
    en = style.language == "en"
    page.text(50, HEIGHT - 50, title_of(page, inv), bold=True, size=16)
    for x, head, p, ids in (
        (50, "From" if en else "Émetteur", inv.seller, True),
        (WIDTH / 2 + 5, style.labels["buyer"], inv.buyer, False),
    ):
        page.canvas.rect(x - 5, HEIGHT - 175, WIDTH / 2 - 55, 105)
        page.text(x, HEIGHT - 85, head, bold=True)
        page.lines(x, HEIGHT - 101, party_rows(page, p, ids=ids))
    meta = " | ".join(
        f"{page.label(role)} {value}"
        for role, value in (
            (number_role(inv), inv.number),
            ("issue_date", style.date(inv.issue_date)),
            ("due_date", style.date(inv.due_date)),
        )
    )
    page.text(50, HEIGHT - 200, meta)
    y = line_table(page, inv, HEIGHT - 240)
    y = totals_stacked(page, inv, y - 10)
    page.text(50, y - 20, bank_line(page, inv))
    page.text(50, 50, f"SIREN {siret_text(inv.seller.siret or '')[:11]}", size=7)
    return finish(page, buf), frozenset()


LAYOUTS: dict[str, Layout] = {
    "classic": classic,
    "banner": banner,
    "right_seller": right_seller,
    "table_heavy": table_heavy,
    "minimal": minimal,
    "footer_legal": footer_legal,
    "two_columns": two_columns,
}
