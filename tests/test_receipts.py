"""Till receipts (tickets de caisse): their class, and the amount paid read from them."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import synth
from benchmarks.synth.receipts import HELDOUT_STYLES, STYLES, receipt_doc, receipt_scan
from extractors import pdftext
from extractors.capture import OcrOptions, capture_images
from extractors.classify import classify
from extractors.receipts import receipt_fields
from extractors.results import DocType, PageText, Source
from pipeline.context import Services
from pipeline.intake import receive
from pipeline.records import Status
from pipeline.retention import TABLE
from pipeline.run import run_stages
from pipeline.stages.extract import RECEIPT_FIELDS

THRESHOLD = 0.8  # pipeline.settings review_threshold default


def _text(pdf: bytes) -> str:
    return "\n\n".join(p.text for p in pdftext.read_pdf_text(pdf, max_pages=5))


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("language", ["fr", "en", "de", "es", "it"])
def test_generated_receipts_are_receipts(style: str, language: str) -> None:
    doc = receipt_doc(seed=f"t-{style}", style=style, language=language)
    assert classify(_text(doc.pdf))[0] is DocType.RECEIPT


def test_invoices_stay_invoices() -> None:
    # Given an ordinary invoice and a till-roll invoice addressed to a customer (held-out layout)
    invoice = synth.invoice_doc(seed="r-1", layout=sorted(synth.LAYOUTS)[0])
    till_roll = synth.heldout_doc(seed="r-2", layout="receipt")
    # Then neither is taken for a till receipt
    assert classify(_text(invoice.pdf))[0] is DocType.INVOICE
    assert classify(_text(till_roll.pdf))[0] is DocType.INVOICE


def test_receipt_words_in_other_documents_do_not_make_a_receipt() -> None:
    assert classify("Compte rendu de la réunion du conseil")[0] is DocType.OTHER
    invoice = "FACTURE n° 12\nTotal HT 100,00\nTVA 20,00\nTotal TTC 120,00\nPaiement CB à réception\nMerci"
    assert classify(invoice)[0] is DocType.INVOICE


def _slip(*rows: str) -> list[PageText]:
    return [PageText(1, "\n".join(rows), (), Source.PDF_TEXT, 1.0)]


def test_the_paid_total_wins_over_subtotal_change_tendered_cash_and_tax() -> None:
    # Given a slip paid in cash: 50,00 tendered, 6,80 given back
    pages = _slip(
        "Boulangerie Moreau",
        "12 rue des Lilas",
        "Ticket 0042      Caisse 2",
        "12/03/2025 14:32",
        "TARTE AUX FRAISES      45,00",
        "SOUS-TOTAL      45,00",
        "REMISE      -1,80",
        "TOTAL TTC      43,20",
        "ESPECES      50,00",
        "RENDU      6,80",
        "TVA 5,5%      2,25",
    )
    found = receipt_fields(pages)
    # Then the amount paid is the total, confirmed by tendered minus change
    assert found.values["BT-112"] == "43.20" and found.confidence["BT-112"] >= THRESHOLD
    assert found.values["BT-2"] == "2025-03-12"
    assert found.values["BT-27"] == "Boulangerie Moreau"
    assert found.located["BT-112"][0].page == 1


def test_a_total_the_payment_contradicts_goes_to_review() -> None:
    pages = _slip("Épicerie Blanc", "01/02/2025", "TOTAL      12,00", "CB      21,00")
    found = receipt_fields(pages)
    assert found.values["BT-112"] == "12.00" and found.confidence["BT-112"] < THRESHOLD


def test_without_a_total_line_the_card_amount_is_kept_in_doubt() -> None:
    found = receipt_fields(_slip("Station Girard", "01/02/2025 10:00", "GAZOLE      61,20", "CB      61,20"))
    assert found.values["BT-112"] == "61.20" and found.confidence["BT-112"] < THRESHOLD


@pytest.mark.parametrize("style", [STYLES[0], HELDOUT_STYLES[1]])
def test_a_scanned_receipt_through_ocr(style: str) -> None:
    # Given a generated slip scanned flat
    doc = receipt_doc(seed="ocr-3", style=style, language="fr")
    scanned = receipt_scan(doc.pdf, level="clean", rng=random.Random(3))
    # When it is read by tesseract
    pages = capture_images(scanned.data, ocr=OcrOptions(jobs=1)).pages
    # Then it is a receipt and the amount paid is read
    assert classify("\n".join(p.text for p in pages))[0] is DocType.RECEIPT
    found = receipt_fields(pages)
    assert found.values.get("BT-112") == doc.expected["BT-112"]
    assert found.values.get("BT-2") == doc.expected["BT-2"]


def test_a_receipt_is_kept_as_long_as_an_invoice() -> None:
    assert TABLE[DocType.RECEIPT].years == TABLE[DocType.INVOICE].years == 10


def test_extract_json_says_receipt(tmp_path: Path) -> None:
    doc = receipt_doc(seed="cli-1", style="supermarche", language="fr")
    path = tmp_path / "ticket.pdf"
    path.write_bytes(doc.pdf)
    data_dir = str(tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "--data-dir", data_dir, "extract", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == {"doc_type", "source", "fields", "confidence", "findings"}
    assert answer["doc_type"] == "receipt" and answer["source"] == "pdf_text"
    assert answer["fields"]["BT-112"] == doc.expected["BT-112"]  # read by the receipt reader: the paid amount
    assert answer["fields"]["BT-2"] == doc.expected["BT-2"]


def test_a_processed_receipt_is_archived_with_its_fields_or_sent_to_review(services: Services) -> None:
    doc = receipt_doc(seed="pipe-1", style="supermarche", language="fr")
    receipt = receive(services, filename="ticket.pdf", data=doc.pdf)
    done = run_stages(services, receipt).document
    assert done.doc_type is DocType.RECEIPT and done.fields.get("BT-112") == doc.expected["BT-112"]
    in_doubt = [f for f in RECEIPT_FIELDS if done.confidence.get(f, 0.0) < services.settings.review_threshold]
    assert list(done.review) == in_doubt
    assert done.status is (Status.NEEDS_REVIEW if in_doubt else Status.ARCHIVED)
