"""Both sides of a comparison in the `extract --json` contract forms, names folded."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

DATES = frozenset({"BT-2", "BT-9"})
AMOUNTS = frozenset({"BT-106", "BT-109", "BT-110", "BT-112", "BT-113", "BT-115"})
IDENTIFIERS = frozenset({"BT-1", "BT-30", "BT-31", "BT-84"})
NAMES = frozenset({"BT-27", "BT-44"})
_ISO = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


def normalise(term: str, value: str) -> str:
    """``value`` of business term ``term`` in its contract form (names: folded for comparison)."""
    value = value.strip()
    if term in DATES:
        return _date(value)
    if term in AMOUNTS:
        return _amount(value)
    if term in IDENTIFIERS:
        return re.sub(r"[^0-9A-Za-z]", "", value).upper()
    if term in NAMES:
        return fold_name(value)
    return value.upper() if term == "BT-5" else value


def fold_name(value: str) -> str:
    """Case, accents and runs of spaces folded: "Société  Dupont" and "SOCIETE DUPONT" compare equal."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _date(value: str) -> str:
    m = _ISO.fullmatch(value)
    return f"{m[1]}-{m[2]}-{m[3]}" if m else value


def _amount(value: str) -> str:
    try:
        return f"{Decimal(value.replace(',', '.')):.2f}"
    except InvalidOperation:
        return value
