"""Render demo documents: a French invoice PDF, its Factur-X twin, a RIB, a noisy skewed scan."""

from __future__ import annotations

import io
import logging
from typing import Literal

import numpy as np
from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from cli.sample_invoices import InvoiceData, Party, cii_xml, fr_amount, fr_date, group4
from dematflow.errors import ToolFailed

log = logging.getLogger(__name__)

WIDTH, HEIGHT = A4
MARGIN = 50.0
GREY = (0.35, 0.35, 0.35)


def _canvas(buffer: io.BytesIO, title: str) -> Canvas:
    # invariant=1: no creation date nor random document id, so the bytes depend only on the input.
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor("dematflow demo")
    return canvas


def _text_block(canvas: Canvas, x: float, y: float, lines: list[str], *, size: float = 10) -> float:
    """Draw lines from (x, y) downwards; returns the y below the block."""
    canvas.setFont("Helvetica", size)
    for line in lines:
        canvas.drawString(x, y, line)
        y -= size * 1.35
    return y


def _spaced_siret(siret: str) -> str:
    return f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"


def _seller_block(canvas: Canvas, seller: Party) -> None:
    canvas.setFont("Helvetica-Bold", 15)
    canvas.drawString(MARGIN, HEIGHT - 60, seller.name)
    lines = [seller.street, f"{seller.postcode} {seller.city}"]
    if seller.siret:
        lines.append(f"SIRET : {_spaced_siret(seller.siret)}")
    if seller.vat:
        lines.append(f"TVA intracommunautaire : {seller.vat}")
    _text_block(canvas, MARGIN, HEIGHT - 80, lines)


def _header_block(canvas: Canvas, inv: InvoiceData) -> None:
    x = WIDTH - MARGIN - 210
    canvas.setFont("Helvetica-Bold", 20)
    canvas.drawString(x, HEIGHT - 60, "FACTURE")
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(x, HEIGHT - 82, f"Facture N° {inv.number}")
    _text_block(
        canvas,
        x,
        HEIGHT - 98,
        [
            f"Date de facture : {fr_date(inv.issue_date)}",
            f"Date d'échéance : {fr_date(inv.due_date)}",
        ],
    )
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(x, HEIGHT - 150, "Facturé à")
    buyer = inv.buyer
    lines = [buyer.name, buyer.street, f"{buyer.postcode} {buyer.city}"]
    if buyer.siret:
        lines.append(f"SIRET : {_spaced_siret(buyer.siret)}")
    _text_block(canvas, x, HEIGHT - 166, lines)


COLUMNS = ((MARGIN, "Désignation"), (300, "Qté"), (345, "Prix unit. HT"), (425, "TVA"),
           (470, "Montant HT"))  # fmt: skip


def _lines_table(canvas: Canvas, inv: InvoiceData, top: float) -> float:
    canvas.setFillColorRGB(0.9, 0.9, 0.9)
    canvas.rect(MARGIN - 4, top - 6, WIDTH - 2 * MARGIN + 8, 20, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setFont("Helvetica-Bold", 10)
    for x, label in COLUMNS:
        canvas.drawString(x, top, label)
    y = top - 24
    canvas.setFont("Helvetica", 10)
    for line in inv.lines:
        qty = f"{line.quantity.normalize():f}".replace(".", ",")
        canvas.drawString(MARGIN, y, line.description)
        canvas.drawRightString(325, y, qty)
        canvas.drawRightString(410, y, f"{fr_amount(line.unit_price)} €")
        canvas.drawRightString(455, y, f"{line.vat_rate.normalize():f} %")
        canvas.drawRightString(WIDTH - MARGIN, y, f"{fr_amount(line.net)} €")
        y -= 18
    canvas.line(MARGIN - 4, y + 8, WIDTH - MARGIN + 4, y + 8)
    return y - 14


def _totals(canvas: Canvas, inv: InvoiceData, top: float) -> float:
    rows = [("Total HT", inv.line_total)]
    rows += [(f"TVA {rate.normalize():f} %", tax) for rate, _, tax in inv.vat_breakdown()]
    rows += [("Total TTC", inv.grand_total), ("Net à payer", inv.grand_total)]
    y = top
    for label, amount in rows:
        bold = label in ("Total TTC", "Net à payer")
        canvas.setFont("Helvetica-Bold" if bold else "Helvetica", 11)
        canvas.drawString(360, y, label)
        canvas.drawRightString(WIDTH - MARGIN, y, f"{fr_amount(amount)} €")
        y -= 18
    return y


def _footer(canvas: Canvas, inv: InvoiceData, top: float) -> None:
    _text_block(
        canvas,
        MARGIN,
        top,
        [
            f"Conditions de paiement : {inv.payment_terms}, échéance le {fr_date(inv.due_date)}.",
            "Pénalités de retard : trois fois le taux d'intérêt légal. Indemnité forfaitaire",
            "pour frais de recouvrement : 40 €. Pas d'escompte pour paiement anticipé.",
        ],
        size=9,
    )
    canvas.setFillColorRGB(*GREY)
    _text_block(
        canvas,
        MARGIN,
        95,
        [
            f"Règlement par virement — {inv.bank}",
            f"IBAN : {group4(inv.iban)}    BIC : {inv.bic}",
            f"{inv.seller.name} — RCS Rennes {_spaced_siret(inv.seller.siret or '')[:11]}",
        ],
        size=9,
    )
    canvas.setFillColorRGB(0, 0, 0)


def invoice_pdf(inv: InvoiceData) -> bytes:
    """A one-page, real-looking French invoice with a text layer (reportlab)."""
    buffer = io.BytesIO()
    canvas = _canvas(buffer, f"Facture {inv.number}")
    _seller_block(canvas, inv.seller)
    _header_block(canvas, inv)
    y = _lines_table(canvas, inv, HEIGHT - 270)
    y = _totals(canvas, inv, y - 10)
    _footer(canvas, inv, y - 30)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def facturx_pdf(inv: InvoiceData) -> bytes:
    """The invoice PDF with its EN 16931 CII XML embedded as factur-x.xml (XSD-checked)."""
    from facturx import generate_from_binary

    try:
        out = generate_from_binary(
            invoice_pdf(inv), cii_xml(inv), flavor="factur-x", level="en16931", check_xsd=True
        )
    except Exception as exc:  # the factur-x library raises bare Exception
        raise ToolFailed(f"factur-x could not embed the XML of {inv.number}: {exc}") from exc
    return bytes(out)


def bank_details_pdf(inv: InvoiceData) -> bytes:
    """A "Relevé d'identité bancaire" of the invoice's seller: holder, bank, IBAN, BIC."""
    buffer = io.BytesIO()
    canvas = _canvas(buffer, "Relevé d'identité bancaire")
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(MARGIN, HEIGHT - 70, "RELEVÉ D'IDENTITÉ BANCAIRE")
    seller, bban = inv.seller, inv.iban[4:]
    y = _text_block(
        canvas,
        MARGIN,
        HEIGHT - 110,
        ["Titulaire du compte :", f"    {seller.name}", f"    {seller.street}",
         f"    {seller.postcode} {seller.city}", "", "Domiciliation :", f"    {inv.bank}"],
        size=11,
    )  # fmt: skip
    canvas.setFont("Helvetica-Bold", 10)
    fields = (("Code banque", bban[:5]), ("Code guichet", bban[5:10]),
              ("N° de compte", bban[10:21]), ("Clé RIB", bban[21:]))  # fmt: skip
    for i, (label, value) in enumerate(fields):
        canvas.setFont("Helvetica-Bold", 10)
        canvas.drawString(MARGIN + i * 120, y - 10, label)
        canvas.setFont("Helvetica", 11)
        canvas.drawString(MARGIN + i * 120, y - 28, value)
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(MARGIN, y - 70, f"IBAN : {group4(inv.iban)}")
    canvas.drawString(MARGIN, y - 90, f"BIC : {inv.bic}")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def scan_of(
    pdf: bytes,
    *,
    dpi: int = 300,
    skew_degrees: float = 2.0,
    noise: float = 0.04,
    seed: int = 0,
    image_format: Literal["png", "tiff"] = "png",
) -> bytes:
    """Page 1 as a scanner would deliver it: grey, skewed, noisy, slightly blurred; DPI recorded."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        image = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        page.close()
    finally:
        document.close()
    image = image.rotate(skew_degrees, resample=Image.Resampling.BICUBIC, fillcolor=255)
    image = image.filter(ImageFilter.GaussianBlur(radius=0.6 * dpi / 300))
    rng = np.random.default_rng(seed)
    pixels = np.asarray(image, dtype=np.float32)
    pixels += rng.standard_normal(pixels.shape, dtype=np.float32) * (noise * 255)
    specks = rng.random(pixels.shape, dtype=np.float32)
    pixels[specks < noise / 40] = 0.0
    pixels[specks > 1 - noise / 40] = 255.0
    noisy = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L")
    out = io.BytesIO()
    if image_format == "png":
        noisy.save(out, format="PNG", dpi=(dpi, dpi), compress_level=1)
    else:
        noisy.save(out, format="TIFF", dpi=(dpi, dpi), compression="tiff_deflate")
    log.debug("scan rendered at %d dpi, skew %.2f°", dpi, skew_degrees)
    return out.getvalue()


def truncated(pdf: bytes) -> bytes:
    """The first half of a PDF (no xref, no trailer): what an interrupted transfer leaves."""
    return pdf[: len(pdf) // 2]
