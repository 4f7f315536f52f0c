"""OCR regression set: three varied invoices rendered, lightly degraded, read and checked field by field."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from extractors.capture import OcrOptions, capture_images
from extractors.fields import extract_fields

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# (lines of (x, text), expected fields) — French labels left/right, English, values beside or below
INVOICES = [
    (
        [(150, "Papeterie Garnier SARL"), (150, "76 chemin des Vignes 44000 Nantes"),
         (150, "SIRET : 327 350 989 01039"), (150, "TVA intracommunautaire : FR50 327 350 989"),
         (1300, "Facture N° FA-2026-0142"), (1300, "Date d'émission : 27/07/2025"),
         (1300, "Échéance : 26 août 2025"), (150, "Facturé à : Mairie de Lyon"),
         (150, "Total HT          3 948,70 €"), (150, "TVA 20 %          789,74 €"),
         (150, "Total TTC         4 738,44 €")],
        {"BT-1": "FA-2026-0142", "BT-2": "2025-07-27", "BT-9": "2025-08-26", "BT-30": "32735098901039",
         "BT-31": "FR50327350989", "BT-109": "3948.70", "BT-110": "789.74", "BT-112": "4738.44"},
    ),
    (
        [(150, "Globex Ltd"), (150, "INVOICE"), (150, "Invoice #: INV-7781"),
         (150, "Invoice date: March 12, 2026"), (150, "Due date: 12/04/2026"),
         (150, "Subtotal: €1,000.00"), (150, "VAT amount: €200.00"), (150, "Amount due: €1,200.00"),
         (150, "IBAN: FR76 3000 6000 0112 3456 7890 189")],
        {"BT-1": "INV-7781", "BT-2": "2026-03-12", "BT-9": "2026-04-12",
         "BT-84": "FR7630006000011234567890189", "BT-109": "1000.00", "BT-110": "200.00",
         "BT-112": "1200.00", "BT-115": "1200.00"},
    ),
    (
        [(150, "Garage Guérin SARL"), (150, "N° SIRET : 469 824 452 05516"),
         (150, "Numéro de facture : F-2026-1763"), (150, "Date : 28.01.2026"),
         (150, "Montant HT : 5 312,76 EUR"), (150, "TVA 10 % : 531,28 EUR"),
         (150, "Net à payer : 5 844,04 EUR")],
        {"BT-1": "F-2026-1763", "BT-2": "2026-01-28", "BT-30": "46982445205516",
         "BT-109": "5312.76", "BT-110": "531.28", "BT-112": "5844.04", "BT-115": "5844.04"},
    ),
]  # fmt: skip


def _scan(lines: list[tuple[int, str]], seed: int) -> bytes:
    """A 300-dpi A4 page, rotated by a degree, blurred a little and speckled."""
    page = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), 40) if FONT.exists() else ImageFont.load_default(size=40)
    y = 200
    for x, text in lines:
        draw.text((x, y), text, font=font, fill=0)
        y += 90
    page = page.rotate(1.0 + seed * 0.3, resample=Image.Resampling.BILINEAR, fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(0.6))
    rng = np.random.default_rng(seed)
    noisy = np.asarray(page, dtype=np.int16) + rng.normal(0, 12, (3508, 2480))
    buf = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(buf, format="PNG", dpi=(300, 300))
    return buf.getvalue()


@pytest.mark.parametrize("index", range(len(INVOICES)))
def test_ocr_regression(index: int) -> None:
    lines, expected = INVOICES[index]
    fields = extract_fields(capture_images(_scan(lines, index), ocr=OcrOptions()).pages)
    got = {k: fields.values.get(k) for k in expected}
    assert got == expected
    assert all(fields.confidence[k] >= 0.8 for k in ("BT-112", "BT-109") if k in expected)
