"""Software keys read from files (PEM, DER, PKCS#12), parsed once and cached per file and mtime."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path

from asn1crypto import cms, core, keys, x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.keys import load_cert_from_pemder, load_certs_from_pemder, load_private_key_from_pemder
from pyhanko.sign import general, signers
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from dematflow.errors import ConfigError


class PreloadedKeySigner(signers.SimpleSigner):
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


class PreloadedKeyTimeStamper(DummyTimeStamper):
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


def mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"cannot read seal credential file {path}: {exc.strerror}") from exc


def load_certificates(paths: tuple[Path, ...]) -> tuple[x509.Certificate, ...]:
    """PEM or DER certificates (a PEM file may hold several); ConfigError when unreadable."""
    return _load_certificates(paths, tuple(mtime(p) for p in paths))


def pem_signer(key: Path, cert: Path, chain: tuple[Path, ...]) -> PreloadedKeySigner:
    paths = (key, cert, *chain)
    return _pem_signer(paths, tuple(mtime(p) for p in paths))


def pkcs12_signer(
    bundle: Path, password_file: Path | None, chain: tuple[Path, ...]
) -> tuple[PreloadedKeySigner, tuple[x509.Certificate, ...]]:
    """The key and certificate of a PKCS#12 file, with the certificates it carries and ``chain``."""
    paths = (bundle, *((password_file,) if password_file else ()), *chain)
    return _pkcs12_signer(bundle, password_file, chain, tuple(mtime(p) for p in paths))


def dev_timestamper(key: Path, cert: Path) -> PreloadedKeyTimeStamper:
    return _dev_timestamper((key, cert), (mtime(key), mtime(cert)))


@functools.lru_cache(maxsize=16)
def _load_certificates(paths: tuple[Path, ...], _mtimes: tuple[int, ...]) -> tuple[x509.Certificate, ...]:
    try:
        return tuple(load_certs_from_pemder([str(p) for p in paths]))
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot read the certificates {', '.join(map(str, paths))}: {exc}") from exc


@functools.lru_cache(maxsize=8)
def _pem_signer(paths: tuple[Path, ...], _mtimes: tuple[int, ...]) -> PreloadedKeySigner:
    key_path, cert_path, *chain = paths
    try:
        registry = SimpleCertificateStore()
        registry.register_multiple(load_certs_from_pemder([str(p) for p in chain]))
        return PreloadedKeySigner(
            signing_cert=load_cert_from_pemder(str(cert_path)),
            signing_key=load_private_key_from_pemder(str(key_path), passphrase=None),
            cert_registry=registry,
        )
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot load seal key {key_path} with certificate {cert_path}: {exc}") from exc


@functools.lru_cache(maxsize=4)
def _pkcs12_signer(
    bundle: Path, password_file: Path | None, chain: tuple[Path, ...], _mtimes: tuple[int, ...]
) -> tuple[PreloadedKeySigner, tuple[x509.Certificate, ...]]:
    try:
        password = password_file.read_bytes().rstrip(b"\r\n") if password_file else None
        key, cert, extra = pkcs12.load_key_and_certificates(bundle.read_bytes(), password or None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot open the PKCS#12 seal file {bundle}: {exc}") from exc
    if key is None or cert is None:
        raise ConfigError(f"the PKCS#12 seal file {bundle} holds no key with its certificate")
    der = serialization.Encoding.DER
    signing_key = keys.PrivateKeyInfo.load(
        key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    others = tuple(x509.Certificate.load(c.public_bytes(der)) for c in extra) + load_certificates(chain)
    registry = SimpleCertificateStore()
    registry.register_multiple(others)
    signer = PreloadedKeySigner(
        signing_cert=x509.Certificate.load(cert.public_bytes(der)),
        signing_key=signing_key,
        cert_registry=registry,
    )
    return signer, others


@functools.lru_cache(maxsize=4)
def _dev_timestamper(paths: tuple[Path, ...], _mtimes: tuple[int, ...]) -> PreloadedKeyTimeStamper:
    key_path, cert_path = paths
    try:
        return PreloadedKeyTimeStamper(
            tsa_cert=load_cert_from_pemder(str(cert_path)),
            tsa_key=load_private_key_from_pemder(str(key_path), passphrase=None),
        )
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot load development TSA {cert_path}: {exc}") from exc
