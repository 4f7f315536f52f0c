"""The text layer of a digital PDF, page by page, with word boxes (pdfplumber)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dematflow.errors import CorruptInput, EncryptedInput, OversizedInput
from extractors.results import PageText, Source, Word

log = logging.getLogger(__name__)


def _is_password_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        names = {type(seen).__name__, *(type(a).__name__ for a in getattr(seen, "args", ()))}
        if {"PDFPasswordIncorrect", "PDFEncryptionError"} & names:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextmanager
def _open(data: bytes) -> Iterator[Any]:
    """Open with pdfplumber, translating its errors into dematflow input errors."""
    import pdfplumber

    if not data:
        raise CorruptInput("empty PDF")
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:  # pdfminer raises many unrelated types on broken files
        if _is_password_error(exc):
            raise EncryptedInput("the PDF is password-protected") from exc
        raise CorruptInput(
            f"the PDF is damaged or truncated and cannot be read ({type(exc).__name__})"
        ) from exc
    try:
        yield pdf
    finally:
        pdf.close()


def pdf_page_count(data: bytes) -> int:
    """Number of pages of a PDF."""
    with _open(data) as pdf:
        try:
            return len(pdf.pages)
        except Exception as exc:
            raise CorruptInput(f"the PDF page tree is damaged ({type(exc).__name__})") from exc


def _page_text(page: Any, number: int) -> PageText:
    words = tuple(
        Word(str(w["text"]), float(w["x0"]), float(w["top"]), float(w["x1"]), float(w["bottom"]))
        for w in page.extract_words(keep_blank_chars=False, use_text_flow=False)
    )
    text = page.extract_text() or ""
    return PageText(number, text, words, Source.PDF_TEXT, 1.0)


def read_pdf_text(data: bytes, *, max_pages: int) -> tuple[PageText, ...]:
    """Text and words of every page; a page without a text layer yields an empty PageText."""
    with _open(data) as pdf:
        try:
            pages = pdf.pages
            if len(pages) > max_pages:
                raise OversizedInput(f"{len(pages)} pages, limit {max_pages}")
            out = tuple(_page_text(page, i) for i, page in enumerate(pages, start=1))
        except OversizedInput:
            raise
        except Exception as exc:
            if _is_password_error(exc):
                raise EncryptedInput("the PDF is password-protected") from exc
            raise CorruptInput(
                f"a page of the PDF is damaged and cannot be read ({type(exc).__name__})"
            ) from exc
    log.debug("pdf text layer: %d page(s), %d chars", len(out), sum(len(p.text) for p in out))
    return out
