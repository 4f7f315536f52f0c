"""Business checks on invoice fields: French identifiers, IBAN and the EN 16931 totals."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal, InvalidOperation

from extractors import identifiers
from validators.report import Finding, Severity

log = logging.getLogger(__name__)

TOLERANCE = Decimal("0.01")


def check_identifiers(fields: Mapping[str, str]) -> list[Finding]:
    """SIREN/SIRET (BT-30), French VAT number (BT-31) and IBAN (BT-84) check digits.

    BT-30 is read as a SIREN/SIRET only for a French seller (BT-40 ``FR``, or BT-40 absent as in
    captured paper invoices): other countries use 9-digit numbers too (e.g. Norway).
    """
    findings: list[Finding] = []
    french_seller = fields.get("BT-40", "FR").strip().upper() == "FR"
    bt30 = fields.get("BT-30") if french_seller else None
    siren_of_bt30 = _check_siren_siret(bt30, findings)
    _check_french_vat(fields.get("BT-31"), siren_of_bt30, findings)
    iban = fields.get("BT-84")
    if iban and not identifiers.is_iban(iban):
        findings.append(_error("IBAN", f"IBAN {iban} fails its mod-97 check", "BT-84"))
    return findings


def _check_siren_siret(value: str | None, findings: list[Finding]) -> str | None:
    """Check BT-30 when it is a SIREN (9 digits) or SIRET (14); return its SIREN, else None."""
    digits = identifiers.compact(value or "")
    if not digits.isdigit() or len(digits) not in (9, 14):
        return None
    if len(digits) == 14 and not identifiers.is_siret(digits):
        findings.append(_error("FR-SIRET", f"SIRET {digits} fails its Luhn check", "BT-30"))
    elif len(digits) == 9 and not identifiers.is_siren(digits):
        findings.append(_error("FR-SIREN", f"SIREN {digits} fails its Luhn check", "BT-30"))
    return digits[:9]


def _check_french_vat(vat: str | None, siren_of_bt30: str | None, findings: list[Finding]) -> None:
    if not vat or not identifiers.compact(vat).startswith("FR"):
        return
    number = identifiers.compact(vat)
    siren = identifiers.vat_siren(number)
    if siren is None:
        findings.append(_error("FR-VAT", f"{vat} is not a French VAT number (FR + 2 + 9)", "BT-31"))
        return
    key = number[2:4]
    if not identifiers.is_siren(siren):
        findings.append(_error("FR-VAT", f"the SIREN {siren} inside {number} fails its Luhn check", "BT-31"))
    elif key.isdigit() and key != identifiers.french_vat_key(siren):
        expected = identifiers.french_vat_key(siren)
        findings.append(_error("FR-VAT", f"VAT key {key} of {number} should be {expected} for SIREN {siren}"))
    if siren_of_bt30 and siren != siren_of_bt30:
        findings.append(
            _error(
                "FR-VAT",
                f"VAT number {number} is for SIREN {siren}, but the seller's legal "
                f"registration (BT-30) is SIREN {siren_of_bt30}",
                "BT-31",
            )
        )


def check_arithmetic(
    fields: Mapping[str, str],
    line_net_amounts: Sequence[str] = (),
    *,
    skip: Collection[str] = (),
) -> list[Finding]:
    """BR-CO-10, BR-CO-15 and BR-CO-16 on the totals, to the cent (rules in ``skip`` are not run).

    A rule runs only when the amounts it needs are present; absent prepaid (BT-113) and rounding
    (BT-114) amounts count as zero, as EN 16931 says.
    """
    findings: list[Finding] = []
    amounts = _amounts(fields, findings)
    lines = _line_amounts(line_net_amounts, findings)
    net, vat, gross = amounts.get("BT-109"), amounts.get("BT-110"), amounts.get("BT-112")
    if net is not None and vat is not None and gross is not None and _off(gross, net + vat):
        findings.append(
            _error(
                "BR-CO-15",
                f"total with VAT (BT-112) is {gross} but total without VAT {net} + VAT {vat} = {net + vat}",
                "BT-112",
            )
        )
    due = amounts.get("BT-115")
    if gross is not None and due is not None:
        prepaid = amounts.get("BT-113", Decimal(0))
        rounding = amounts.get("BT-114", Decimal(0))
        expected = gross - prepaid + rounding
        if _off(due, expected):
            findings.append(
                _error(
                    "BR-CO-16",
                    f"amount due (BT-115) is {due} but total with VAT {gross} − prepaid "
                    f"{prepaid} + rounding {rounding} = {expected}",
                    "BT-115",
                )
            )
    line_total = amounts.get("BT-106")
    if lines is not None and line_total is not None and _off(line_total, sum(lines, Decimal(0))):
        findings.append(
            _error(
                "BR-CO-10",
                f"sum of line net amounts (BT-106) is {line_total} but the {len(lines)} "
                f"line(s) add up to {sum(lines, Decimal(0))}",
                "BT-106",
            )
        )
    return [f for f in findings if f.rule not in skip]


def _amounts(fields: Mapping[str, str], findings: list[Finding]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for term in ("BT-106", "BT-109", "BT-110", "BT-112", "BT-113", "BT-114", "BT-115"):
        raw = fields.get(term)
        if raw is None or not raw.strip():
            continue
        value = _decimal(raw)
        if value is None:
            findings.append(_not_an_amount(term, raw))
        else:
            out[term] = value
    return out


def _line_amounts(raw: Sequence[str], findings: list[Finding]) -> list[Decimal] | None:
    if not raw:
        return None
    values = [_decimal(a) for a in raw]
    bad = [a for a, v in zip(raw, values, strict=True) if v is None]
    if bad:
        findings.append(_not_an_amount("BT-131", bad[0]))
        return None
    return [v for v in values if v is not None]


def _decimal(raw: str) -> Decimal | None:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _off(actual: Decimal, expected: Decimal) -> bool:
    return abs(actual - expected) > TOLERANCE


def _not_an_amount(term: str, raw: str) -> Finding:
    message = f"{term} {raw!r} is not a decimal amount; the rules that use it were not checked"
    return Finding("AMOUNT", Severity.WARNING, message, term)


def _error(rule: str, message: str, location: str | None = None) -> Finding:
    return Finding(rule, Severity.ERROR, message, location)
