"""Separator sheets: the QR payload they carry, and finding them among the pages of a scanned batch.

A sheet's QR code reads ``DEMATFLOW-SEP:1``, optionally followed by a space and a JSON object of
what the mailroom says of the document after it (class, site, batch). Only the scanned pages (no
text layer, or one that names dematflow) of a multi-page file are looked at, rendered at a low
resolution: ~60 dpi is plenty for a QR code printed 9 cm wide, and far cheaper than OCR's 300 dpi.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from dematflow.errors import CorruptInput, InvalidRequest
from extractors.pdftext import PDFIUM_LOCK

log = logging.getLogger(__name__)

PREFIX = "DEMATFLOW-SEP:1"
DETECT_DPI = 60
MIN_TEXT_CHARS = 20  # a page with fewer characters in its text layer is a scan
MAX_SHEET_CHARS = 800  # a page with more text is no sheet: its text is not even read
MAX_META = 10
_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")


def payload(meta: Mapping[str, str] | None = None) -> str:
    """The text of a separator sheet's QR code."""
    meta = dict(meta or {})
    check_meta(meta)
    return f"{PREFIX} {json.dumps(meta, ensure_ascii=False, sort_keys=True)}" if meta else PREFIX


def check_meta(meta: Mapping[str, str]) -> None:
    if len(meta) > MAX_META:
        raise InvalidRequest(f"au plus {MAX_META} métadonnées sur une feuille de séparation")
    for key, value in meta.items():
        if not _KEY.fullmatch(key) or len(value) > 200:
            message = f"métadonnée invalide : {key!r} (clé en minuscules, valeur de 200 signes au plus)"
            raise InvalidRequest(message)


def parse(text: str) -> dict[str, str] | None:
    """The metadata of a separator payload (empty if none), or None when the text is no separator's."""
    if text == PREFIX:
        return {}
    head, _, rest = text.partition(" ")
    if head != PREFIX:
        return None
    try:
        meta: Any = json.loads(rest)
    except ValueError:
        return {}  # a separator whose metadata cannot be read still separates
    if not isinstance(meta, dict):
        return {}
    return {k: v for k, v in meta.items() if isinstance(v, str) and _KEY.fullmatch(k)}


def read_qr(image: np.ndarray) -> str | None:
    """The text of the QR code on a page image, if there is one that decodes."""
    import cv2

    try:
        text, points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    except cv2.error as exc:  # a page OpenCV cannot read is no separator sheet
        log.debug("QR detection failed: %s", exc)
        return None
    return text or None if points is not None else None


def find_in_pdf(data: bytes) -> dict[int, dict[str, str]]:
    """Separator pages (1-based) of a PDF and their metadata; pages with a text layer are skipped."""
    return {n: meta for n, image in _scanned_pdf_pages(data) if (meta := _separator(image)) is not None}


def find_in_images(frames: list[np.ndarray], dpi: float | None) -> dict[int, dict[str, str]]:
    """Separator pages (1-based) of a multi-page image (a TIFF batch), scaled down first."""
    found = {}
    for number, frame in enumerate(frames, start=1):
        if (meta := _separator(_downscale(frame, dpi or 300.0))) is not None:
            found[number] = meta
    return found


def _separator(image: np.ndarray) -> dict[str, str] | None:
    text = read_qr(image)
    return parse(text) if text is not None else None


def _downscale(frame: np.ndarray, dpi: float) -> np.ndarray:
    import cv2

    if frame.ndim == 3:
        frame = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    factor = DETECT_DPI / dpi
    if factor >= 1:
        return frame
    return cv2.resize(frame, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


def _may_be_separator(page: Any) -> bool:
    """A scan (no text layer), or a page whose text names dematflow: a separator sheet printed from
    its PDF, or scanned by a copier that adds a text layer. Born-digital pages are never rendered."""
    textpage = page.get_textpage()
    try:
        chars = textpage.count_chars()
        if chars < MIN_TEXT_CHARS:
            return True
        return chars <= MAX_SHEET_CHARS and "dematflow" in textpage.get_text_range().lower()
    finally:
        textpage.close()


def _scanned_pdf_pages(data: bytes) -> Iterator[tuple[int, np.ndarray]]:
    with PDFIUM_LOCK:  # PDFium is not thread-safe; the pages are small (60 dpi), rendered at once
        rendered = list(_render_candidates(data))
    yield from rendered


def _render_candidates(data: bytes) -> Iterator[tuple[int, np.ndarray]]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise CorruptInput(f"PDF illisible : {exc}") from exc
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                if not _may_be_separator(page):
                    continue
                bitmap = page.render(scale=DETECT_DPI / 72.0, grayscale=True)
                yield index + 1, np.asarray(bitmap.to_pil().convert("L"), dtype=np.uint8)
            except pdfium.PdfiumError as exc:
                raise CorruptInput(f"page {index + 1} illisible : {exc}") from exc
            finally:
                page.close()
    finally:
        pdf.close()
