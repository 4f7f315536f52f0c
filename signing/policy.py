"""What a seal is made with and to which level (PAdES/CAdES baseline B-B, B-T, B-LT, B-LTA).

Light on purpose (no pyHanko): the settings import it in every process, the API included.
"""

from __future__ import annotations

from enum import Enum

from dematflow.errors import ConfigError


class SignerKind(Enum):
    """Where the seal key lives."""

    DEVELOPMENT = "development"  # generated under DATA_DIR/keys, trusted by nobody
    FILE = "file"  # a PEM key + certificate, or a PKCS#12 file
    PKCS11 = "pkcs11"  # a token (HSM, SoftHSM, smart card) through its PKCS#11 module
    NONE = "none"  # this process does not seal (API, capture-only workers)

    @classmethod
    def parse(cls, raw: str, variable: str) -> SignerKind:
        try:
            return cls(raw.strip().lower())
        except ValueError as exc:
            names = ", ".join(k.value for k in cls)
            raise ConfigError(f"{variable}={raw!r} is not one of {names}") from exc


class SealLevel(Enum):
    """ETSI baseline levels: B-B signed; B-T plus a TSA timestamp; B-LT plus the certificates,
    OCSP responses and CRLs (DSS); B-LTA plus a document timestamp over all of it."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @classmethod
    def parse(cls, raw: str, variable: str) -> SealLevel:
        try:
            return cls(raw.strip().upper())
        except ValueError as exc:
            names = ", ".join(level.value for level in cls)
            raise ConfigError(f"{variable}={raw!r} is not one of {names}") from exc

    @property
    def timestamped(self) -> bool:
        return self is not SealLevel.B_B

    @property
    def long_term(self) -> bool:
        return self in (SealLevel.B_LT, SealLevel.B_LTA)
