"""Lossless wrap of scanned images (PNG, JPEG, TIFF, multi-page) into a PDF with img2pdf."""

from __future__ import annotations

import logging

import img2pdf
from PIL import Image

from dematflow.errors import CorruptInput, EmptyInput, OversizedInput

log = logging.getLogger(__name__)

_IMG2PDF_ERRORS = (
    img2pdf.ImageOpenError,
    img2pdf.AlphaChannelError,
    img2pdf.PdfTooLargeError,
    img2pdf.NegativeDimensionError,
    img2pdf.UnsupportedColorspaceError,
    img2pdf.JpegColorspaceError,
    img2pdf.ExifOrientationError,
)


def wrap_images_as_pdf(data: bytes) -> bytes:
    """Wrap one image file (every frame of a multi-page TIFF) into a PDF, pixel for pixel.

    JPEG (and JPEG 2000) streams are embedded byte for byte; PNG data is copied without
    re-encoding; other rasters (TIFF) are stored with lossless Flate. An alpha channel is
    kept losslessly as a PDF soft mask (/SMask, img2pdf >= 0.5): nothing is flattened.
    Raises EmptyInput, CorruptInput (unreadable or unsupported image) or OversizedInput
    (Pillow's decompression-bomb guard).
    """
    if not data:
        raise EmptyInput("cannot wrap an empty file")
    try:
        pdf = img2pdf.convert(data, rotation=img2pdf.Rotation.ifvalid)
    except Image.DecompressionBombError as exc:
        raise OversizedInput(f"image too large to wrap: {exc}") from exc
    except _IMG2PDF_ERRORS as exc:
        raise CorruptInput(f"image cannot be wrapped as PDF: {_describe(exc)}") from exc
    except (OSError, ValueError, TypeError, KeyError, IndexError, SyntaxError) as exc:
        # Pillow signals truncated or inconsistent images with a wide range of built-ins.
        raise CorruptInput(f"image cannot be decoded: {_describe(exc)}") from exc
    if not isinstance(pdf, bytes):
        raise CorruptInput("img2pdf produced no PDF")
    log.info("wrapped image: %d bytes -> %d bytes PDF", len(data), len(pdf))
    return pdf


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"
