"""CMS layer shared by both seals: signer and timestamper loading, detached CAdES for XML."""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import cms, core, keys, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.keys import load_cert_from_pemder, load_certs_from_pemder, load_private_key_from_pemder
from pyhanko.sign import general, signers
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps import DummyTimeStamper, HTTPTimeStamper, TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from dematflow.errors import ConfigError, ToolFailed
from signing.credentials import SealCredentials

log = logging.getLogger(__name__)

DIGEST = "sha256"
TSA_TIMEOUT_S = 30


@dataclass(frozen=True)
class Sealed:
    """A sealed document (a PDF, or DER CMS bytes for a detached seal) and how it was sealed.

    ``signed_at`` is the local clock just before signing; the timestamp token, when present,
    carries the TSA's own time. ``development`` is True when a development key or TSA was used.
    """

    data: bytes
    signer: str
    signed_at: datetime
    timestamped: bool
    development: bool
    level: str


def seal_detached(data: bytes, *, credentials: SealCredentials, tsa_url: str | None = None) -> Sealed:
    """Make a detached CAdES signature (DER) over ``data``; timestamped as ``seal_pdf`` is."""
    signer = load_signer(credentials)
    timestamper = choose_timestamper(credentials, tsa_url=tsa_url)
    signed_at = datetime.now(UTC)
    try:
        content_info = asyncio.run(
            signer.async_sign_general_data(
                data, DIGEST, detached=True, use_cades=True, timestamper=timestamper
            )
        )
    except TimestampRequestError as exc:
        raise ToolFailed(f"timestamp authority unreachable or refused: {exc}") from exc
    return Sealed(
        data=content_info.dump(),
        signer=signer_name(signer),
        signed_at=signed_at,
        timestamped=timestamper is not None,
        development=is_development(credentials, tsa_url=tsa_url),
        level="CAdES-B-T" if timestamper is not None else "CAdES-B-B",
    )


def verify_detached(data: bytes, signature: bytes) -> bool:
    """True when ``signature`` is an intact, cryptographically valid CMS signature of ``data``.

    Certificate trust is not checked (a development seal is untrusted by design); an
    embedded timestamp must be intact too; an unparseable signature counts as not valid.
    """
    try:
        content_info = cms.ContentInfo.load(signature)
        if content_info["content_type"].native != "signed_data":
            return False
        # No trust roots and no fetching: integrity only, offline, whatever the host trusts.
        context = ValidationContext(trust_roots=[], allow_fetching=False)
        status = asyncio.run(
            async_validate_detached_cms(
                data,
                content_info["content"],
                signer_validation_context=context,
                ts_validation_context=context,
            )
        )
    except (ValueError, TypeError, KeyError) as exc:
        log.warning("detached signature unreadable: %s", type(exc).__name__)
        return False
    ts = status.timestamp_validity
    ts_ok = ts is None or (ts.intact and ts.valid)
    return bool(status.intact and status.valid and ts_ok)


def load_signer(credentials: SealCredentials) -> signers.SimpleSigner:
    """Load the seal key and certificates (cached per file set and modification time)."""
    paths = (credentials.key_path, credentials.cert_path, *credentials.chain_paths)
    return _load_signer(paths, tuple(_mtime(p) for p in paths))


def choose_timestamper(credentials: SealCredentials, *, tsa_url: str | None) -> TimeStamper | None:
    """A remote TSA if a URL is given, else the development in-process TSA, else none."""
    if tsa_url:
        return HTTPTimeStamper(tsa_url, timeout=TSA_TIMEOUT_S)
    if credentials.tsa_key_path is not None and credentials.tsa_cert_path is not None:
        paths = (credentials.tsa_key_path, credentials.tsa_cert_path)
        return _dev_timestamper(paths, tuple(_mtime(p) for p in paths))
    return None


def is_development(credentials: SealCredentials, *, tsa_url: str | None) -> bool:
    """A development key, or the in-process development TSA, makes a development seal."""
    return credentials.development or (not tsa_url and credentials.tsa_key_path is not None)


def signer_name(signer: signers.SimpleSigner) -> str:
    """The seal certificate's common name (or its whole subject when it has none)."""
    if signer.signing_cert is None:
        return "unknown"
    subject = signer.signing_cert.subject
    return str(subject.native.get("common_name") or subject.human_friendly)


class _PreloadedKeySigner(signers.SimpleSigner):
    """A SimpleSigner that parses its RSA key once.

    pyHanko's SimpleSigner re-parses (and so re-validates) the private key for every
    signature, about 30 ms per RSA-2048 key, twice per PDF seal.
    """

    def __init__(
        self,
        *,
        signing_cert: x509.Certificate,
        signing_key: keys.PrivateKeyInfo,
        cert_registry: SimpleCertificateStore,
    ) -> None:
        super().__init__(signing_cert=signing_cert, signing_key=signing_key, cert_registry=cert_registry)
        self._key = serialization.load_der_private_key(self.signing_key.dump(), password=None)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if isinstance(self._key, RSAPrivateKey) and mechanism.signature_algo == "rsassa_pkcs1v15":
            return self._key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        return super().sign_raw(data, digest_algorithm)


class _PreloadedKeyTimeStamper(DummyTimeStamper):
    """pyHanko's in-process development TSA, with its RSA key parsed once.

    DummyTimeStamper re-parses (and so re-validates) its key for every timestamp: ~50 ms, 40 % of
    the CPU time of sealing a two-page scan. This is its ``_sign_tst_info`` with the parsed key."""

    def __init__(self, *, tsa_cert: x509.Certificate, tsa_key: keys.PrivateKeyInfo) -> None:
        super().__init__(tsa_cert=tsa_cert, tsa_key=tsa_key)
        key = serialization.load_der_private_key(tsa_key.dump(), password=None)
        if not isinstance(key, RSAPrivateKey):
            raise ConfigError("the development TSA key must be an RSA key")
        self._key = key

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                simple_cms_attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
                simple_cms_attribute("message_digest", digest.finalize()),
            ]
        )
        hash_algorithm = get_pyca_cryptography_hash(md_algorithm.upper())
        return self._key.sign(signed_attrs.dump(), PKCS1v15(), hash_algorithm), signed_attrs


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"cannot read seal credential file {path}: {exc.strerror}") from exc


@functools.lru_cache(maxsize=8)
def _load_signer(paths: tuple[Path, ...], _mtimes: tuple[int, ...]) -> signers.SimpleSigner:
    key_path, cert_path, *chain = paths
    try:
        registry = SimpleCertificateStore()
        registry.register_multiple(load_certs_from_pemder([str(p) for p in chain]))
        return _PreloadedKeySigner(
            signing_cert=load_cert_from_pemder(str(cert_path)),
            signing_key=load_private_key_from_pemder(str(key_path), passphrase=None),
            cert_registry=registry,
        )
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot load seal key {key_path} with certificate {cert_path}: {exc}") from exc


@functools.lru_cache(maxsize=4)
def _dev_timestamper(paths: tuple[Path, ...], _mtimes: tuple[int, ...]) -> _PreloadedKeyTimeStamper:
    key_path, cert_path = paths
    try:
        return _PreloadedKeyTimeStamper(
            tsa_cert=load_cert_from_pemder(str(cert_path)),
            tsa_key=load_private_key_from_pemder(str(key_path), passphrase=None),
        )
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot load development TSA {cert_path}: {exc}") from exc
