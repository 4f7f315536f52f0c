"""The signer boundary: what a seal is made with (a pyHanko signer, its certificate and chain),
built from the development key, a key file or a PKCS#11 token, and only when a seal is made."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dematflow.errors import ConfigError
from signing.policy import SignerKind

if TYPE_CHECKING:  # pyHanko stays unimported until a process seals or verifies
    from asn1crypto import x509
    from pyhanko.sign.signers import Signer
    from pyhanko.sign.timestamps import TimeStamper

    from signing.credentials import SealCredentials

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SealSigner:
    """A ready signer. ``dev_timestamper`` is the in-process development TSA (development only)."""

    signer: Signer
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    kind: SignerKind
    dev_timestamper: TimeStamper | None = None
    tsa_certificate: x509.Certificate | None = None

    @property
    def development(self) -> bool:
        return self.kind is SignerKind.DEVELOPMENT

    @property
    def name(self) -> str:
        """The seal certificate's common name (or its whole subject when it has none)."""
        subject = self.certificate.subject
        return str(subject.native.get("common_name") or subject.human_friendly)

    @property
    def trust_roots(self) -> tuple[x509.Certificate, ...]:
        """The self-signed certificates of the chain (the roots a validator of our seals trusts)."""
        return tuple(c for c in self.chain if c.self_signed)


@dataclass(frozen=True)
class Certificates:
    """The seal certificate and its chain, known without opening the key (for verification)."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    tsa: x509.Certificate | None = None  # the development TSA's, for an auditor's openssl ts -verify


class SignerSource:
    """Builds the signer once, on first use: a process that never seals never opens a key (and the
    development key is generated only by a process that seals with it)."""

    def __init__(
        self,
        kind: SignerKind,
        build: Callable[[], SealSigner] | None,
        certificates: Callable[[], Certificates | None] | None = None,
    ) -> None:
        self.kind = kind
        self._build = build
        self._certificates = certificates
        self._signer: SealSigner | None = None
        self._lock = threading.Lock()

    @property
    def development(self) -> bool:
        return self.kind is SignerKind.DEVELOPMENT

    def get(self) -> SealSigner:
        """The signer; ConfigError in a process not configured to seal."""
        if self._build is None:
            raise ConfigError(
                "ce processus n'est pas configuré pour sceller (DEMATFLOW_SEAL_SIGNER=none) : "
                "seuls les workers de scellement reçoivent la clé de cachet"
            )
        with self._lock:
            if self._signer is None:
                self._signer = self._build()
                log.info("seal signer ready: %s (%s)", self._signer.name, self.kind.value)
            return self._signer

    def certificates(self) -> Certificates | None:
        """Our seal certificate and chain for trust checks; None when this process knows none."""
        if self._certificates is not None:
            return self._certificates()
        if self._build is None:
            return None
        signer = self.get()
        return Certificates(signer.certificate, signer.chain, signer.tsa_certificate)

    @classmethod
    def of(cls, signer: SealSigner) -> SignerSource:
        """A source around a signer built already (tests, benchmarks)."""
        source = cls(signer.kind, lambda: signer)
        source._signer = signer
        return source


def development_signer(keys_dir: Path) -> SealSigner:
    """The development key under ``keys_dir`` (generated on first use), with its in-process TSA."""
    from signing.credentials import ensure_dev_credentials

    return from_credentials(ensure_dev_credentials(keys_dir))


def from_credentials(credentials: SealCredentials) -> SealSigner:
    """A signer from PEM/DER files (cached per file set and modification time)."""
    from signing import softkey

    timestamper, tsa_cert = None, None
    if credentials.tsa_key_path is not None and credentials.tsa_cert_path is not None:
        timestamper = softkey.dev_timestamper(credentials.tsa_key_path, credentials.tsa_cert_path)
        tsa_cert = timestamper.tsa_cert
    signer = softkey.pem_signer(credentials.key_path, credentials.cert_path, credentials.chain_paths)
    return SealSigner(
        signer=signer,
        certificate=signer.signing_cert,
        chain=softkey.load_certificates(credentials.chain_paths) if credentials.chain_paths else (),
        kind=SignerKind.DEVELOPMENT if credentials.development else SignerKind.FILE,
        dev_timestamper=timestamper,
        tsa_certificate=tsa_cert,
    )


def file_signer(key: Path, cert: Path, chain: tuple[Path, ...] = ()) -> SealSigner:
    """A production key in PEM or DER files."""
    from signing.credentials import load_credentials

    return from_credentials(load_credentials(key, cert, chain))


def pkcs12_signer(bundle: Path, password_file: Path | None, chain: tuple[Path, ...] = ()) -> SealSigner:
    """A production key in a PKCS#12 file, its password read from ``password_file``."""
    from signing import softkey

    signer, others = softkey.pkcs12_signer(bundle, password_file, chain)
    return SealSigner(signer=signer, certificate=signer.signing_cert, chain=others, kind=SignerKind.FILE)


def file_certificates(cert: Path, chain: tuple[Path, ...], tsa: Path | None = None) -> Certificates:
    """The seal certificate and chain read from files, without the key."""
    from signing import softkey

    [certificate, *_] = softkey.load_certificates((cert,))
    chain_certs = softkey.load_certificates(chain) if chain else ()
    return Certificates(certificate, chain_certs, softkey.load_certificates((tsa,))[0] if tsa else None)
