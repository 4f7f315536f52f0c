"""Seal keys held in a PKCS#11 token (an HSM, SoftHSM in tests), through pyHanko and python-pkcs11.

The private key never leaves the token; the certificate is the token's certificate object with the
key's label, unless a certificate file is given. Imported only by a process that seals with a token.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from pathlib import Path

from dematflow.errors import ConfigError
from signing.policy import SignerKind
from signing.signer import SealSigner

log = logging.getLogger(__name__)

_INSTALL = "PKCS#11 needs python-pkcs11 in this process's environment (pip install python-pkcs11)"


def pkcs11_signer(
    *,
    module: Path,
    token: str,
    key_label: str,
    pin_file: Path,
    cert: Path | None = None,
    chain: tuple[Path, ...] = (),
) -> SealSigner:
    """Open a logged-in session on the token labelled ``token`` and find the key ``key_label``."""
    try:
        import pkcs11  # noqa: F401  (python-pkcs11: pyHanko's PKCS#11 support is built on it)
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign.pkcs11 import open_pkcs11_session
    except ImportError as exc:
        raise ConfigError(_INSTALL) from exc
    from pkcs11.exceptions import PKCS11Error as LibraryError
    from pyhanko.sign.general import SigningError

    from signing import softkey

    if not module.is_file():
        raise ConfigError(f"DEMATFLOW_SEAL_PKCS11_MODULE: no PKCS#11 module at {module}")
    pin = _read_pin(pin_file)
    chain_certs = softkey.load_certificates(chain) if chain else ()
    signing_cert = softkey.load_certificates((cert,))[0] if cert else None
    try:
        session = open_pkcs11_session(str(module), token_criteria=TokenCriteria(label=token), user_pin=pin)
        signer = _serialised_signer_class()(
            session,
            key_label=key_label,
            cert_label=key_label,
            signing_cert=signing_cert,
            ca_chain=chain_certs,
        )
        # Load the key handle and certificate now, in this thread's event loop: pyHanko's lazy loading
        # keeps an asyncio.Event that another thread's loop (the next document) could not await.
        asyncio.run(signer.ensure_objects_loaded())
    except (LibraryError, SigningError) as exc:
        raise ConfigError(f"token {token!r}, key {key_label!r}: {type(exc).__name__} {exc}") from exc
    log.info("PKCS#11 seal key %r on token %r (%s)", key_label, token, module.name)
    return SealSigner(
        signer=signer, certificate=signer.signing_cert, chain=chain_certs, kind=SignerKind.PKCS11
    )


def _read_pin(pin_file: Path) -> str:
    try:
        pin = pin_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"DEMATFLOW_SEAL_PKCS11_PIN_FILE: cannot read {pin_file}: {exc.strerror}") from exc
    if not pin:
        raise ConfigError(f"DEMATFLOW_SEAL_PKCS11_PIN_FILE: {pin_file} is empty")
    return pin


@functools.cache
def _serialised_signer_class() -> type:
    from pyhanko.sign.pkcs11 import PKCS11Signer

    class SerialisedSigner(PKCS11Signer):
        """One signing operation at a time on the session (PKCS#11 sessions are not for concurrent
        use; the embedded mode seals from several threads)."""

        _lock = threading.Lock()

        async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
            if dry_run:
                return await super().async_sign_raw(data, digest_algorithm, dry_run=True)
            with self._lock:
                return await super().async_sign_raw(data, digest_algorithm)

    return SerialisedSigner
