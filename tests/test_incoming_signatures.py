"""Signatures a deposited PDF already carries: validated at reception, reported, kept valid by our seal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from reportlab.pdfgen import canvas

from cli.samples import Sample
from dematflow.errors import ConfigError
from pipeline.context import Services
from pipeline.records import Document, Status
from pipeline.run import process
from signing import pdfsig
from signing.credentials import SealCredentials, ensure_dev_credentials
from signing.incoming import (
    NO_TRUST_LIST,
    SignatureReport,
    Verdict,
    has_signatures,
    load_trust_roots,
    read_signatures,
)
from signing.softkey import dev_timestamper
from tests.conftest import sample
from validators.signatures import INTACT, MODIFIED, UNREADABLE, signature_findings

FIELD = "SupplierSignature"


@pytest.fixture(scope="module")
def supplier(tmp_path_factory: pytest.TempPathFactory) -> SealCredentials:
    return ensure_dev_credentials(tmp_path_factory.mktemp("supplier-credentials"))


@pytest.fixture(scope="module")
def plain_pdf() -> bytes:
    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    page.drawString(72, 720, "FACTURE F-2026-0001 - 1 234,56 EUR TTC")
    page.showPage()
    page.save()
    return buf.getvalue()


def sign(pdf: bytes, creds: SealCredentials, *, timestamp: bool = False) -> bytes:
    """The supplier's own signature (adbe.pkcs7.detached), as a signed Factur-X would carry it."""
    signer = signers.SimpleSigner.load(str(creds.key_path), str(creds.cert_path))
    assert signer is not None and creds.tsa_key_path and creds.tsa_cert_path
    stamper = dev_timestamper(creds.tsa_key_path, creds.tsa_cert_path) if timestamp else None
    out = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False),
        signers.PdfSignatureMetadata(field_name=FIELD),
        signer=signer,
        timestamper=stamper,
        output=out,
    )
    return out.getvalue()


def changed_page(signed: bytes) -> bytes:
    """An incremental update after the signature that replaces the first page's content."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    page = writer.root["/Pages"]["/Kids"][0]
    page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=b"BT ET"))
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def flipped(signed: bytes) -> bytes:
    """One byte of the signed range changed (the case of a letter of the /Producer key), the PDF
    still parseable."""
    data = bytearray(signed)
    at = data.index(b"/Producer") + 2
    data[at] ^= 0x20
    return bytes(data)


def garbled(signed: bytes) -> bytes:
    """The signature's CMS overwritten with zeros: the dictionary is there, its content is not."""
    data = bytearray(signed)
    at = data.index(b"/Contents <") + len(b"/Contents <")
    data[at : at + 64] = b"0" * 64
    return bytes(data)


# --- signing/incoming: the leaf ------------------------------------------------------------------


def test_an_unsigned_pdf_costs_no_parsing(plain_pdf: bytes) -> None:
    assert not has_signatures(plain_pdf)
    assert read_signatures(plain_pdf) == ()


def test_an_intact_timestamped_signature_is_reported_with_an_unverified_signer(
    supplier: SealCredentials, plain_pdf: bytes
) -> None:
    (report,) = read_signatures(sign(plain_pdf, supplier, timestamp=True))
    assert report.field == FIELD and report.verdict is Verdict.INTACT
    assert report.intact and report.valid and report.trusted is None
    assert report.signer and "DEVELOPMENT seal" in report.signer and report.issuer
    assert report.timestamp and report.timestamp_valid and report.timestamp_time is not None
    assert report.signing_time is not None and report.certificate_valid_at_signing
    assert report.coverage == "entire_file" and report.modification_level == "none" and report.docmdp_ok
    assert NO_TRUST_LIST in report.summary and "horodatée" in report.summary
    assert signature_findings([report]) == []  # an unverified signer is not a finding by itself
    assert SignatureReport.from_json(json.loads(json.dumps(report.to_json()))) == report


def test_a_signer_chaining_to_a_configured_root_is_trusted(
    supplier: SealCredentials, plain_pdf: bytes
) -> None:
    roots = load_trust_roots(supplier.chain_paths)
    (report,) = read_signatures(sign(plain_pdf, supplier), trust_roots=roots)
    assert report.verdict is Verdict.INTACT and report.trusted is True
    assert "signataire de confiance" in report.summary and not report.timestamp


def test_a_signer_outside_the_trust_list_is_reported_not_flagged(
    supplier: SealCredentials, plain_pdf: bytes, tmp_path: Path
) -> None:
    other = ensure_dev_credentials(tmp_path / "other")
    (report,) = read_signatures(sign(plain_pdf, supplier), trust_roots=load_trust_roots(other.chain_paths))
    assert report.verdict is Verdict.INTACT and report.trusted is False and report.problem
    assert signature_findings([report]) == []


def test_changes_after_signing_are_a_modified_signature(supplier: SealCredentials, plain_pdf: bytes) -> None:
    (report,) = read_signatures(changed_page(sign(plain_pdf, supplier)))
    assert report.verdict is Verdict.MODIFIED and report.intact
    assert report.coverage == "entire_revision" and report.modification_level == "other"
    assert report.docmdp_ok is False
    (finding,) = signature_findings([report])
    assert finding.rule == MODIFIED and finding.severity.value == "warning" and "modifié" in finding.message


def test_a_changed_byte_in_the_signed_range_breaks_the_signature(
    supplier: SealCredentials, plain_pdf: bytes
) -> None:
    (report,) = read_signatures(flipped(sign(plain_pdf, supplier)))
    assert report.verdict is Verdict.BROKEN and report.intact is False
    (finding,) = signature_findings([report])
    assert finding.rule == INTACT and "rompue" in finding.message


def test_a_garbled_signature_dictionary_is_unreadable_not_a_crash(
    supplier: SealCredentials, plain_pdf: bytes
) -> None:
    signed = sign(plain_pdf, supplier)
    for broken in (garbled(signed), signed.replace(b"/ByteRange [", b"/ByteRange [abc", 1)):
        (report,) = read_signatures(broken)
        assert report.verdict is Verdict.UNREADABLE and report.problem
        assert [f.rule for f in signature_findings([report])] == [UNREADABLE]


def test_an_unreadable_trust_root_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "roots.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match="DEMATFLOW_SIGNATURE_TRUST_ROOTS"):
        load_trust_roots([bad])
    with pytest.raises(ConfigError):
        load_trust_roots([tmp_path / "missing.pem"])


# --- through the embedded pipeline ---------------------------------------------------------------


def _report(services: Services, doc: Document) -> dict:  # type: ignore[type-arg]
    return json.loads(services.store.get(doc.objects["report"].key))


def _facturx(demo_set: list[Sample]) -> bytes:
    return sample(demo_set, "facture-facturx").path.read_bytes()


def test_a_supplier_signed_facturx_is_archived_and_both_signatures_stay_valid(
    services: Services, demo_set: list[Sample], supplier: SealCredentials
) -> None:
    # Given a conformant Factur-X the supplier signed
    signed = sign(_facturx(demo_set), supplier, timestamp=True)
    # When it is deposited and processed
    doc = process(services, filename="signee.pdf", data=signed).document
    # Then it is archived clean, the report lists the supplier's signature as intact...
    assert doc.status is Status.ARCHIVED, doc.reason
    (listed,) = _report(services, doc)["signatures"]
    assert listed["field"] == FIELD and listed["verdict"] == "intact" and listed["intact"] is True
    assert listed["timestamp_valid"] is True and NO_TRUST_LIST in listed["summary"]
    assert "signatures" in doc.checked and [s.verdict for s in doc.signatures] == [Verdict.INTACT]
    # ...and our seal, an incremental update, leaves it valid: pdfsig sees both signatures valid
    sealed = services.store.get(doc.objects["sealed"].key)
    assert sealed.startswith(signed)
    check = pdfsig.check(sealed)
    assert check.signatures == 2 and check.all_valid, check.output
    assert FIELD in check.output and "DematflowSeal" in check.output


@pytest.mark.parametrize(
    ("alter", "rule"),
    [(changed_page, MODIFIED), (flipped, INTACT), (garbled, UNREADABLE)],
    ids=["changed-after-signing", "byte-flipped", "garbled"],
)
def test_a_broken_supplier_signature_sends_the_document_to_review(
    services: Services, demo_set: list[Sample], supplier: SealCredentials, alter: object, rule: str
) -> None:
    # Given a supplier-signed Factur-X whose bytes were altered after signing
    assert callable(alter)
    altered = alter(sign(_facturx(demo_set), supplier))
    # When it is processed
    doc = process(services, filename="alteree.pdf", data=altered).document
    # Then the worker does not fail: the document is archived for review, with the finding
    assert doc.status is Status.NEEDS_REVIEW, doc.reason
    assert doc.reason and rule in doc.reason
    report = _report(services, doc)
    assert rule in {f["rule"] for f in report["findings"] if f["severity"] == "warning"}
    assert report["signatures"][0]["verdict"] != "intact"
    assert "sealed" in doc.objects  # archived as evidence, sealed like any other
