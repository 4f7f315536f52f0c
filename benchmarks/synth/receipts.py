"""Synthetic till receipts (tickets de caisse) with ground truth: seller (BT-27), date (BT-2), paid total
(BT-112). Tuned styles and held-out styles (other wordings, date forms and layouts, never tuned on)."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from benchmarks.synth.degrade import QUALITIES, Scan, degrade_pixels, encode, render
from benchmarks.synth.model import CITIES, STREETS, SURNAMES, SynthDoc, spaced
from benchmarks.synth.receipt_words import ITEMS, SHOPS, WORDS, Words, date_text, money
from benchmarks.synth.style import font_choices
from cli.sample_invoices import fake_siret, french_vat

LANGUAGES = ("fr",) * 14 + ("en", "de", "es", "it")
STYLES = ("supermarche", "boulangerie", "restaurant", "station")
HELDOUT_STYLES = ("pharmacie", "kiosque")
RECEIPT_LEVELS = ("digital", "clean", "photo")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Item:
    label: str
    qty: int
    unit: Decimal
    rate: Decimal

    @property
    def amount(self) -> Decimal:
        return (self.unit * self.qty).quantize(CENT)


@dataclass(frozen=True)
class Sale:
    """What was sold and how it was paid; ``total`` is the amount paid (BT-112)."""

    shop: str
    items: tuple[Item, ...]
    discount: Decimal
    when: datetime
    cash: bool
    tendered: Decimal

    @property
    def subtotal(self) -> Decimal:
        return sum((i.amount for i in self.items), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount

    def vat(self) -> list[tuple[Decimal, Decimal, Decimal, Decimal]]:
        """(rate, base, vat, gross) per rate, the discount taken from the first rate's gross."""
        out, left = [], self.discount
        for rate in sorted({i.rate for i in self.items}):
            gross = sum((i.amount for i in self.items if i.rate == rate), Decimal(0)) - left
            left = Decimal(0)
            base = (gross / (1 + rate / 100)).quantize(CENT, ROUND_HALF_UP)
            out.append((rate, base, gross - base, gross))
        return out


def _sale(rng: random.Random, style: str, shop: str) -> Sale:
    pool = ITEMS[style]
    items = tuple(
        Item(label, rng.choice((1, 1, 1, 2, 3)), Decimal(rng.randint(lo, hi)) / 100, Decimal(rate))
        for label, lo, hi, rate in rng.sample(pool, k=min(len(pool), rng.randint(2, 7)))
    )
    sub = sum((i.amount for i in items), Decimal(0))
    discount = (sub * Decimal(rng.choice((5, 10))) / 100).quantize(CENT) if rng.random() < 0.3 else Decimal(0)
    total = sub - discount
    cash = rng.random() < 0.4
    tendered = Decimal(next(n for n in (5, 10, 20, 50, 100, 200, 500) if n > total)) if cash else total
    when = datetime(2025, 1, 2, 8) + timedelta(days=rng.randint(0, 560), minutes=rng.randint(0, 660))
    return Sale(shop, items, discount, when, cash, tendered)


class Slip:
    """Rows drawn top-down on a narrow page whose height is known once every row is in."""

    def __init__(self, width: float, fonts: tuple[str, str], size: float) -> None:
        self.width, self.fonts, self.size = width, fonts, size
        self.rows: list[tuple[str, str, str, bool, float]] = []  # (align, left, right, bold, size)

    def centre(self, text: str, *, bold: bool = False, scale: float = 1.0) -> None:
        self.rows.append(("c", text, "", bold, self.size * scale))

    def pair(self, left: str, right: str = "", *, bold: bool = False, scale: float = 1.0) -> None:
        """Left and right on one row, or the right part on the row below when both do not fit."""
        size, font = self.size * scale, self.fonts[bold]
        room = self.width - 2 * self.margin - 2 * size
        if right and stringWidth(left, font, size) + stringWidth(right, font, size) > room:
            self.rows.append(("p", left, "", bold, size))
            left = ""
        self.rows.append(("p", left, right, bold, size))

    @property
    def margin(self) -> float:
        return 5 * mm if self.width > 70 * mm else 3 * mm

    def rule(self) -> None:
        self.rows.append(("r", "", "", False, self.size))

    def pdf(self, title: str) -> bytes:
        height = 30 + sum(size * 1.45 for *_, size in self.rows)
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=(self.width, height), invariant=1, pageCompression=1)
        canvas.setTitle(title)
        y, margin = height - 18, self.margin
        for align, left, right, bold, size in self.rows:
            y -= size * 1.45 - self.size
            canvas.setFont(self.fonts[bold], size)
            if align == "c":
                canvas.drawCentredString(self.width / 2, y, left)
            elif align == "r":
                canvas.setDash(2, 2)
                canvas.line(margin, y + size / 3, self.width - margin, y + size / 3)
            else:
                canvas.drawString(margin, y, left)
                canvas.drawRightString(self.width - margin, y, right)
            y -= self.size
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()


def _header(slip: Slip, sale: Sale, w: Words, rng: random.Random, lang: str, *, heldout: bool) -> None:
    slip.centre(sale.shop, bold=True, scale=rng.choice((1.0, 1.3, 1.6)))
    postcode, city = rng.choice(CITIES)
    slip.centre(f"{rng.randint(1, 120)} {rng.choice(STREETS)}")
    slip.centre(f"{postcode} {city.upper() if rng.random() < 0.5 else city}")
    slip.centre(f"Tel 0{rng.randint(1, 5)} " + " ".join(str(rng.randint(10, 99)) for _ in range(4)))
    slip.rule()
    ticket = f"{rng.choice(w.ticket)} {rng.randint(1, 9999):04d}"
    slip.pair(ticket, f"{rng.choice(w.till)} {rng.randint(1, 12)}")
    slip.pair(date_text(sale.when, rng, lang, heldout=heldout))
    if rng.random() < 0.6:
        slip.pair(f"{rng.choice(w.cashier)}: {rng.choice(('Julie', 'Marc', 'Sofia', 'Karim', 'Anna'))}")
    slip.rule()


def _items(slip: Slip, sale: Sale, w: Words, amount: money, rng: random.Random) -> None:
    for item in sale.items:
        if item.qty > 1:
            slip.pair(item.label)
            slip.pair(f"  {item.qty} x {amount(item.unit)}", amount(item.amount))
        else:
            slip.pair(item.label, amount(item.amount))
    slip.rule()
    if sale.discount or rng.random() < 0.5:
        slip.pair(rng.choice(w.subtotal), amount(sale.subtotal))
    if sale.discount:
        slip.pair(rng.choice(w.discount), "-" + amount(sale.discount))


def _payment(slip: Slip, sale: Sale, w: Words, amount: money, rng: random.Random) -> None:
    if sale.cash:
        slip.pair(rng.choice(w.cash), amount(sale.tendered))
        slip.pair(rng.choice(w.change), amount(sale.tendered - sale.total))
    else:
        slip.pair(rng.choice(w.card), amount(sale.total))


def _vat_table(slip: Slip, sale: Sale, w: Words, amount: money, lang: str) -> None:
    slip.pair(f"{w.vat} {w.rate}  {w.base}", f"{w.vat}  {w.gross}")
    for rate, base, vat, gross in sale.vat():
        shown = f"{rate.normalize():f}".replace(".", "." if lang == "en" else ",")
        slip.pair(f"{shown}%  {amount(base)}", f"{amount(vat)}  {amount(gross)}")


def _footer(slip: Slip, sale: Sale, w: Words, rng: random.Random, lang: str) -> None:
    slip.rule()
    slip.centre(f"{w.articles} {sum(i.qty for i in sale.items)}")
    slip.centre(rng.choice(w.thanks))
    if lang == "fr":
        siret = fake_siret(rng)
        slip.centre(f"SIRET {spaced(siret, groups=(3, 3, 3, 5))}", scale=0.85)
        slip.centre(f"TVA {french_vat(siret)}", scale=0.85)
    else:
        slip.centre(f"{w.vat_id} {rng.randint(10**8, 10**9 - 1)}", scale=0.85)
    if not sale.cash and rng.random() < 0.5:  # the card terminal's slip printed below
        slip.rule()
        slip.centre(rng.choice(w.card_slip))
        slip.pair(f"TPE {rng.randint(100000, 999999)}", f"AUTO {rng.randint(100000, 999999)}")
        slip.pair(w.amount_word, f"{sale.total:.2f} EUR".replace(".", "," if lang != "en" else "."))


def _draw(sale: Sale, style: str, lang: str, rng: random.Random, *, heldout: bool) -> bytes:
    w = WORDS[(lang, heldout)]
    fonts = rng.choice(font_choices())
    width = rng.choice((58, 80)) * mm
    slip = Slip(width, (fonts.regular, fonts.bold), rng.choice((7.5, 8.0, 8.5)) if width < 70 * mm else 9.0)
    amount = rng.choice(w.amounts)
    _header(slip, sale, w, rng, lang, heldout=heldout)
    _items(slip, sale, w, amount, rng)
    total = (rng.choice(w.total), amount(sale.total))
    if style == "kiosque":  # held out: the total's amount on the line below its label
        slip.pair(total[0], bold=True)
        slip.pair("", total[1], bold=True, scale=1.3)
    elif style == "pharmacie":  # held out: VAT breakdown first, the total last
        _vat_table(slip, sale, w, amount, lang)
        slip.pair(*total, bold=True, scale=1.3)
    else:
        slip.pair(*total, bold=True, scale=rng.choice((1.0, 1.3)))
    slip.rule()
    _payment(slip, sale, w, amount, rng)
    if style != "pharmacie" and rng.random() < 0.7:
        slip.rule()
        _vat_table(slip, sale, w, amount, lang)
    _footer(slip, sale, w, rng, lang)
    return slip.pdf(f"ticket {sale.shop}")


def receipt_doc(*, seed: int | str, style: str | None = None, language: str | None = None) -> SynthDoc:
    """A till receipt in ``style`` (a tuned one at random when None); truth: BT-27, BT-2, BT-112."""
    rng = random.Random(f"receipt:{seed}")
    kind = style or rng.choice(STYLES)
    heldout = kind in HELDOUT_STYLES
    lang = language or rng.choice(LANGUAGES)
    if heldout and lang not in ("fr", "en"):  # held-out wordings exist in French and English
        lang = "fr"
    shop = rng.choice(SHOPS[lang][kind]).format(name=rng.choice(SURNAMES))
    shop = shop.upper() if rng.random() < 0.5 else shop
    sale = _sale(rng, kind, shop)
    pdf = _draw(sale, kind, lang, rng, heldout=heldout)
    expected = {"BT-27": shop, "BT-2": sale.when.date().isoformat(), "BT-112": f"{sale.total:.2f}"}
    return SynthDoc(f"ticket-{kind}-{seed}", "receipt", kind, lang, pdf, expected)


def photo(pdf: bytes, *, rng: random.Random) -> Scan:
    """A phone photo of the slip: perspective, tilt, uneven light, noise, JPEG."""
    import cv2

    dpi = rng.choice((200, 250, 300))
    pixels = render(pdf, dpi=dpi)
    pad = int(0.04 * pixels.shape[1])
    canvas = np.pad(pixels, pad, constant_values=235)
    ch, cw = canvas.shape
    shift = [(rng.uniform(-0.02, 0.02) * cw, rng.uniform(-0.01, 0.01) * ch) for _ in range(4)]
    corners = [(0.0, 0.0), (float(cw), 0.0), (float(cw), float(ch)), (0.0, float(ch))]
    src = np.array(corners, dtype=np.float32)
    dst = np.array(
        [(x + dx, y + dy) for (x, y), (dx, dy) in zip(corners, shift, strict=True)], dtype=np.float32
    )
    warped = cv2.warpPerspective(canvas, cv2.getPerspectiveTransform(src, dst), (cw, ch), borderValue=235)
    light = np.linspace(rng.uniform(0.78, 0.92), 1.0, ch, dtype=np.float32)[:, None]
    lit = np.clip(warped.astype(np.float32) * (light if rng.random() < 0.5 else light[::-1]), 0, 255)
    q = QUALITIES["office"]
    out, skew, _ = degrade_pixels(lit.astype(np.uint8), type(q)(dpi=(dpi, dpi), skew=3.0, noise=8.0,
                                  blur=0.5, jpeg=70, upside_down=0.0), dpi=dpi, rng=rng)  # fmt: skip
    data, ext = encode(out, dpi=dpi, jpeg=rng.choice((60, 70, 80)))
    return Scan(data=data, extension=ext, dpi=dpi, skew=skew, upside_down=False)


def receipt_scan(pdf: bytes, *, level: str, rng: random.Random) -> Scan:
    """The slip scanned flat (``clean``) or photographed (``photo``)."""
    if level == "photo":
        return photo(pdf, rng=rng)
    q = QUALITIES[level]
    dpi = rng.choice(range(q.dpi[0], q.dpi[1] + 1, 25))
    out, skew, flipped = degrade_pixels(render(pdf, dpi=dpi), q, dpi=dpi, rng=rng)
    data, ext = encode(out, dpi=dpi, jpeg=q.jpeg)
    return Scan(data=data, extension=ext, dpi=dpi, skew=skew, upside_down=flipped)
