"""The seal key in a PKCS#11 token (SoftHSM2), a PKCS#12 file, or nowhere: the signer boundary."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from cli.samples import Sample
from dematflow.errors import ConfigError
from pipeline import journal
from pipeline.context import open_services, signer_source
from pipeline.records import Status
from pipeline.run import process
from pipeline.settings import Settings
from signing import pdfsig
from signing.pades import check_last_seal, seal_pdf
from signing.policy import SignerKind
from signing.signer import pkcs12_signer
from tests.conftest import require, sample

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN, LABEL, PIN = "dematflow-test", "cachet", "123456"


@dataclass(frozen=True)
class Token:
    directory: Path
    pin_file: Path
    ca_pem: Path
    cert_der: bytes

    def env(self, data_dir: Path, **extra: str) -> dict[str, str]:
        return {
            "DEMATFLOW_DATA_DIR": str(data_dir),
            "DEMATFLOW_SEAL_PKCS11_MODULE": str(MODULE),
            "DEMATFLOW_SEAL_PKCS11_TOKEN": TOKEN,
            "DEMATFLOW_SEAL_PKCS11_KEY_LABEL": LABEL,
            "DEMATFLOW_SEAL_PKCS11_PIN_FILE": str(self.pin_file),
            "DEMATFLOW_SEAL_CHAIN": str(self.ca_pem),
            **extra,
        }


def _pki() -> tuple[rsa.RSAPrivateKey, x509.Certificate, rsa.RSAPrivateKey, x509.Certificate]:
    """A test root CA and a seal certificate it issued."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder(name("Test HSM root"), name("Test HSM root"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder(name("Cachet HSM de test"), ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(ca_key, hashes.SHA256())
    )
    return ca_key, ca, key, cert


def make_token(root: Path) -> tuple[Token, Path]:
    """A SoftHSM2 token under ``root`` holding a seal key and its certificate; returns it and the
    SOFTHSM2_CONF file to point the library at (before this process first loads it)."""
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    init = ["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", "654321"]
    subprocess.run(init, env=env, check=True, capture_output=True)
    _, ca, key, cert = _pki()
    der = serialization.Encoding.DER
    key_der = key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    for kind, data in (("privkey", key_der), ("cert", cert.public_bytes(der))):
        path = root / f"{kind}.der"
        path.write_bytes(data)
        tool = ["pkcs11-tool", "--module", str(MODULE), "--token-label", TOKEN, "--login", "--pin", PIN]
        write = ["--write-object", str(path), "--type", kind, "--label", LABEL, "--id", "01"]
        subprocess.run([*tool, *write], env=env, check=True, capture_output=True)
        path.unlink()  # the key now lives in the token only
    (root / "pin").write_text(PIN + "\n")
    (root / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return Token(root, root / "pin", root / "ca.pem", cert.public_bytes(der)), conf


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Token]:
    require(MODULE.is_file() and shutil.which("pkcs11-tool") is not None, "SoftHSM2 and OpenSC")
    made, conf = make_token(tmp_path_factory.mktemp("softhsm"))
    # The PKCS#11 library reads its configuration when this process first loads it.
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    yield made
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def test_a_pdf_sealed_in_the_pipeline_with_the_token_key_is_valid_and_no_file_key_exists(
    token: Token, tmp_path: Path, demo_set: list[Sample]
) -> None:
    # Given a sealing process configured with the token only
    settings = Settings.from_env(token.env(tmp_path / "data"))
    assert settings.seal.signer is SignerKind.PKCS11
    services = open_services(settings)
    # When an invoice goes through the whole pipeline
    s = sample(demo_set, "facture-facturx")
    doc = process(services, filename=s.path.name, data=s.path.read_bytes()).document
    assert doc.status is Status.ARCHIVED, doc.reason
    # Then poppler and pyHanko find one intact seal, made with the token's certificate
    sealed = services.store.get(doc.objects["sealed"].key)
    check = pdfsig.check(sealed)
    assert check.signatures == 1 and check.all_valid, check.output
    status = check_last_seal(sealed, [token.ca_pem])
    assert status.valid and status.whole_file and status.signer_der == token.cert_der
    # and the journal says a PKCS#11 key sealed it; no development key was ever generated
    [event] = [e for e in journal.entries(services.catalogue.engine) if e.stage == "seal"]
    detail = event.body["detail"]
    assert detail["signer"] == "pkcs11" and detail["development_seal"] is False
    keys_dir = settings.keys_dir
    assert not any(p.suffix == ".key" and p.name != "session.key" for p in keys_dir.glob("*")), list(
        keys_dir.glob("*")
    )
    assert not (keys_dir / "dev-seal.key").exists()


def test_a_wrong_pin_is_a_config_error(token: Token, tmp_path: Path) -> None:
    wrong = tmp_path / "pin"
    wrong.write_text("000000")
    env = token.env(tmp_path / "data", DEMATFLOW_SEAL_PKCS11_PIN_FILE=str(wrong))
    with pytest.raises(ConfigError, match="token"):
        signer_source(Settings.from_env(env)).get()


def test_a_process_without_seal_configuration_refuses_to_seal_and_makes_no_key(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"DEMATFLOW_DATA_DIR": str(tmp_path / "api"), "DEMATFLOW_SEAL_SIGNER": "none"}
    )
    source = signer_source(settings)
    with pytest.raises(ConfigError, match="sceller"):
        source.get()
    assert source.certificates() is None
    assert not settings.keys_dir.exists()


def test_the_embedded_default_makes_a_labelled_development_key_on_first_seal(tmp_path: Path) -> None:
    settings = Settings.from_env({"DEMATFLOW_DATA_DIR": str(tmp_path / "fresh")})
    source = signer_source(settings)
    assert not settings.keys_dir.exists()  # nothing generated before a seal is made
    signer = source.get()
    assert signer.development and "DEVELOPMENT" in signer.name
    assert (settings.keys_dir / "dev-seal.key").is_file()


def test_a_pkcs12_file_seals(tmp_path: Path, plain_pdf: bytes) -> None:
    _, ca, key, cert = _pki()
    bundle, password = tmp_path / "cachet.p12", tmp_path / "password"
    password.write_text("secret\n")
    encryption = serialization.BestAvailableEncryption(b"secret")
    bundle.write_bytes(pkcs12.serialize_key_and_certificates(b"cachet", key, cert, [ca], encryption))
    signer = pkcs12_signer(bundle, password)
    assert signer.kind is SignerKind.FILE and signer.trust_roots
    sealed = seal_pdf(plain_pdf, signer=signer)
    assert sealed.level == "PAdES-B-B" and not sealed.development
    assert pdfsig.check(sealed.data).all_valid


@pytest.fixture
def plain_pdf() -> bytes:
    import io

    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    page.drawString(72, 720, "Facture 2024-001")
    page.save()
    return buf.getvalue()
