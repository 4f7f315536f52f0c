"""The demo set written by `dematflow demo`: five French documents with the verdicts we expect."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from cli.sample_invoices import (
    InvoiceData,
    Line,
    Party,
    cii_xml,
    demo_invoices,
    fake_french_iban,
    fake_siret,
    fr_amount,
    french_vat,
)
from cli.sample_render import bank_details_pdf, facturx_pdf, invoice_pdf, scan_of, truncated

__all__ = [
    "InvoiceData",
    "Line",
    "Party",
    "Sample",
    "bank_details_pdf",
    "cii_xml",
    "demo_invoices",
    "facturx_pdf",
    "fake_french_iban",
    "fake_siret",
    "fr_amount",
    "french_vat",
    "invoice_pdf",
    "make_demo_set",
    "scan_of",
    "truncated",
]

log = logging.getLogger(__name__)

SCAN_SKEW_DEGREES = 2.5


@dataclass(frozen=True)
class Sample:
    """One demo file and what dematflow should make of it."""

    path: Path
    description: str
    expected_doc_type: str | None  # a DocType value; None when the file cannot be read
    expected_fields: dict[str, str]  # in the `extract --json` contract forms
    expected_status: str  # a Status value


def make_demo_set(directory: Path, *, seed: int = 7) -> list[Sample]:
    """Write the demo documents into ``directory`` (created if needed) and describe them."""
    directory.mkdir(parents=True, exist_ok=True)
    facturx_inv, pdf_inv, scanned_inv = demo_invoices(seed=seed)
    files: list[tuple[str, bytes, str, str | None, dict[str, str], str]] = [
        (
            f"facture-facturx-{facturx_inv.number}.pdf",
            facturx_pdf(facturx_inv),
            "Factur-X EN 16931 invoice (PDF with embedded CII XML)",
            "invoice",
            facturx_inv.expected_fields(),
            "archived",
        ),
        (
            f"facture-{pdf_inv.number}.pdf",
            invoice_pdf(pdf_inv),
            "digital PDF invoice with a text layer, no XML",
            "invoice",
            pdf_inv.expected_fields(),
            "archived",
        ),
        (
            f"scan-facture-{scanned_inv.number}.png",
            scan_of(invoice_pdf(scanned_inv), dpi=300, skew_degrees=SCAN_SKEW_DEGREES, seed=seed),
            f"300-dpi scan of a paper invoice, skewed {SCAN_SKEW_DEGREES}°, with noise",
            "invoice",
            scanned_inv.expected_fields(),
            # Tesseract reads every field back and the check digits and totals agree; the date alone
            # stays below the review threshold (the field ranker is calibrated on real layouts, where
            # an unconfirmed date read by OCR is right about four times in five), so a person confirms
            # it on the review desk: one key press.
            "needs_review",
        ),
        (
            "rib-fournisseur.pdf",
            bank_details_pdf(pdf_inv),
            "supplier's bank details (relevé d'identité bancaire)",
            "bank_details",
            {"BT-84": pdf_inv.iban},
            "archived",
        ),
        (
            "document-corrompu.pdf",
            truncated(invoice_pdf(pdf_inv)),
            "PDF invoice truncated in the middle (interrupted transfer)",
            None,
            {},
            "quarantined",
        ),
    ]
    samples = []
    for name, data, description, doc_type, fields, status in files:
        path = directory / name
        path.write_bytes(data)
        samples.append(Sample(path, description, doc_type, fields, status))
    log.info("demo set: %d files written to %s", len(samples), directory)
    return samples
