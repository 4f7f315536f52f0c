"""Decode page images (PNG, JPEG, TIFF) and render PDF pages to pixels, within size limits."""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from dematflow.errors import CorruptInput, OversizedInput
from extractors.pdftext import PDFIUM_LOCK

log = logging.getLogger(__name__)

_DECODE_ERRORS = (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError)


def _open(data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise OversizedInput(f"image too large: {exc}") from exc
    except _DECODE_ERRORS as exc:
        raise CorruptInput(f"undecodable image: {exc}") from exc


def _to_array(frame: Image.Image) -> np.ndarray:
    if frame.mode in ("1", "L", "I;16", "I", "F"):
        frame = frame.convert("L")
    elif frame.mode != "RGB":
        frame = frame.convert("RGB")
    return np.asarray(frame, dtype=np.uint8)  # read-only: working copies are new arrays, never edits


def _lies(w: int, h: int) -> CorruptInput:
    return CorruptInput(f"l'image déclare {w}×{h} pixels mais n'en contient pas autant")


def _too_many_pixels(number: int, w: int, h: int, max_pixels: int) -> OversizedInput:
    return OversizedInput(
        f"page {number} is {w}×{h} pixels ({w * h / 1e6:.0f} Mpx), over the limit of "
        f"{max_pixels / 1e6:.0f} Mpx a page (DEMATFLOW_MAX_PIXELS)"
    )


def _check_declared_size(img: Image.Image, data: bytes) -> None:
    """Refuse a header that claims more pixels than the data can hold, without decoding them: a PNG's
    pixels are deflated (1032:1 at most); a JPEG's Huffman-coded scan spends at least a bit on each
    8×8 block of its first component (arithmetic coding, which scanners do not use, could spend less)."""
    w, h = img.size
    if img.format == "PNG":
        bits = {"1": 1, "L": 8, "P": 8, "LA": 16, "RGB": 24, "RGBA": 32, "I;16": 16, "I": 16}
        row = 1 + -(-w * bits.get(img.mode, 8) // 8)  # a filter byte, then the row's pixels
        if len(data) * 1032 < h * row // 2:  # half: a 16-bit or 1-bit page lies about its mode
            raise _lies(w, h)
    elif img.format == "JPEG" and len(data) * 8 < -(-w // 8) * -(-h // 8):
        raise _lies(w, h)


def image_sizes(data: bytes, *, max_pages: int, max_pixels: int) -> list[tuple[int, int]]:
    """Width and height of every page/frame, read from the headers only (no pixel is decoded), so
    that ingest can enforce the limits of a huge multi-page TIFF, or of a lying header, cheaply."""
    if not data:
        raise CorruptInput("empty image")
    sizes: list[tuple[int, int]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = _open(data)
        with img:
            n = int(getattr(img, "n_frames", 1))
            if n > max_pages:
                raise OversizedInput(f"{n} pages, over the limit of {max_pages} (DEMATFLOW_MAX_PAGES)")
            _check_declared_size(img, data)
            for index in range(n):
                try:
                    img.seek(index)
                except _DECODE_ERRORS as exc:
                    raise CorruptInput(f"undecodable image (page {index + 1}): {exc}") from exc
                w, h = img.size
                if w * h > max_pixels:
                    raise _too_many_pixels(index + 1, w, h, max_pixels)
                sizes.append((w, h))
    return sizes


def load_images(data: bytes, *, max_pages: int, max_pixels: int) -> list[np.ndarray]:
    """Decode every page/frame as a uint8 array (L or RGB); EXIF orientation applied.

    Sizes are checked from the header before any pixel is decoded.
    """
    if not data:
        raise CorruptInput("empty image")
    pages: list[np.ndarray] = []
    with warnings.catch_warnings():
        # Pillow warns before its bomb limit; our own limit decides.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = _open(data)
        with img:
            n = int(getattr(img, "n_frames", 1))
            if n > max_pages:
                raise OversizedInput(f"{n} pages, limit {max_pages}")
            for index in range(n):
                try:
                    img.seek(index)
                    w, h = img.size
                    if w * h > max_pixels:
                        raise _too_many_pixels(index + 1, w, h, max_pixels)
                    frame = ImageOps.exif_transpose(img) if index == 0 else img
                    pages.append(_to_array(frame if frame is not None else img))
                except Image.DecompressionBombError as exc:
                    raise OversizedInput(f"image too large: {exc}") from exc
                except OSError as exc:
                    if "truncated" in str(exc):  # the header declares more rows than the data hold
                        raise _lies(*img.size) from exc
                    raise CorruptInput(f"undecodable image (page {index + 1}): {exc}") from exc
                except _DECODE_ERRORS as exc:
                    raise CorruptInput(f"undecodable image (page {index + 1}): {exc}") from exc
    if not pages:
        raise CorruptInput("image has no pages")
    log.debug("decoded %d image page(s)", len(pages))
    return pages


def image_dpi(data: bytes) -> float | None:
    """Horizontal resolution declared in the image header, or None when absent or absurd."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            dpi = img.info.get("dpi")
    except (*_DECODE_ERRORS, Image.DecompressionBombError):
        return None
    if not dpi:
        return None
    try:
        value = float(dpi[0])
    except (TypeError, ValueError, IndexError):
        return None
    return value if 20.0 <= value <= 4800.0 else None


def render_pdf_pages(
    data: bytes, *, pages: Sequence[int], dpi: int = 300, max_pixels: int | None = None
) -> list[np.ndarray]:
    """Render the given 1-based pages of a PDF to grayscale arrays with pypdfium2.

    With ``max_pixels``, a page whose rendering would exceed it is rendered at a lower resolution.
    """
    with PDFIUM_LOCK:  # PDFium is not thread-safe
        return _render_pdf_pages(data, pages, dpi, max_pixels)


def _render_pdf_pages(
    data: bytes, pages: Sequence[int], dpi: int, max_pixels: int | None
) -> list[np.ndarray]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise CorruptInput(f"unreadable PDF: {exc}") from exc
    out: list[np.ndarray] = []
    try:
        count = len(pdf)
        for number in pages:
            if not 1 <= number <= count:
                raise CorruptInput(f"page {number} out of range 1..{count}")
            page = pdf[number - 1]
            try:
                scale = dpi / 72.0
                w, h = page.get_size()
                if max_pixels and w * h * scale * scale > max_pixels:
                    scale = (max_pixels / max(w * h, 1.0)) ** 0.5
                    log.info("page %d rendered at %.0f dpi (pixel limit)", number, scale * 72)
                bitmap = page.render(scale=scale, grayscale=True)
                out.append(np.asarray(bitmap.to_pil().convert("L"), dtype=np.uint8).copy())
            except pdfium.PdfiumError as exc:
                raise CorruptInput(f"page {number} cannot be rendered: {exc}") from exc
            finally:
                page.close()
    finally:
        pdf.close()
    return out
