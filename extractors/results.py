"""Typed results the extractors return; fields are keyed by EN 16931 business terms (BT-1, BT-31 …)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Source(StrEnum):
    """Where the text and fields of a document came from."""

    FACTURX = "facturx"
    PDF_TEXT = "pdf_text"
    OCR = "ocr"


class DocType(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    BANK_DETAILS = "bank_details"
    PROOF_OF_ADDRESS = "proof_of_address"
    IDENTITY_DOCUMENT = "identity_document"
    TAX_NOTICE = "tax_notice"
    RECEIPT = "receipt"  # a till receipt (ticket de caisse): supports an expense claim
    OTHER = "other"


@dataclass(frozen=True)
class Word:
    """One word with its box (in points for PDFs, pixels for images) and a confidence in 0..1."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    conf: float = 1.0


@dataclass(frozen=True)
class PageText:
    """The text of one page, in reading order, and its words."""

    number: int  # 1-based
    text: str
    words: tuple[Word, ...] = ()
    source: Source = Source.PDF_TEXT
    mean_conf: float = 1.0


@dataclass(frozen=True)
class Located:
    """A value the reader considered for a field, and where: its page (1-based) and the box of the
    words it was read in, in the page's word coordinates (points for a text layer, pixels of the
    OCR working copy for a scan); None when the page had no word boxes."""

    value: str
    confidence: float
    page: int
    box: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class FieldSet:
    """Fields found on a document, keyed by business term, each with a confidence in 0..1.

    ``values`` use the `extract --json` contract forms: dates ``YYYY-MM-DD``, amounts ``"1234.56"``,
    identifiers digits only / without spaces.
    """

    values: dict[str, str] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    # per field: where the chosen value was read, then the runners-up (not part of `extract --json`)
    located: dict[str, tuple[Located, ...]] = field(default_factory=dict)
