"""Searchable PDF renditions: page images with tesseract's invisible text layer, merged with pypdf."""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping, Sequence

import numpy as np

from dematflow.errors import CorruptInput
from extractors import tesseract

log = logging.getLogger(__name__)


def merge_pages(parts: Sequence[bytes]) -> bytes:
    """One PDF made of the pages of ``parts`` (one-page PDFs from tesseract), in order."""
    return splice(None, {i: part for i, part in enumerate(parts, start=1)}, page_count=len(parts))


def splice(original: bytes | None, ocr_pages: Mapping[int, bytes], *, page_count: int) -> bytes:
    """The pages of ``original`` with the 1-based pages in ``ocr_pages`` replaced by their OCR'd
    one-page PDFs: a mixed PDF keeps its digital pages and gains a text layer on its scanned ones."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    writer = PdfWriter()
    try:
        base = PdfReader(io.BytesIO(original)) if original is not None else None
        for number in range(1, page_count + 1):
            if number in ocr_pages:
                writer.add_page(PdfReader(io.BytesIO(ocr_pages[number])).pages[0])
            elif base is not None:
                writer.add_page(base.pages[number - 1])
            else:
                raise CorruptInput(f"no OCR output for page {number}")
        out = io.BytesIO()
        writer.write(out)
    except (PyPdfError, IndexError, ValueError, KeyError) as exc:
        raise CorruptInput(f"searchable PDF cannot be assembled ({type(exc).__name__})") from exc
    log.debug("searchable pdf: %d page(s), %d OCR'd", page_count, len(ocr_pages))
    return out.getvalue()


def ocr_pdf(
    images: Sequence[np.ndarray], *, dpi: float, languages: str = "fra+eng", timeout: float = 120.0
) -> bytes:
    """A PDF of ``images`` (already upright working copies at ``dpi``), each page carrying an
    invisible text layer; capture.py does the same page by page within its own OCR pass."""
    parts = [
        tesseract.ocr_page_with_pdf(image, page_number=i, languages=languages, timeout=timeout, dpi=dpi)[1]
        for i, image in enumerate(images, start=1)
    ]
    return merge_pages([part for part in parts if part is not None])
