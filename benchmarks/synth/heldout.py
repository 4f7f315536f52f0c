"""Held-out invoice layouts and wordings, never used to tune the extractor: they measure generalisation.

Each layout returns the PDF and its changes to the ground truth: a new value for a field printed
differently from the model's (an amount due after a deposit), None for a field it does not print.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import numpy as np
from PIL import Image
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from benchmarks.synth.degrade import QUALITIES, Scan, degrade_pixels, encode, scan
from benchmarks.synth.draw import (
    HEIGHT,
    WIDTH,
    Page,
    finish,
    legal_footer,
    line_table,
    new_page,
    number_role,
    qty_text,
    title_of,
)
from benchmarks.synth.heldout_style import draw_totals, iban_line, id_rows, phone, totals_rows, tr
from benchmarks.synth.model import SURNAMES
from benchmarks.synth.style import Style, font_choices, rate_text
from cli.sample_invoices import InvoiceData

Truth = dict[str, str | None]
Layout = Callable[[InvoiceData, Style, random.Random], tuple[bytes, Truth]]


def two_pages(inv: InvoiceData, style: Style, rng: random.Random) -> tuple[bytes, Truth]:
    """Lines over two pages with a carried-forward subtotal; totals, due date and IBAN on page 2."""
    page, buf = new_page(style, inv.number)
    s, head = inv.seller, f"{style.labels[number_role(inv)]}{style.colon} {inv.number}"
    page.text(50, HEIGHT - 55, s.name, bold=True, size=style.size + 4)
    page.lines(50, HEIGHT - 74, [s.street, f"{s.postcode} {s.city}", f"Tél. {phone(rng)}"])
    page.text(WIDTH - 230, HEIGHT - 55, title_of(page, inv), bold=True, size=16)
    page.lines(WIDTH - 230, HEIGHT - 78, [head, f"{page.label('issue_date')} {style.date(inv.issue_date)}"])
    page.text(WIDTH - 230, HEIGHT - 130, style.labels["buyer"], bold=True)
    page.lines(
        WIDTH - 230,
        HEIGHT - 146,
        [inv.buyer.name, inv.buyer.street, f"{inv.buyer.postcode} {inv.buyer.city}"],
    )
    cut = (len(inv.lines) + 1) // 2 if len(inv.lines) > 1 else len(inv.lines)
    first, rest = replace(inv, lines=inv.lines[:cut]), replace(inv, lines=inv.lines[cut:])
    y = line_table(page, first, HEIGHT - 260)
    if rest.lines:
        page.text(300, y - 8, tr(page, "À reporter", "Carried forward") + style.colon)
        page.right(WIDTH - 50, y - 8, style.amount(first.line_total))
    page.right(WIDTH - 50, 90, tr(page, "Page 1/2 - suite au verso", "Page 1/2 - continued overleaf"), size=8)
    legal_footer(page, inv)
    page.canvas.showPage()
    page.text(50, HEIGHT - 55, f"{s.name} - {head}", size=8)
    page.right(WIDTH - 50, HEIGHT - 55, "Page 2/2", size=8)
    y = HEIGHT - 100
    if rest.lines:
        page.text(300, y, tr(page, "Report", "Brought forward") + style.colon)
        page.right(WIDTH - 50, y, style.amount(first.line_total))
        y = line_table(page, rest, y - 30)
    y = draw_totals(page, totals_rows(page, inv), y - 20, 320, WIDTH - 50)
    y = page.lines(50, y - 20, [f"{page.label('due_date')} {style.date(inv.due_date)}", iban_line(page, inv)])
    legal_footer(page, inv)
    return finish(page, buf), {}


def _cell(page: Page, x: float, y: float, w: float, h: float, label: str, rows: list[str]) -> None:
    """A ruled cell with its label in small type at the top and the value(s) below."""
    page.canvas.rect(x, y - h, w, h)
    page.text(x + 4, y - 9, label, size=7)
    page.lines(x + 4, y - 11 - page.style.size, rows)


def boxed_form(inv: InvoiceData, style: Style, rng: random.Random) -> tuple[bytes, Truth]:
    """A grid form: parties, references and totals each in a ruled cell, labels in the cells."""
    page, buf = new_page(style, inv.number)
    page.canvas.setLineWidth(0.7)
    page.text(50, HEIGHT - 50, title_of(page, inv), bold=True, size=20)
    s, b, left = inv.seller, inv.buyer, (WIDTH - 100) * 0.58  # room for a long VAT label
    seller_rows = [s.name, s.street, f"{s.postcode} {s.city}", *id_rows(page, inv, rng)]
    _cell(page, 50, HEIGHT - 70, left, 95, style.labels["seller"], seller_rows)
    buyer_rows = [b.name, b.street, f"{b.postcode} {b.city}"]
    _cell(page, 50 + left, HEIGHT - 70, WIDTH - 100 - left, 95, style.labels["buyer"], buyer_rows)
    refs = (
        (style.labels[number_role(inv)], inv.number),
        (style.labels["issue_date"], style.date(inv.issue_date)),
        (style.labels["due_date"], style.date(inv.due_date)),
        (tr(page, "N° client", "Customer no."), f"C{rng.randint(100, 99999):05d}"),
    )
    w = (WIDTH - 100) / len(refs)
    for i, (label, value) in enumerate(refs):
        _cell(page, 50 + i * w, HEIGHT - 170, w, 32, label, [value])
    y = line_table(page, inv, HEIGHT - 230, grid=True)
    cells = [(label.removesuffix(style.colon), amount) for label, amount in totals_rows(page, inv)]
    w = (WIDTH - 100) / len(cells)
    for i, (label, amount) in enumerate(cells):
        _cell(page, 50 + i * w, y - 10, w, 32, label, [style.amount(amount)])
    _cell(
        page,
        50,
        y - 56,
        WIDTH - 100,
        32,
        tr(page, "Règlement par virement", "Payment by transfer"),
        [iban_line(page, inv)],
    )
    return finish(page, buf), {}


def letter(inv: InvoiceData, style: Style, rng: random.Random) -> tuple[bytes, Truth]:
    """A business letter: window address block, 'Ville, le <date>', V/Réf. N/Réf., prose payment request."""
    page, buf = new_page(style, inv.number)
    s, b = inv.seller, inv.buyer
    page.text(50, HEIGHT - 55, s.name, bold=True, size=style.size + 5)
    page.lines(50, HEIGHT - 75, [s.street, f"{s.postcode} {s.city}", f"Tél. {phone(rng)}"])
    contact = f"{rng.choice(('M.', 'Mme'))} {rng.choice(SURNAMES).upper()}"
    block = [
        b.name,
        tr(page, "Service comptabilité fournisseurs", "Accounts payable"),
        tr(page, f"À l'attention de {contact}", f"Attn. {contact}"),
        b.street,
        f"BP {rng.randint(10, 999)}",
        f"{b.postcode} {b.city.upper()} CEDEX",
    ]
    page.lines(320, HEIGHT - 150, block)
    when = style.date(inv.issue_date)
    page.text(320, HEIGHT - 270, tr(page, f"{s.city}, le {when}", f"{s.city}, {when}"))
    order = f"BC-{inv.issue_date.year}-{rng.randint(100, 9999)}"
    refs = [
        tr(page, f"V/Réf. : commande {order}", f"Your ref.: order {order}"),
        tr(
            page,
            f"N/Réf. : dossier {rng.randint(1000, 9999)}/{s.name[:3].upper()}",
            f"Our ref.: file {rng.randint(1000, 9999)}",
        ),
        f"{tr(page, 'Objet', 'Subject')} : {style.labels[number_role(inv)]} {inv.number}",
    ]
    y = page.lines(50, HEIGHT - 300, refs)
    body = tr(page, "Madame, Monsieur,", "Dear Sir or Madam,")
    y = page.lines(
        50,
        y - 8,
        [
            body,
            tr(
                page,
                "Veuillez trouver ci-dessous le détail de nos prestations.",
                "Please find below the details of our services.",
            ),
        ],
    )
    y = line_table(page, inv, y - 14)
    y = draw_totals(page, totals_rows(page, inv), y - 10, 330, WIDTH - 50)
    due, total = style.date(inv.due_date), style.amount(inv.grand_total)
    prose = [
        tr(
            page,
            f"Nous vous remercions de bien vouloir régler la somme de {total}",
            f"Please pay the sum of {total}",
        ),
        tr(
            page,
            f"au plus tard le {due}, par virement sur notre compte :",
            f"no later than {due} by transfer to:",
        ),
        iban_line(page, inv),
        tr(page, "Nous vous prions d'agréer nos salutations distinguées.", "Yours faithfully,"),
    ]
    page.lines(50, y - 16, prose)
    legal_footer(page, inv)
    return finish(page, buf), {}


def totals_left(inv: InvoiceData, style: Style, rng: random.Random) -> tuple[bytes, Truth]:
    """Title line 'Facture numéro X du <date>', billing and delivery addresses, totals on the left."""
    page, buf = new_page(style, inv.number)
    s, b = inv.seller, inv.buyer
    page.text(WIDTH - 260, HEIGHT - 40, style.labels["seller"], bold=True, size=7)
    y = page.lines(WIDTH - 260, HEIGHT - 54, [s.name, s.street, f"{s.postcode} {s.city}"], bold_first=True)
    page.lines(WIDTH - 260, y, id_rows(page, inv, rng))
    of = tr(page, "du", "dated")
    page.text(
        50,
        HEIGHT - 140,
        f"{style.labels[number_role(inv)]} {inv.number} {of} {style.date(inv.issue_date)}",
        bold=True,
        size=style.size + 2,
    )
    page.text(50, HEIGHT - 170, style.labels["buyer"], bold=True)
    page.lines(50, HEIGHT - 186, [b.name, b.street, f"{b.postcode} {b.city}"])
    page.text(WIDTH - 260, HEIGHT - 170, tr(page, "Adresse de livraison", "Ship to"), bold=True)
    site = (
        rng.choice(("Entrepôt", "Chantier", "Site"))
        + f" {rng.randint(1, 60)} {rng.choice(('rue Pasteur', 'ZI Nord', 'avenue de la Gare'))}"
    )
    page.lines(WIDTH - 260, HEIGHT - 186, [site, f"{b.postcode} {b.city}"])
    y = line_table(page, inv, HEIGHT - 265)
    end = draw_totals(page, totals_rows(page, inv), y - 16, 50, 270)
    heads = tr(page, "Taux|Base|Montant TVA", "Rate|Base|Tax").split("|")
    for x, h in zip((330, 400, WIDTH - 50), heads, strict=True):
        page.right(x, y - 16, h, bold=True, size=8)
    ry = y - 30
    for rate, basis, tax in inv.vat_breakdown():
        for x, v in zip(
            (330, 400, WIDTH - 50), (rate_text(rate), style.amount(basis), style.amount(tax)), strict=True
        ):
            page.right(x, ry, v, size=8)
        ry -= 12
    page.lines(
        50, min(end, ry) - 16, [f"{page.label('due_date')} {style.date(inv.due_date)}", iban_line(page, inv)]
    )
    page.canvas.setFillColorRGB(0.35, 0.35, 0.35)
    page.text(50, 50, f"{s.name} - {s.street} {s.postcode} {s.city} - RCS {s.city}", size=7)
    page.canvas.setFillColorRGB(0, 0, 0)
    return finish(page, buf), {}


def distractors(inv: InvoiceData, style: Style, rng: random.Random) -> tuple[bytes, Truth]:
    """Order, delivery and customer references, phone numbers, capital, a deposit, legal conditions."""
    page, buf = new_page(style, inv.number)
    s, b, d = inv.seller, inv.buyer, inv.issue_date
    c = style.colon
    page.text(50, HEIGHT - 55, s.name, bold=True, size=style.size + 4)
    page.lines(
        50,
        HEIGHT - 73,
        [
            f"{s.street} - {s.postcode} {s.city}",
            f"Tél. {phone(rng)} - Fax {phone(rng)}",
            tr(
                page,
                f"{rng.choice(('SAS', 'SARL'))} au capital social de 10 000 €",
                "Share capital EUR 10,000",
            ),
        ],
    )
    page.text(WIDTH - 230, HEIGHT - 55, title_of(page, inv), bold=True, size=16)
    meta = [
        f"{page.label(number_role(inv))} {inv.number}",
        f"{page.label('issue_date')} {style.date(d)}",
        f"{tr(page, 'N° client', 'Customer no.')}{c} {rng.randint(10000, 99999)}",
        f"{tr(page, 'Bon de commande n°', 'Purchase order no.')}{c} BC{rng.randint(100000, 999999)}",
        f"{tr(page, 'Date de commande', 'Order date')}{c} {style.date(d - timedelta(rng.randint(5, 30)))}",
        f"{tr(page, 'Date de livraison', 'Delivery date')}{c} {style.date(d - timedelta(rng.randint(0, 4)))}",
        f"{tr(page, 'Bon de livraison n°', 'Delivery note no.')}{c} BL{rng.randint(10000, 99999)}",
    ]
    page.lines(WIDTH - 230, HEIGHT - 78, meta)
    page.text(50, HEIGHT - 140, style.labels["buyer"], bold=True)
    page.lines(50, HEIGHT - 156, [b.name, b.street, f"{b.postcode} {b.city}", f"Tél. {phone(rng)}"])
    y = line_table(page, inv, HEIGHT - 250)
    deposit = (
        (inv.grand_total * Decimal(rng.choice(("0.3", "0.5")))).quantize(Decimal("0.01"))
        if rng.random() < 0.5
        else None
    )
    rows = totals_rows(page, inv)
    truth: Truth = {"BT-5": "EUR"}  # the capital and the recovery fee are printed in euros
    if deposit is not None:
        rows.append((tr(page, "Acompte versé", "Deposit paid") + c, deposit))
        rows.append((page.label("due_amount"), inv.grand_total - deposit))
        truth["BT-115"] = f"{inv.grand_total - deposit:.2f}"
    y = draw_totals(page, rows, y - 10, 320, WIDTH - 50)
    terms = [
        f"{page.label('due_date')} {style.date(inv.due_date)}",
        tr(page, "Conditions de règlement : 30 jours fin de mois", "Payment terms: 30 days end of month"),
        tr(page, "Escompte pour paiement anticipé : néant", "No discount for early payment"),
        tr(
            page,
            "Pénalités de retard : 3 fois le taux d'intérêt légal",
            "Late payment interest: 3 times the legal rate",
        ),
        tr(page, "Indemnité forfaitaire pour frais de recouvrement : 40 €", "Fixed recovery fee: EUR 40"),
        iban_line(page, inv),
    ]
    page.lines(50, y - 14, terms)
    page.canvas.setFillColorRGB(0.35, 0.35, 0.35)
    ids = " - ".join(id_rows(page, inv, rng))
    page.text(50, 60, f"Code APE {rng.randint(1000, 9999)}Z - RCS {s.city} - {ids}", size=7)
    page.canvas.setFillColorRGB(0, 0, 0)
    return finish(page, buf), truth


def receipt(inv: InvoiceData, style: Style, rng: random.Random) -> tuple[bytes, Truth]:
    """A till-roll invoice 80 mm wide: items as 'qty x price', no due date, no IBAN (paid on receipt)."""
    width, height = 80 * mm, 250 + 26 * len(inv.lines) + 16 * len(inv.vat_breakdown())
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(width, height), invariant=1, pageCompression=1)
    page = Page(canvas, replace(style, size=8.0, fonts=font_choices()[2]))  # a till's monospace
    s, y = inv.seller, height - 20.0
    for row in (s.name, s.street, f"{s.postcode} {s.city}", f"Tél. {phone(rng)}", *id_rows(page, inv, rng)):
        canvas.setFont(page.style.fonts.regular, 7 if len(row) > 40 else 8)
        canvas.drawCentredString(width / 2, y, row)
        y -= 10
    y -= 6
    page.text(8, y, f"{title_of(page, inv).upper()} {style.labels[number_role(inv)]} {inv.number}", bold=True)
    y = (
        page.lines(
            8,
            y - 12,
            [
                f"{style.date(inv.issue_date)} {rng.randint(8, 19):02d}:{rng.randint(0, 59):02d}",
                f"{page.label('buyer')} {inv.buyer.name}",
            ],
        )
        - 4
    )
    for ln in inv.lines:
        page.text(8, y, ln.description[:34])
        page.text(16, y - 10, f"{qty_text(ln.quantity)} x {style.amount(ln.unit_price)}")
        page.right(width - 8, y - 10, style.amount(ln.net))
        y -= 26
    page.rule(8, y + 8, width - 8)
    for label, amount in totals_rows(page, inv):
        page.text(8, y, label.upper())
        page.right(width - 8, y, style.amount(amount))
        y -= 12
    page.lines(
        8,
        y - 8,
        [
            tr(page, "Paiement à réception", "Payable on receipt"),
            tr(page, "Merci de votre visite", "Thank you"),
        ],
    )
    return finish(page, buf), {"BT-9": None, "BT-84": None}


HELDOUT_LAYOUTS: dict[str, Layout] = {
    "boxed_form": boxed_form,
    "distractors": distractors,
    "letter": letter,
    "receipt": receipt,
    "totals_left": totals_left,
    "two_pages": two_pages,
}


def page_count(pdf: bytes) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


def _render_all(pdf: bytes, *, dpi: int) -> list[np.ndarray]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return [
            np.asarray(p.render(scale=dpi / 72, grayscale=True).to_pil().convert("L"), dtype=np.uint8)
            for p in document
        ]
    finally:
        document.close()


def scan_pages(pdf: bytes, *, level: str, rng: random.Random) -> Scan:
    """Like degrade.scan, but every page of a multi-page PDF, delivered as a multi-page TIFF."""
    if page_count(pdf) == 1:
        return scan(pdf, level=level, rng=rng)
    q = QUALITIES[level]
    dpi = rng.choice(range(q.dpi[0], q.dpi[1] + 1, 25))
    frames, skews, flips = [], [], []
    for pixels in _render_all(pdf, dpi=dpi):
        out, skew, flipped = degrade_pixels(pixels, q, dpi=dpi, rng=rng)
        if q.jpeg is not None:  # the JPEG artefacts of the scanner, kept in a lossless container
            data, _ = encode(out, dpi=dpi, jpeg=q.jpeg)
            out = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
        frames.append(Image.fromarray(out, mode="L"))
        skews.append(skew)
        flips.append(flipped)
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        format="TIFF",
        save_all=True,
        append_images=frames[1:],
        dpi=(dpi, dpi),
        compression="tiff_deflate",
    )
    return Scan(data=buffer.getvalue(), extension="tif", dpi=dpi, skew=skews[0], upside_down=any(flips))
