"""Seal key material: generate a development PKI once, or load production keys from files."""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dematflow.errors import ConfigError

log = logging.getLogger(__name__)

ROOT_CERT = "dev-root-ca.pem"
SEAL_KEY = "dev-seal.key"
SEAL_CERT = "dev-seal.pem"
TSA_KEY = "dev-tsa.key"
TSA_CERT = "dev-tsa.pem"
README = "README.txt"  # written last: its presence means the set is complete
_LOCK = ".dev-credentials.lock"

_README_TEXT = """\
DEVELOPMENT CREDENTIALS - NOT FOR PRODUCTION

These keys and certificates were generated automatically by dematflow
(signing.credentials.ensure_dev_credentials) so that documents can be sealed and
timestamped on a development machine. The root CA is self-made and trusted by
nobody: a seal made with them proves nothing to an auditor.

  dev-root-ca.pem        development root CA (its private key was discarded)
  dev-seal.pem/.key      seal certificate and key (RSA-2048)
  dev-tsa.pem/.key       in-process timestamping authority certificate and key

In production, configure a qualified seal certificate and an RFC 3161 TSA URL.
"""


@dataclass(frozen=True)
class SealCredentials:
    """Paths to the seal key and certificate, its chain and an optional in-process TSA."""

    key_path: Path
    cert_path: Path
    chain_paths: tuple[Path, ...]
    tsa_key_path: Path | None
    tsa_cert_path: Path | None
    development: bool


def ensure_dev_credentials(directory: Path) -> SealCredentials:
    """Return the development credentials under ``directory``, generating them on first use."""
    directory.mkdir(parents=True, exist_ok=True)
    creds = _dev_credentials(directory)
    if (directory / README).is_file():
        return creds
    # flock is released by the kernel if the holder dies, so a crash leaves no stale lock.
    with open(directory / _LOCK, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (directory / README).is_file():
            log.warning("generating DEVELOPMENT seal credentials in %s", directory)
            _generate(directory)
    return creds


def load_credentials(
    key_path: Path, cert_path: Path, chain_paths: tuple[Path, ...] | list[Path] = ()
) -> SealCredentials:
    """Check and wrap production key material (PEM or DER files); no in-process TSA."""
    for path, what in [(key_path, "seal key"), (cert_path, "seal certificate")] + [
        (p, "chain certificate") for p in chain_paths
    ]:
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {what} file {path}: {exc.strerror}") from exc
        if not content:
            raise ConfigError(f"{what} file {path} is empty")
        if what != "seal key":
            _check_certificate(content, Path(path), what)
    return SealCredentials(
        key_path=Path(key_path),
        cert_path=Path(cert_path),
        chain_paths=tuple(Path(p) for p in chain_paths),
        tsa_key_path=None,
        tsa_cert_path=None,
        development=False,
    )


def _check_certificate(content: bytes, path: Path, what: str) -> None:
    try:
        if b"-----BEGIN" in content:
            x509.load_pem_x509_certificate(content)
        else:
            x509.load_der_x509_certificate(content)
    except ValueError as exc:
        raise ConfigError(f"{what} file {path} is not a PEM or DER X.509 certificate") from exc


def _dev_credentials(directory: Path) -> SealCredentials:
    return SealCredentials(
        key_path=directory / SEAL_KEY,
        cert_path=directory / SEAL_CERT,
        chain_paths=(directory / ROOT_CERT,),
        tsa_key_path=directory / TSA_KEY,
        tsa_cert_path=directory / TSA_CERT,
        development=True,
    )


def _generate(directory: Path) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root_name = _name("dematflow DEVELOPMENT root CA - not for production")
    root = (
        _builder(root_name, root_name, root_key, root_key, now, years=20)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    seal_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    seal = (
        _builder(
            _name("dematflow DEVELOPMENT seal - not for production"),
            root_name,
            seal_key,
            root_key,
            now,
            years=10,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(non_repudiation=True), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa = (
        _builder(
            _name("dematflow DEVELOPMENT TSA - not for production"),
            root_name,
            tsa_key,
            root_key,
            now,
            years=10,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    _write(directory / ROOT_CERT, root.public_bytes(pem), secret=False)
    _write(directory / SEAL_CERT, seal.public_bytes(pem), secret=False)
    _write(directory / SEAL_KEY, _key_pem(seal_key), secret=True)
    _write(directory / TSA_CERT, tsa.public_bytes(pem), secret=False)
    _write(directory / TSA_KEY, _key_pem(tsa_key), secret=True)
    _write(directory / README, _README_TEXT.encode(), secret=False)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "dematflow"),
        ]
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer_key: rsa.RSAPrivateKey,
    not_before: dt.datetime,
    *,
    years: int,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + dt.timedelta(days=365 * years))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )


def _key_usage(*, cert_sign: bool = False, non_repudiation: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, content: bytes, *, secret: bool) -> None:
    """Write atomically: a temp file in the same directory, then os.replace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600 if secret else 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
