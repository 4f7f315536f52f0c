"""OCR capture end to end with the real tesseract: a skewed noisy scan, PDFs, and broken inputs."""

from __future__ import annotations

import io
import re
import subprocess
import time
from pathlib import Path

import img2pdf
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from dematflow.errors import CorruptInput, OversizedInput, ToolFailed
from extractors import imageprep, pdftext, tesseract
from extractors.capture import Capture, OcrOptions, capture_images, capture_pdf
from extractors.fields import extract_fields
from extractors.images import image_dpi, load_images
from extractors.results import Source
from pipeline.stages.classify import text_layers
from signing.textlayer import add_text_layer
from signing.wrap import wrap_images_as_pdf

LINES = [
    ("ACME Fournitures SARL", 0),
    ("12 rue des Lilas, 75011 Paris", 0),
    ("SIRET : 732 829 320 00074", 0),
    ("TVA intracommunautaire : FR44 732 829 320", 0),
    ("FACTURE", 0),
    ("Facture n° FA-2026-0042", 0),
    ("Date de facture : 12/03/2026", 0),
    ("Date d'échéance : 11/04/2026", 0),
    ("Facturé à : Mairie de Lyon", 0),
    ("Total HT", 0),
    ("TVA 20 %", 0),
    ("Total TTC", 0),
    ("IBAN : FR76 3000 6000 0112 3456 7890 189", 0),
]
AMOUNTS = {"Total HT": "2 000,00 €", "TVA 20 %": "400,00 €", "Total TTC": "2 400,00 €"}
FONTS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if FONTS.exists():
        return ImageFont.truetype(str(FONTS), size)
    return ImageFont.load_default(size=size)


def scanned_invoice(angle: float = 2.5, seed: int = 7) -> Image.Image:
    """A 300-dpi A4 page of a French invoice, rotated and speckled like a cheap scan."""
    page = Image.new("L", (2480, 3508), 255)
    draw, font = ImageDraw.Draw(page), _font(42)
    y = 200
    for text, _ in LINES:
        draw.text((220, y), text, font=font, fill=0)
        if text in AMOUNTS:
            draw.text((1500, y), AMOUNTS[text], font=font, fill=0)
        y += 95
    page = page.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=255, expand=False)
    pixels = np.asarray(page, dtype=np.int16)
    rng = np.random.default_rng(seed)
    noisy = pixels + rng.normal(0, 18, pixels.shape)
    salt = rng.random(pixels.shape)
    noisy[salt < 0.002] = 0
    noisy[salt > 0.998] = 255
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def _png(img: Image.Image, dpi: int = 300) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", dpi=(dpi, dpi))
    return buf.getvalue()


@pytest.fixture(scope="module")
def scan_png() -> bytes:
    return _png(scanned_invoice())


def test_probe_reports_a_version() -> None:
    assert tesseract.probe().startswith("5.")


def test_skewed_noisy_scan_gives_the_key_fields(scan_png: bytes) -> None:
    # Given a scan rotated by 2.5° with noise, When it is captured and its fields extracted
    started = time.perf_counter()
    capture = capture_images(scan_png, ocr=OcrOptions())
    seconds = time.perf_counter() - started
    fields = extract_fields(capture.pages)
    # Then the fields come out right and the timing is reported
    print(f"\nOCR capture: {seconds:.2f} s for 1 scanned 300-dpi page")
    assert capture.source is Source.OCR and "tesseract" in capture.tools
    v = fields.values
    assert v["BT-1"] == "FA-2026-0042"
    assert v["BT-2"] == "2026-03-12" and v["BT-9"] == "2026-04-11"
    assert v["BT-31"] == "FR44732829320"
    assert v["BT-30"] == "73282932000074"
    assert v["BT-84"] == "FR7630006000011234567890189"
    assert (v["BT-109"], v["BT-110"], v["BT-112"]) == ("2000.00", "400.00", "2400.00")
    assert v["BT-44"] == "Mairie de Lyon"
    assert v["BT-27"] == "ACME Fournitures SARL"
    assert fields.confidence["BT-112"] > 0.8


def test_prepare_deskews_a_copy_only(scan_png: bytes) -> None:
    image = load_images(scan_png, max_pages=1, max_pixels=10**8)[0]
    before = image.copy()
    started = time.perf_counter()
    prepared = imageprep.prepare_for_ocr(image)
    elapsed = time.perf_counter() - started
    assert np.array_equal(image, before)
    # PIL rotates counter-clockwise by +2.5°: the correction is about -2.5°.
    assert prepared.skew_degrees == pytest.approx(-2.5, abs=0.3)
    assert any(step.startswith("deskew") for step in prepared.steps)
    assert elapsed < 1.0  # budget 0.3 s on an idle core; slack for loaded CI machines


def test_digital_pdf_uses_the_text_layer() -> None:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    y = 780.0
    for text, _ in LINES:
        c.drawString(60, y, text)
        if text in AMOUNTS:
            c.drawString(380, y, AMOUNTS[text])
        y -= 22
    c.save()
    capture = capture_pdf(buf.getvalue(), ocr=OcrOptions())
    assert capture.source is Source.PDF_TEXT and "tesseract" not in capture.tools
    v = extract_fields(capture.pages).values
    assert v["BT-1"] == "FA-2026-0042" and v["BT-112"] == "2400.00"
    assert v["BT-31"] == "FR44732829320" and v["BT-109"] == "2000.00"


def test_image_only_pdf_goes_through_ocr() -> None:
    small = scanned_invoice(angle=-1.5).resize((1240, 1754))  # 150 dpi inside the PDF
    pdf = img2pdf.convert(_png(small, dpi=150))
    capture = capture_pdf(pdf, ocr=OcrOptions(dpi=300))
    assert capture.source is Source.OCR
    v = extract_fields(capture.pages).values
    assert v["BT-1"] == "FA-2026-0042" and v["BT-112"] == "2400.00"


def test_corrupt_pdf_raises_corrupt_input() -> None:
    with pytest.raises(CorruptInput):
        capture_pdf(b"%PDF-1.7\n1 0 obj <</Type /Catalog>> garbage", ocr=OcrOptions())


def test_truncated_png_raises_corrupt_input(scan_png: bytes) -> None:
    with pytest.raises(CorruptInput):
        capture_images(scan_png[: len(scan_png) // 2], ocr=OcrOptions())


def test_image_limits_checked_before_decoding(scan_png: bytes) -> None:
    with pytest.raises(OversizedInput):
        load_images(scan_png, max_pages=5, max_pixels=1_000_000)
    assert image_dpi(scan_png) == pytest.approx(300, abs=1)


def test_multipage_tiff_gives_one_array_per_page() -> None:
    frames = [Image.new("L", (300, 200), 255), Image.new("RGB", (200, 300), "white")]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:])
    pages = load_images(buf.getvalue(), max_pages=5, max_pixels=10**6)
    assert [p.shape[:2] for p in pages] == [(200, 300), (300, 200)]
    with pytest.raises(OversizedInput):
        load_images(buf.getvalue(), max_pages=1, max_pixels=10**6)


def test_tesseract_failure_becomes_tool_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Fault injection: the one run() wrapper times out.
    def hang(args: list[str], *, timeout: float) -> None:
        raise ToolFailed(f"tesseract timed out after {timeout:.0f} s")

    monkeypatch.setattr(tesseract, "run", hang)
    with pytest.raises(ToolFailed):
        tesseract.ocr_page(np.full((50, 50), 255, np.uint8), page_number=1, timeout=1)


def test_password_protected_pdf_raises_encrypted_input() -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption

    from dematflow.errors import EncryptedInput

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=StandardEncryption("secret", canPrint=0))
    c.drawString(100, 700, "Facture n° 1")
    c.save()
    with pytest.raises(EncryptedInput):
        capture_pdf(buf.getvalue(), ocr=OcrOptions())


def test_jpeg_exif_orientation_is_applied() -> None:
    photo = Image.new("RGB", (400, 200), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buf = io.BytesIO()
    photo.save(buf, format="JPEG", exif=exif)
    (page,) = load_images(buf.getvalue(), max_pages=1, max_pixels=10**6)
    assert page.shape[:2] == (400, 200)


def test_mixed_pdf_ocrs_only_the_scanned_page() -> None:
    text_pdf = io.BytesIO()
    c = canvas.Canvas(text_pdf, pagesize=A4)
    c.drawString(60, 780, "Conditions générales de vente applicables à toutes nos factures.")
    c.save()
    import pypdfium2 as pdfium

    scan = img2pdf.convert(_png(scanned_invoice(angle=1.0).resize((1240, 1754)), dpi=150))
    merged = pdfium.PdfDocument(text_pdf.getvalue())
    merged.import_pages(pdfium.PdfDocument(scan))
    out = io.BytesIO()
    merged.save(out)
    capture = capture_pdf(out.getvalue(), ocr=OcrOptions())
    assert capture.source is Source.OCR
    assert [p.source for p in capture.pages] == [Source.PDF_TEXT, Source.OCR]
    assert extract_fields(capture.pages).values["BT-112"] == "2400.00"
    # The searchable copy is the PDF itself plus a revision giving the scanned page a text layer.
    assert set(capture.to_page) == {2}
    searchable = add_text_layer(out.getvalue(), text_layers(capture))
    assert searchable.startswith(out.getvalue())
    layer = pdftext.read_pdf_text(searchable, max_pages=5)
    assert "Conditions générales" in layer[0].text and "FA-2026-0042" in layer[1].text


# --- orientation, resolution, searchable PDF, page parallelism ------------------------------------


def _tiff(pages: list[Image.Image], dpi: int = 300) -> bytes:
    buf = io.BytesIO()
    pages[0].save(
        buf, format="TIFF", save_all=True, append_images=pages[1:], dpi=(dpi, dpi), compression="tiff_lzw"
    )
    return buf.getvalue()


def _top_half(angle: float = 1.0) -> Image.Image:
    """The text part of the test invoice (a shorter page reads faster and keeps enough text for OSD)."""
    return scanned_invoice(angle=angle).crop((0, 0, 2480, 1650))


@pytest.fixture(scope="module")
def turned_tiff() -> bytes:
    # Page 1 upright, page 2 upside down (scanner feed), pages 3 and 4 on their sides (PIL turns CCW).
    page = _top_half()
    return _tiff([page, page.rotate(180), page.rotate(90, expand=True), page.rotate(270, expand=True)])


@pytest.fixture(scope="module")
def turned_capture(turned_tiff: bytes) -> Capture:
    started = time.perf_counter()
    capture = capture_images(turned_tiff, ocr=OcrOptions(jobs=2))
    print(f"\n4 pages (3 turned) with jobs=2: {time.perf_counter() - started:.2f} s")
    return capture


def test_turned_pages_come_back_upright_and_are_read(turned_capture: Capture) -> None:
    # Given a TIFF whose pages 2-4 are turned (180°, 90° and 270° counter-clockwise), When captured,
    # Then each page is turned back clockwise and read.
    steps = turned_capture.preparation
    assert not any(s.startswith("orient") for s in steps[1])
    assert "orient(180)" in steps[2] and "orient(90)" in steps[3] and "orient(270)" in steps[4]
    for page in turned_capture.pages:
        assert "FA-2026-0042" in page.text, page.number
        assert page.mean_conf > 0.8


def _centre_shown(pdf: bytes, number: int, word: str, tmp_path: Path) -> tuple[float, float]:
    """Where a viewer shows ``word`` on page ``number``: rendered by poppler and read by tesseract."""
    path = tmp_path / "page"
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "150",
            "-gray",
            "-f",
            str(number),
            "-l",
            str(number),
            "-singlefile",
            "-",
            str(path),
        ],
        input=pdf,
        check=True,
        timeout=60,
    )
    page = tesseract.ocr_page(np.asarray(Image.open(f"{path}.pgm")), page_number=number, dpi=150)
    (hit,) = [w for w in page.words if word in w.text]
    return (hit.x0 + hit.x1) / 2 * 72 / 150, (hit.top + hit.bottom) / 2 * 72 / 150


def _centre_in_layer(pdf: bytes, number: int, word: str) -> tuple[float, float]:
    """Where the invisible text layer puts ``word`` on page ``number`` (poppler's -bbox, points)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(number), "-l", str(number), "-", "-"],
        input=pdf,
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout.decode()
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    (box,) = [m.groups()[:4] for m in re.finditer(pattern, out) if word in m.group(5)]
    x0, y0, x1, y1 = (float(v) for v in box)
    return (x0 + x1) / 2, (y0 + y1) / 2


def test_text_layer_lies_on_the_printed_words_of_each_turned_page(
    turned_tiff: bytes, turned_capture: Capture, tmp_path: Path
) -> None:
    # Given the kept pages wrapped as they were scanned (three of them turned), When the words read on
    # the upright working copies are laid back on them, Then a viewer finds each word where it is
    # printed. Page 1 is read again from poppler's rendering; the others are the same page turned.
    rendition = add_text_layer(wrap_images_as_pdf(turned_tiff), text_layers(turned_capture))
    assert pdftext.pdf_page_count(rendition) == 4
    x, y = _centre_shown(rendition, 1, "FA-2026-0042", tmp_path)
    w, h = 2480 * 72 / 300, 1650 * 72 / 300  # page 1 in points
    printed = {1: (x, y), 2: (w - x, h - y), 3: (y, w - x), 4: (h - y, x)}  # 180°, 90° and 270° CCW
    for number, (px, py) in printed.items():
        lx, ly = _centre_in_layer(rendition, number, "FA-2026-0042")
        assert abs(px - lx) < 2 and abs(py - ly) < 2, (number, (px, py), (lx, ly))


def test_one_process_gives_the_same_result_as_two(turned_tiff: bytes, turned_capture: Capture) -> None:
    alone = capture_images(turned_tiff, ocr=OcrOptions(jobs=1))
    assert alone.pages == turned_capture.pages
    assert alone.preparation == turned_capture.preparation and alone.to_page == turned_capture.to_page


def test_150_dpi_page_is_upscaled_and_read() -> None:
    small = _top_half(angle=-1.0).resize((1240, 825))
    capture = capture_images(_png(small, dpi=150), ocr=OcrOptions(jobs=1))
    assert "scale(150->300dpi)" in capture.preparation[1]
    assert "FA-2026-0042" in capture.text and "2 400,00" in capture.text


def test_one_tesseract_run_for_several_pages_reads_each_as_alone() -> None:
    # Pages read by one run (the models load once) give the same words and boxes as one run each.
    first, second = (np.asarray(_top_half(angle=a).convert("L")) for a in (1.0, -1.0))
    together = tesseract.ocr_pages([first, second], page_numbers=[3, 4], dpi=300)
    alone = [
        tesseract.ocr_page(first, page_number=3, dpi=300),
        tesseract.ocr_page(second, page_number=4, dpi=300),
    ]
    assert together == alone and [p.number for p in together] == [3, 4]
    assert "FA-2026-0042" in together[1].text
