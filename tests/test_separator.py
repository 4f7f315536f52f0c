"""Batch separation: separator sheets printed by the CLI split a scanned batch into documents."""

from __future__ import annotations

import io
from pathlib import Path

import img2pdf
import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image
from typer.testing import CliRunner

from builders import pages
from cli.main import app
from cli.sample_invoices import demo_invoices
from cli.sample_render import invoice_pdf
from extractors import separator
from pipeline import audit, journal
from pipeline.context import Services
from pipeline.intake import receive
from pipeline.records import Status
from pipeline.run import process, run_stages

SCAN_DPI = 150


def _sheet(tmp_path: Path, *args: str) -> bytes:
    out = tmp_path / f"sheet-{len(list(tmp_path.iterdir()))}.pdf"
    result = CliRunner().invoke(app, ["separator", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def _page_images(*pdfs: bytes) -> list[Image.Image]:
    """Every page of the PDFs as a mailroom scanner sees it: gray pixels, nothing else."""
    images = []
    for data in pdfs:
        doc = pdfium.PdfDocument(data)
        for page in doc:
            images.append(page.render(scale=SCAN_DPI / 72, grayscale=True).to_pil().convert("L"))
        doc.close()
    return images


def _scanned_pdf(*pdfs: bytes) -> bytes:
    jpegs = []
    for image in _page_images(*pdfs):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=85, dpi=(SCAN_DPI, SCAN_DPI))
        jpegs.append(buffer.getvalue())
    return img2pdf.convert(jpegs)


def _scanned_tiff(*pdfs: bytes) -> bytes:
    first, *rest = _page_images(*pdfs)
    buffer = io.BytesIO()
    first.save(buffer, format="TIFF", save_all=True, append_images=rest, compression="tiff_lzw",
               dpi=(SCAN_DPI, SCAN_DPI))  # fmt: skip
    return buffer.getvalue()


def _foreign_qr_page(text: str) -> bytes:
    """A page with a QR code that is not a separator's (a payment QR, a parcel label)."""
    import cv2

    matrix = cv2.QRCodeEncoder.create().encode(text)
    big = np.kron(matrix, np.ones((12, 12), dtype=np.uint8))
    page = np.full((1754, 1240), 255, dtype=np.uint8)
    page[400 : 400 + big.shape[0], 300 : 300 + big.shape[1]] = big
    buffer = io.BytesIO()
    Image.fromarray(page).save(buffer, format="PNG", dpi=(SCAN_DPI, SCAN_DPI))
    return img2pdf.convert(buffer.getvalue())


def _events(services: Services, document_id: str) -> list[journal.Entry]:
    return list(journal.entries(services.catalogue.engine, document_id=document_id))


def _page_count(services: Services, document_id: str) -> int:
    doc = services.catalogue.get(document_id)
    return pages.count(services.store.get(doc.objects["original"].key))


def test_a_scanned_batch_is_split_at_its_separator_sheets(services: Services, tmp_path: Path) -> None:
    # Given a scanned batch: an invoice, a separator sheet saying "invoice, Lyon", a two-page document
    one, two, three = (invoice_pdf(i) for i in demo_invoices(seed=31))
    sheet = _sheet(tmp_path, "--class", "invoice", "--meta", "site=Lyon")
    batch = _scanned_pdf(one, sheet, two, three)
    # When it is processed like any deposit
    outcome = process(services, filename="lot.pdf", data=batch)
    # Then the batch is kept byte-exact, archived with its reason, and not taken further
    source = outcome.document
    assert source.status is Status.ARCHIVED and source.reason == "lot séparé en 2 documents"
    assert services.store.get(source.objects["original"].key) == batch
    assert source.doc_type is None and "sealed" not in source.objects
    separated = [e for e in _events(services, source.id) if e.action == "separated"]
    assert [(e.stage, e.body["detail"]["separators"]) for e in separated] == [("ingest", [2])]
    parts = separated[0].body["detail"]["parts"]
    assert [p["pages"] for p in parts] == [[1], [3, 4]]
    # And each new document has its pages, the sheet's metadata, a link back with the batch's hash
    children = [services.catalogue.get(p["document_id"]) for p in parts]
    assert [_page_count(services, c.id) for c in children] == [1, 2]
    assert [c.filename for c in children] == ["lot-p1.pdf", "lot-p3-4.pdf"]
    assert children[0].meta == {"derived_from": source.id, "pages": "1"}
    assert children[1].meta == {"class": "invoice", "site": "Lyon", "derived_from": source.id, "pages": "3-4"}
    for child, part in zip(children, parts, strict=True):
        derive = next(e for e in _events(services, child.id) if e.stage == "derive")
        assert derive.action == "separated"
        assert derive.body["inputs"] == {source.objects["original"].key: source.sha256}
        assert derive.body["detail"]["from"] == source.id
        assert derive.body["detail"]["batch_sha256"] == source.sha256
        assert derive.body["detail"]["pages"] == part["pages"]
        # processed from the start, like any deposit, to a final status
        assert child.status.final and child.status is not Status.QUARANTINED, child.reason
        assert child.doc_type is not None
    verification = audit.verify(services)
    assert verification.ok, verification.problems
    # And the batch owes no seal of its own (its documents are sealed): the auditor's checks pass
    from pipeline import audit_seals, verify_document

    assert audit_seals.check(services, services.catalogue.get(source.id)) is None
    checked = verify_document.verify(services, source.id)
    assert not [c for c in checked.checks if c.problems], checked


def test_a_tiff_batch_is_split_too(services: Services, tmp_path: Path) -> None:
    one, two, _ = (invoice_pdf(i) for i in demo_invoices(seed=32))
    # Given a TIFF batch from the hot folder's Nantes subfolder, its second sheet saying "Lyon"
    batch = _scanned_tiff(_sheet(tmp_path), one, _sheet(tmp_path, "--meta", "site=Lyon"), two)
    receipt = receive(services, filename="lot.tif", data=batch, meta={"site": "Nantes", "batch": "B1"})
    source = run_stages(services, receipt).document
    assert source.status is Status.ARCHIVED, source.reason
    assert services.store.get(source.objects["original"].key) == batch
    parts = next(e for e in _events(services, source.id) if e.action == "separated").body["detail"]["parts"]
    assert [p["pages"] for p in parts] == [[2], [4]]
    children = [services.catalogue.get(p["document_id"]) for p in parts]
    # the batch's metadata goes to each document, the sheet's over it
    assert [(c.meta["site"], c.meta["batch"]) for c in children] == [("Nantes", "B1"), ("Lyon", "B1")]
    for child in children:
        assert child.status.final and child.status is not Status.QUARANTINED, child.reason
        with pikepdf.open(io.BytesIO(services.store.get(child.objects["original"].key))) as pdf:
            assert len(pdf.pages) == 1
    assert audit.verify(services).ok


def test_a_batch_without_a_separator_is_one_document(services: Services) -> None:
    # Given a two-page scan whose second page carries a QR code that is not a separator's
    one = invoice_pdf(demo_invoices(seed=33)[0])
    batch = _scanned_pdf(one, _foreign_qr_page("https://pay.example.org/DEMATFLOW-SEP"))
    doc = process(services, filename="deux-pages.pdf", data=batch).document
    # Then it is processed as one document, as before
    assert doc.pages == 2 and doc.doc_type is not None and doc.stage == "archive", doc.reason
    assert not [e for e in _events(services, doc.id) if e.action == "separated"]
    assert services.catalogue.list(limit=10) == [doc]


@pytest.mark.parametrize(
    ("text", "meta"),
    [
        ("DEMATFLOW-SEP:1", {}),
        ('DEMATFLOW-SEP:1 {"class": "receipt", "batch": "B7", "n": 3}', {"class": "receipt", "batch": "B7"}),
        ("DEMATFLOW-SEP:1 not json", {}),
        ("DEMATFLOW-SEP:10", None),
        ("DEMATFLOW-SEP:2", None),
        ("https://pay.example.org/DEMATFLOW-SEP:1", None),
    ],
)
def test_only_a_dematflow_payload_is_a_separator(text: str, meta: dict[str, str] | None) -> None:
    assert separator.parse(text) == meta


def test_born_digital_pages_are_not_rendered(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A born-digital PDF has a text layer on every page: none is rendered; a printed sheet is found
    one, two, _ = (invoice_pdf(i) for i in demo_invoices(seed=34))
    rendered: list[object] = []
    real = separator.read_qr
    monkeypatch.setattr(separator, "read_qr", lambda image: rendered.append(image) or real(image))
    assert separator.find_in_pdf(pages.select([(one, [1]), (two, [1])])) == {}
    assert rendered == []
    joined = pages.select([(one, [1]), (_sheet(tmp_path, "--meta", "site=Paris"), [1]), (two, [1])])
    assert separator.find_in_pdf(joined) == {2: {"site": "Paris"}}
    assert len(rendered) == 1


def test_in_queue_mode_the_documents_go_to_the_first_stage(services: Services, tmp_path: Path) -> None:
    from dramatiq import Worker
    from dramatiq.brokers.stub import StubBroker

    from workers.actors import QUEUES, Actors

    broker = StubBroker()
    actors = Actors(broker, lambda: services, max_retries=0)
    one, two, _ = (invoice_pdf(i) for i in demo_invoices(seed=35))
    receipt = actors.submit(filename="lot.pdf", data=_scanned_pdf(one, _sheet(tmp_path), two))
    worker = Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        for _ in range(4):  # each stage sends the next, each document the next one's stages
            for queue in QUEUES:
                broker.join(queue, fail_fast=True, timeout=120_000)
            worker.join()
    finally:
        worker.stop()
    source = services.catalogue.get(receipt.document_id)
    assert source.status is Status.ARCHIVED and source.reason == "lot séparé en 2 documents"
    children = [d for d in services.catalogue.list(limit=10) if d.id != source.id]
    assert sorted(c.meta["pages"] for c in children) == ["1", "3"]
    assert all(c.status.final and c.status is not Status.QUARANTINED for c in children), children
    assert audit.verify(services).ok
