"""End to end on embedded defaults: every stage, real tesseract, real seals checked by pdfsig."""

from __future__ import annotations

import json
import subprocess

import img2pdf
import pytest

from cli.samples import Sample
from extractors.sniff import FileKind
from pipeline import audit, journal, lifecycle
from pipeline.context import Services
from pipeline.records import Status
from pipeline.run import process, process_all
from signing import pdfsig
from tests.conftest import sample


def run(services: Services, s: Sample):  # type: ignore[no-untyped-def]
    return process(services, filename=s.path.name, data=s.path.read_bytes()).document


def test_facturx_invoice_is_validated_sealed_and_archived(services: Services, demo_set: list[Sample]) -> None:
    s = sample(demo_set, "facture-facturx")
    doc = run(services, s)
    assert doc.status is Status.ARCHIVED, doc.reason
    assert doc.source and doc.source.value == "facturx"
    assert doc.einvoice["profile"] == "EN16931"
    assert "xsd" in doc.checked
    for key in ("BT-1", "BT-2", "BT-112", "BT-31"):
        assert doc.fields[key] == s.expected_fields[key]
    assert set(doc.objects) >= {"original", "einvoice_xml", "capture", "sealed", "data", "report"}
    # the original is kept byte-exact, and the seal is valid for an independent verifier
    assert services.store.get(doc.objects["original"].key) == s.path.read_bytes()
    sealed = services.store.get(doc.objects["sealed"].key)
    check = pdfsig.check(sealed)
    assert check.signatures == 1 and check.all_valid, check.output


def test_digital_pdf_invoice_fields_come_from_the_text_layer(
    services: Services, demo_set: list[Sample]
) -> None:
    s = sample(demo_set, "facture-FA")
    doc = run(services, s)
    assert doc.source and doc.source.value == "pdf_text"
    assert doc.doc_type and doc.doc_type.value == "invoice"
    for key, value in s.expected_fields.items():
        assert doc.fields.get(key) == value, key
    assert doc.status is Status.ARCHIVED, doc.reason


def test_scan_is_ocred_from_a_working_copy_and_the_image_is_kept(
    services: Services, demo_set: list[Sample]
) -> None:
    s = sample(demo_set, "scan-")
    doc = run(services, s)
    assert doc.source and doc.source.value == "ocr"
    assert doc.kind in (FileKind.PNG, FileKind.TIFF, FileKind.JPEG)
    assert doc.fields.get("BT-1") == s.expected_fields["BT-1"]
    assert doc.fields.get("BT-112") == s.expected_fields["BT-112"]
    assert services.store.get(doc.objects["original"].key) == s.path.read_bytes()
    # What is sealed is the image wrapped pixel for pixel, made searchable by the OCR words laid on it
    # as invisible text; no other copy of the pages is kept.
    sealed = services.store.get(doc.objects["sealed"].key)
    text = subprocess.run(["pdftotext", "-", "-"], input=sealed, capture_output=True, check=True)
    assert s.expected_fields["BT-1"].encode() in text.stdout
    assert not {"rendition", "searchable"} & set(doc.objects)
    assert pdfsig.check(sealed).all_valid
    assert doc.status in (Status.ARCHIVED, Status.NEEDS_REVIEW)


def test_scanned_pdf_gets_a_searchable_copy_whose_prefix_is_the_original(
    services: Services, demo_set: list[Sample]
) -> None:
    s = sample(demo_set, "scan-")
    scanned = img2pdf.convert(s.path.read_bytes())  # a PDF of the page image: no text layer
    doc = process(services, filename="scan.pdf", data=scanned).document
    assert doc.source and doc.source.value == "ocr"
    assert doc.fields.get("BT-1") == s.expected_fields["BT-1"]
    searchable = services.store.get(doc.objects["searchable"].key)
    assert searchable.startswith(scanned)  # the original bytes, then a revision with the words
    text = subprocess.run(["pdftotext", "-", "-"], input=searchable, capture_output=True, check=True)
    assert s.expected_fields["BT-1"].encode() in text.stdout
    sealed = services.store.get(doc.objects["sealed"].key)
    assert sealed.startswith(scanned) and pdfsig.check(sealed).all_valid  # the master is what is sealed


def test_supporting_document_is_classified_and_archived(services: Services, demo_set: list[Sample]) -> None:
    s = sample(demo_set, "rib-")
    doc = run(services, s)
    assert doc.doc_type and doc.doc_type.value == "bank_details"
    assert doc.status is Status.ARCHIVED


def test_identical_bytes_are_linked_to_the_first_document(services: Services, demo_set: list[Sample]) -> None:
    s = sample(demo_set, "rib-")
    first = process(services, filename="a.pdf", data=s.path.read_bytes())
    again = process(services, filename="b.pdf", data=s.path.read_bytes())
    assert again.duplicate and again.document.id == first.document.id
    actions = [e.action for e in journal.entries(services.catalogue.engine, document_id=first.document.id)]
    assert actions.count("received") == 1 and actions.count("duplicate") == 1
    assert actions.count("archived") == 1  # processed once


def test_every_stage_is_journalled_with_fingerprints(services: Services, demo_set: list[Sample]) -> None:
    doc = run(services, sample(demo_set, "facture-FA"))
    entries = list(journal.entries(services.catalogue.engine, document_id=doc.id))
    assert [e.stage for e in entries] == [
        "ingest",
        "ingest",
        "classify",
        "extract",
        "validate",
        "seal",
        "archive",
        "lifecycle",  # 200 Déposée, with its CDAR message
    ]
    outputs = {k for e in entries for k in e.body["outputs"]}
    assert {o.key for o in doc.objects.values()} <= outputs
    assert all(e.body["tools"] or e.action in ("received", "archived", "status") for e in entries)
    report = json.loads(services.store.get(doc.objects["report"].key))
    assert report["status"] == doc.status.value


def _dot_png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buf = BytesIO()
    Image.new("L", (1, 1), 255).save(buf, format="PNG")
    return buf.getvalue()


def _no_pages_pdf() -> bytes:
    from io import BytesIO

    from pypdf import PdfWriter

    buf = BytesIO()
    PdfWriter().write(buf)
    return buf.getvalue()


MADE = {"dot.png": _dot_png, "no-pages.pdf": _no_pages_pdf}
CORRUPT: dict[str, tuple[bytes | None, str]] = {
    "empty.pdf": (b"", "empty"),
    "random.bin": (bytes(range(256)) * 8, "unrecognised content"),
    "truncated.pdf": (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R", ""),
    "photo.png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, ""),
    "page.html": (b"<html><body>not an invoice</body></html>", "XML that is not"),
    "dot.png": (None, "not a document page"),
    "no-pages.pdf": (None, "no pages"),
    "bomb.xml": (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><Invoice xmlns="urn:oasis:names:'
        b'specification:ubl:schema:xsd:Invoice-2">&b;</Invoice>',
        "",
    ),
}


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_bad_input_is_quarantined_with_reason_and_original(services: Services, name: str) -> None:
    data, words = CORRUPT[name]
    data = data if data is not None else MADE[name]()
    doc = process(services, filename=name, data=data).document
    assert doc.status is Status.QUARANTINED
    assert doc.reason and words in doc.reason
    assert services.store.get(doc.objects["original"].key) == data
    entries = list(journal.entries(services.catalogue.engine, document_id=doc.id))
    last = [e for e in entries if e.stage != "lifecycle"][-1]
    assert last.action == "quarantined" and last.body["detail"]["reason"] == doc.reason
    status = lifecycle.current(services.catalogue.engine, doc.id)
    assert status is not None and status.code == 501 and doc.reason_code == status.reason
    assert status.reason is not None and status.reason.startswith("IRR_")


def test_encrypted_pdf_is_quarantined(services: Services, demo_set: list[Sample]) -> None:
    from io import BytesIO

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(sample(demo_set, "facture-FA").path))
    writer.encrypt(user_password="secret", owner_password="owner")
    buf = BytesIO()
    writer.write(buf)
    doc = process(services, filename="locked.pdf", data=buf.getvalue()).document
    assert doc.status is Status.QUARANTINED
    assert doc.reason and "password" in doc.reason.lower()


def test_limits_quarantine_oversized_input(services: Services, demo_set: list[Sample]) -> None:
    from dataclasses import replace

    small = replace(services.settings, limits=replace(services.settings.limits, max_bytes=1000))
    tight = Services(replace(services.context, settings=small), services.catalogue)
    doc = run(tight, sample(demo_set, "facture-FA"))
    assert doc.status is Status.QUARANTINED and doc.reason and "limit" in doc.reason


def test_the_same_invoice_sent_twice_is_flagged_as_a_duplicate(services: Services) -> None:
    import time

    from cli.samples import demo_invoices, facturx_pdf

    inv = demo_invoices()[0]
    first_pdf = facturx_pdf(inv)
    time.sleep(1.1)  # factur-x stamps the XMP with the time: other bytes, same invoice
    second_pdf = facturx_pdf(inv)
    assert first_pdf != second_pdf
    first = process(services, filename="a.pdf", data=first_pdf).document
    second = process(services, filename="b.pdf", data=second_pdf).document
    assert first.status is Status.ARCHIVED and "duplicates" in first.checked
    dup = [f for f in second.findings if f.rule == "DOUBLON"]
    assert second.status is Status.REJECTED and len(dup) == 1
    # the message names the invoice number, never the other document (it may be another supplier's)
    assert first.id not in dup[0].message and "BT-1" in dup[0].message


def test_documents_in_flight_together_keep_their_order_and_one_journal_chain(
    services: Services, demo_set: list[Sample]
) -> None:
    # Given the demo set with its last file sent twice in a row, When processed three at a time on
    # threads, Then the outcomes come back in the order given, the documents were received in that
    # order (the second copy, in flight with the first, is the one linked to it), and the journal is
    # still one unbroken chain whose fingerprints match the archive.
    files = [(s.path.name, s.path.read_bytes) for s in demo_set]
    files.append(("again-" + demo_set[-1].path.name, demo_set[-1].path.read_bytes))
    outcomes = list(process_all(services, files, in_flight=3))
    assert [o.document.filename for o in outcomes[:-1]] == [name for name, _ in files[:-1]]
    assert [d.filename for d in services.catalogue.list(limit=100)] == [name for name, _ in files[:-1]]
    assert outcomes[-1].duplicate and outcomes[-1].document.id == outcomes[-2].document.id
    assert not outcomes[-2].duplicate and all(o.document.status.final for o in outcomes)
    verification = audit.verify(services)
    assert verification.ok, verification.problems
