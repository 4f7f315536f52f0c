"""Tests for signing/: dev PKI, PAdES seals checked by real pdfsig, detached CAdES, image wrap."""

from __future__ import annotations

import io
import stat
import threading
import time
from pathlib import Path

import pypdfium2
import pytest
from cryptography import x509
from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from reportlab.pdfgen import canvas

from dematflow.errors import (
    ConfigError,
    CorruptInput,
    EmptyInput,
    EncryptedInput,
    ToolFailed,
)
from signing import pdfsig
from signing.cms import seal_detached, verify_detached
from signing.credentials import SealCredentials, ensure_dev_credentials, load_credentials
from signing.pades import seal_pdf
from signing.wrap import wrap_images_as_pdf


@pytest.fixture(scope="module")
def creds(tmp_path_factory: pytest.TempPathFactory) -> SealCredentials:
    return ensure_dev_credentials(tmp_path_factory.mktemp("dev-credentials"))


@pytest.fixture(scope="module")
def plain_pdf() -> bytes:
    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    page.drawString(72, 720, "FACTURE F-2026-0001 - 1 234,56 EUR TTC")
    page.showPage()
    page.save()
    return buf.getvalue()


@pytest.fixture(scope="module")
def supplier_signed_pdf(plain_pdf: bytes, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A PDF already signed by someone else (adbe.pkcs7.detached), like a signed Factur-X."""
    other = ensure_dev_credentials(tmp_path_factory.mktemp("supplier-credentials"))
    signer = signers.SimpleSigner.load(str(other.key_path), str(other.cert_path))
    assert signer is not None
    out = io.BytesIO()
    signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(plain_pdf)),
        signers.PdfSignatureMetadata(field_name="SupplierSignature"),
        signer=signer,
        output=out,
    )
    return out.getvalue()


def _pages(pdf: bytes) -> int:
    doc = pypdfium2.PdfDocument(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


# --- credentials ------------------------------------------------------------------------------


def test_dev_credentials_are_generated_once_and_reused(tmp_path: Path) -> None:
    first = ensure_dev_credentials(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    second = ensure_dev_credentials(tmp_path)
    assert first == second and first.development
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert "DEVELOPMENT" in (tmp_path / "README.txt").read_text()
    for key in (first.key_path, first.tsa_key_path):
        assert key is not None and stat.S_IMODE(key.stat().st_mode) == 0o600
    seal = x509.load_pem_x509_certificate(first.cert_path.read_bytes())
    assert "DEVELOPMENT" in seal.subject.rfc4514_string()
    usage = seal.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    assert first.tsa_cert_path is not None
    tsa = x509.load_pem_x509_certificate(first.tsa_cert_path.read_bytes())
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]


def test_racing_first_use_yields_one_consistent_set(tmp_path: Path) -> None:
    # Given two workers booting at once on an empty directory
    results: list[SealCredentials] = []
    workers = [
        threading.Thread(target=lambda: results.append(ensure_dev_credentials(tmp_path))) for _ in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    # Then both get the same files, and the seal certificate chains to the root on disk
    assert len(results) == 2 and results[0] == results[1]
    root = x509.load_pem_x509_certificate(results[0].chain_paths[0].read_bytes())
    seal = x509.load_pem_x509_certificate(results[0].cert_path.read_bytes())
    seal.verify_directly_issued_by(root)


def test_load_credentials_reports_missing_and_bad_files(creds: SealCredentials) -> None:
    loaded = load_credentials(creds.key_path, creds.cert_path, creds.chain_paths)
    assert not loaded.development and loaded.tsa_key_path is None
    with pytest.raises(ConfigError, match="seal key"):
        load_credentials(creds.key_path.with_name("missing.key"), creds.cert_path)
    with pytest.raises(ConfigError, match="not a PEM or DER"):
        load_credentials(creds.key_path, creds.key_path.parent / "README.txt")


# --- PAdES ------------------------------------------------------------------------------------


def test_seal_is_incremental_timestamped_and_valid_for_pdfsig(
    creds: SealCredentials, plain_pdf: bytes
) -> None:
    sealed = seal_pdf(plain_pdf, credentials=creds)

    assert sealed.data.startswith(plain_pdf)
    assert sealed.timestamped and sealed.development and sealed.level == "PAdES-B-T"
    assert "DEVELOPMENT" in sealed.signer
    report = pdfsig.check(sealed.data)
    assert report.signatures == 1 and report.all_valid, report.output
    assert "ETSI.CAdES.detached" in report.output

    embedded = PdfFileReader(io.BytesIO(sealed.data)).embedded_signatures
    offline = ValidationContext(trust_roots=[], allow_fetching=False)
    status = validate_pdf_signature(
        embedded[0], signer_validation_context=offline, ts_validation_context=offline
    )
    assert status.intact and status.valid
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact and status.timestamp_validity.valid


def test_seal_without_tsa_is_baseline_b(creds: SealCredentials, plain_pdf: bytes) -> None:
    no_tsa = load_credentials(creds.key_path, creds.cert_path, creds.chain_paths)
    sealed = seal_pdf(plain_pdf, credentials=no_tsa)
    assert not sealed.timestamped and sealed.level == "PAdES-B-B" and not sealed.development
    assert pdfsig.check(sealed.data).all_valid


def test_seal_keeps_an_existing_signature_valid(creds: SealCredentials, supplier_signed_pdf: bytes) -> None:
    assert pdfsig.check(supplier_signed_pdf).signatures == 1
    sealed = seal_pdf(supplier_signed_pdf, credentials=creds)
    assert sealed.data.startswith(supplier_signed_pdf)
    report = pdfsig.check(sealed.data)
    assert report.signatures == 2 and report.all_valid, report.output


def test_sealing_twice_adds_a_second_field(creds: SealCredentials, plain_pdf: bytes) -> None:
    once = seal_pdf(plain_pdf, credentials=creds)
    twice = seal_pdf(once.data, credentials=creds)
    report = pdfsig.check(twice.data)
    assert report.signatures == 2 and report.all_valid
    assert "DematflowSeal2" in report.output


def test_tampering_after_seal_is_seen_by_pdfsig(creds: SealCredentials, plain_pdf: bytes) -> None:
    sealed = bytearray(seal_pdf(plain_pdf, credentials=creds).data)
    at = sealed.index(b"FACTURE") if b"FACTURE" in sealed else 200
    sealed[at] ^= 0x01
    report = pdfsig.check(bytes(sealed))
    assert report.signatures == 1 and not report.all_valid


def test_encrypted_pdf_is_refused(creds: SealCredentials, plain_pdf: bytes) -> None:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(plain_pdf))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(EncryptedInput):
        seal_pdf(buf.getvalue(), credentials=creds)


@pytest.mark.parametrize("data", [b"not a pdf at all", b"%PDF-1.7\n garbage \x00\xff"])
def test_garbage_is_corrupt_input(creds: SealCredentials, data: bytes) -> None:
    with pytest.raises(CorruptInput):
        seal_pdf(data, credentials=creds)


def test_empty_input(creds: SealCredentials) -> None:
    with pytest.raises(EmptyInput):
        seal_pdf(b"", credentials=creds)


def test_unreachable_tsa_is_retryable(creds: SealCredentials, plain_pdf: bytes) -> None:
    with pytest.raises(ToolFailed) as caught:
        seal_pdf(plain_pdf, credentials=creds, tsa_url="http://127.0.0.1:9/tsa")
    assert caught.value.retryable


# --- detached CAdES ---------------------------------------------------------------------------


def test_detached_seal_verifies_and_detects_a_changed_byte(creds: SealCredentials) -> None:
    xml = b'<?xml version="1.0"?><Invoice><ID>F-2026-0001</ID></Invoice>'
    sealed = seal_detached(xml, credentials=creds)
    assert sealed.level == "CAdES-B-T" and sealed.timestamped
    assert verify_detached(xml, sealed.data)
    changed = bytearray(xml)
    changed[-3] ^= 0x01
    assert not verify_detached(bytes(changed), sealed.data)
    assert not verify_detached(xml, b"\x30\x03garbage")


# --- image wrap -------------------------------------------------------------------------------


def _image(fmt: str, mode: str = "RGB", **save: object) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (120, 80), "white" if mode != "RGBA" else (10, 20, 30, 128)).save(buf, fmt, **save)
    return buf.getvalue()


def test_wrap_png_and_jpeg_losslessly() -> None:
    png = wrap_images_as_pdf(_image("PNG"))
    assert png.startswith(b"%PDF") and _pages(png) == 1
    jpeg = _image("JPEG", quality=90)
    wrapped = wrap_images_as_pdf(jpeg)
    assert _pages(wrapped) == 1
    assert jpeg in wrapped  # embedded as-is: no re-encoding


def test_wrap_png_with_alpha_keeps_a_soft_mask() -> None:
    pdf = wrap_images_as_pdf(_image("PNG", mode="RGBA"))
    assert _pages(pdf) == 1 and b"/SMask" in pdf


def test_wrap_multipage_tiff() -> None:
    frames = [Image.new("L", (100, 140), shade) for shade in (0, 128, 255)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_lzw")
    assert _pages(wrap_images_as_pdf(buf.getvalue())) == 3


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n truncated", b"just text"])
def test_wrap_garbage_is_corrupt_input(data: bytes) -> None:
    with pytest.raises(CorruptInput):
        wrap_images_as_pdf(data)


def test_wrapped_image_seals(creds: SealCredentials) -> None:
    sealed = seal_pdf(wrap_images_as_pdf(_image("JPEG")), credentials=creds)
    assert pdfsig.check(sealed.data).all_valid


# --- pdfsig -----------------------------------------------------------------------------------


def test_pdfsig_probe_and_unsigned_pdf(plain_pdf: bytes) -> None:
    assert pdfsig.probe()[0].isdigit()
    report = pdfsig.check(plain_pdf)
    assert report.signatures == 0 and not report.all_valid


@pytest.mark.benchmark
def test_seal_speed(creds: SealCredentials, plain_pdf: bytes) -> None:
    seal_pdf(plain_pdf, credentials=creds)  # warm the key cache
    start = time.perf_counter()
    for _ in range(20):
        seal_pdf(plain_pdf, credentials=creds)
    print(f"seal_pdf: {(time.perf_counter() - start) / 20 * 1000:.1f} ms per seal")


def test_a_container_that_outgrows_the_room_kept_for_it_is_sealed_again(
    creds: SealCredentials, plain_pdf: bytes
) -> None:
    # Given the room pyHanko estimated for this signer's seal, remembered, then made far too small
    from signing import pades

    pades._ROOM.clear()
    seal_pdf(plain_pdf, credentials=creds, tsa_url=None)
    (room,) = pades._ROOM
    pades._ROOM[room] = 64
    # When the next document is sealed, it is estimated again, and the seal is valid
    sealed = seal_pdf(plain_pdf, credentials=creds, tsa_url=None).data
    report = pdfsig.check(sealed)
    assert sealed.startswith(plain_pdf) and report.signatures == 1 and report.all_valid, report.output
    assert pades._ROOM[room] > 64
