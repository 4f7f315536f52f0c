"""French and banking identifiers: normalise, check digits, and the VAT key tied to a SIREN."""

from __future__ import annotations

import re

from stdnum import iban as _iban
from stdnum.fr import siren as _siren
from stdnum.fr import siret as _siret

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")


def compact(value: str) -> str:
    """Drop spaces, dots and dashes; upper-case letters."""
    return _NON_ALNUM.sub("", value).upper()


def is_siren(value: str) -> bool:
    return _siren.is_valid(compact(value))


def is_siret(value: str) -> bool:
    """Luhn-checked SIRET (python-stdnum also knows La Poste's exception)."""
    return _siret.is_valid(compact(value))


def french_vat_key(siren: str) -> str:
    """The two-digit key of a French VAT number: (12 + 3 × (SIREN mod 97)) mod 97."""
    return f"{(12 + 3 * (int(siren) % 97)) % 97:02d}"


def is_french_vat(value: str) -> bool:
    """``FR`` + key + SIREN where the key matches the SIREN (numeric keys only)."""
    v = compact(value)
    if not re.fullmatch(r"FR\d{11}", v):
        return False
    return is_siren(v[4:]) and v[2:4] == french_vat_key(v[4:])


def vat_siren(value: str) -> str | None:
    """The SIREN inside a French VAT number, or None."""
    v = compact(value)
    return v[4:] if re.fullmatch(r"FR[0-9A-Z]{2}\d{9}", v) else None


def is_iban(value: str) -> bool:
    return _iban.is_valid(compact(value))
