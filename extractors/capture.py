"""Capture the text of a document: the PDF text layer, OCR for scanned pages and images."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib import metadata

import numpy as np

from extractors import imageprep, images, pdftext, tesseract
from extractors.results import PageText, Source

log = logging.getLogger(__name__)

MIN_TEXT_CHARS = 20  # fewer alphanumerics than this on a PDF page: treat it as a scan


@dataclass(frozen=True)
class OcrOptions:
    """How scanned pages are read."""

    languages: str = "fra+eng"
    dpi: int = 300
    timeout: float = 120.0
    max_pages: int = 200
    max_pixels: int = 200_000_000


@dataclass(frozen=True)
class Capture:
    """The pages of one document, where their text came from and the tool versions used."""

    source: Source
    pages: tuple[PageText, ...]
    tools: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(page.text for page in self.pages)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _ocr_tools() -> dict[str, str]:
    return {"tesseract": tesseract.version(), "opencv": _version("opencv-python-headless")}


def _has_text(page: PageText) -> bool:
    return sum(ch.isalnum() for ch in page.text) >= MIN_TEXT_CHARS


def _ocr(image_pages: list[np.ndarray], *, first_number: int, ocr: OcrOptions) -> list[PageText]:
    out: list[PageText] = []
    for offset, image in enumerate(image_pages):
        prepared = imageprep.prepare_for_ocr(image)
        out.append(
            tesseract.ocr_page(
                prepared.image,
                page_number=first_number + offset,
                languages=ocr.languages,
                timeout=ocr.timeout,
            )
        )
    return out


def capture_pdf(data: bytes, *, ocr: OcrOptions) -> Capture:
    """Text layer per page; pages with (almost) no text are rendered and OCR'd."""
    pages = list(pdftext.read_pdf_text(data, max_pages=ocr.max_pages))
    tools = {"pdfplumber": _version("pdfplumber")}
    scanned = [page.number for page in pages if not _has_text(page)]
    if scanned:
        tools |= _ocr_tools() | {"pypdfium2": _version("pypdfium2")}
        for number in scanned:
            rendered = images.render_pdf_pages(data, pages=[number], dpi=ocr.dpi, max_pixels=ocr.max_pixels)
            pages[number - 1] = _ocr(rendered, first_number=number, ocr=ocr)[0]
        log.info("pdf: %d of %d page(s) OCR'd", len(scanned), len(pages))
    source = Source.OCR if scanned else Source.PDF_TEXT
    return Capture(source, tuple(pages), tools)


def capture_images(data: bytes, *, ocr: OcrOptions) -> Capture:
    """OCR every page of a PNG / JPEG / TIFF file."""
    loaded = images.load_images(data, max_pages=ocr.max_pages, max_pixels=ocr.max_pixels)
    tools = _ocr_tools() | {"pillow": _version("pillow")}
    pages = _ocr(loaded, first_number=1, ocr=ocr)
    log.info("image: %d page(s) OCR'd", len(pages))
    return Capture(Source.OCR, tuple(pages), tools)
