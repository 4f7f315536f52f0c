"""Checks beyond the standard on invoice fields: identifier check digits, bank details, totals, lines.

EN 16931 does not rule on check digits, and a platform does not reject for them: every finding here is a
``warning`` that sends the invoice to the buyer's review, never a rejection.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from stdnum import iban as stdnum_iban
from stdnum.exceptions import InvalidChecksum, ValidationError

from extractors import identifiers
from extractors.einvoice import InvoiceLine
from validators.report import Finding, Severity

log = logging.getLogger(__name__)

TOLERANCE = Decimal("0.01")
CENT = Decimal("0.01")
LINE_NET = "DF-LINE-NET"  # our rule: BT-131 = BT-129 × BT-146 / BT-149 − ΣBT-136 + ΣBT-141
# Every rule id these checks emit: their warnings send an invoice to the buyer's review (the warnings
# of the standard's own schematrons, its "should" rules, do not).
RULES = frozenset(
    {"FR-SIREN", "FR-SIRET", "FR-VAT", "IBAN", "AMOUNT", "BR-CO-10", "BR-CO-15", "BR-CO-16", LINE_NET}
)


def check_identifiers(fields: Mapping[str, str]) -> list[Finding]:
    """SIREN/SIRET (BT-30), French VAT number (BT-31) and IBAN (BT-84) check digits, as warnings.

    BT-30 is read as a SIREN/SIRET only for a French seller (BT-40 ``FR``, or BT-40 absent as in
    captured paper invoices): other countries use 9-digit numbers too (e.g. Norway).
    """
    findings: list[Finding] = []
    french_seller = fields.get("BT-40", "FR").strip().upper() == "FR"
    bt30 = fields.get("BT-30") if french_seller else None
    siren_of_bt30 = _check_siren_siret(bt30, findings)
    _check_french_vat(fields.get("BT-31"), siren_of_bt30, findings)
    iban = fields.get("BT-84")
    if iban:
        findings += _check_iban(identifiers.compact(iban))
    return findings


def _check_iban(iban: str) -> list[Finding]:
    try:
        stdnum_iban.validate(iban)
    except InvalidChecksum:
        return [_warning("IBAN", f"L'IBAN (BT-84) {iban} ne passe pas le contrôle mod-97", "BT-84")]
    except ValidationError:
        message = f"L'IBAN (BT-84) {iban} n'a pas la longueur ou le format d'un IBAN de son pays"
        return [_warning("IBAN", message, "BT-84")]
    return []


def _check_siren_siret(value: str | None, findings: list[Finding]) -> str | None:
    """Check BT-30 when it is a SIREN (9 digits) or SIRET (14); return its SIREN, else None."""
    digits = identifiers.compact(value or "")
    if not digits.isdigit() or len(digits) not in (9, 14):
        return None
    if len(digits) == 14 and not identifiers.is_siret(digits):
        message = f"Le SIRET du vendeur (BT-30) {digits} ne passe pas le contrôle de Luhn"
        findings.append(_warning("FR-SIRET", message, "BT-30"))
    elif len(digits) == 9 and not identifiers.is_siren(digits):
        message = f"Le SIREN du vendeur (BT-30) {digits} ne passe pas le contrôle de Luhn"
        findings.append(_warning("FR-SIREN", message, "BT-30"))
    return digits[:9]


def _check_french_vat(vat: str | None, siren_of_bt30: str | None, findings: list[Finding]) -> None:
    if not vat or not identifiers.compact(vat).startswith("FR"):
        return
    number = identifiers.compact(vat)
    siren = identifiers.vat_siren(number)
    if siren is None:
        message = f"Le n° de TVA du vendeur (BT-31) {vat} n'a pas la forme FR + 2 caractères + SIREN"
        findings.append(_warning("FR-VAT", message, "BT-31"))
        return
    key = number[2:4]
    if not identifiers.is_siren(siren):
        message = f"Le SIREN {siren} du n° de TVA (BT-31) {number} ne passe pas le contrôle de Luhn"
        findings.append(_warning("FR-VAT", message, "BT-31"))
    elif key.isdigit() and key != identifiers.french_vat_key(siren):
        expected = identifiers.french_vat_key(siren)
        message = f"La clé {key} du n° de TVA (BT-31) {number} devrait être {expected} pour le SIREN {siren}"
        findings.append(_warning("FR-VAT", message, "BT-31"))
    if siren_of_bt30 and siren != siren_of_bt30:
        message = (
            f"Le n° de TVA (BT-31) {number} est celui du SIREN {siren}, "
            f"mais l'identifiant légal du vendeur (BT-30) est le SIREN {siren_of_bt30}"
        )
        findings.append(_warning("FR-VAT", message, "BT-31"))


def check_arithmetic(
    fields: Mapping[str, str],
    line_net_amounts: Sequence[str] = (),
    *,
    skip: Collection[str] = (),
) -> list[Finding]:
    """BR-CO-10, BR-CO-15 and BR-CO-16 on the totals, to the cent (rules in ``skip`` are not run), as
    warnings: on an e-invoice the schematron is the authority, on a captured one these are doubts.

    A rule runs only when the amounts it needs are present; absent prepaid (BT-113) and rounding
    (BT-114) amounts count as zero, as EN 16931 says.
    """
    findings: list[Finding] = []
    amounts = _amounts(fields, findings)
    lines = _line_amounts(line_net_amounts, findings)
    net, vat, gross = amounts.get("BT-109"), amounts.get("BT-110"), amounts.get("BT-112")
    if net is not None and vat is not None and gross is not None and _off(gross, net + vat):
        findings.append(
            _warning(
                "BR-CO-15",
                f"Le total TTC (BT-112) vaut {gross}, mais total HT {net} + TVA {vat} = {net + vat}",
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
                _warning(
                    "BR-CO-16",
                    f"Le montant à payer (BT-115) vaut {due}, mais total TTC {gross} − acomptes "
                    f"{prepaid} + arrondi {rounding} = {expected}",
                    "BT-115",
                )
            )
    line_total = amounts.get("BT-106")
    if lines is not None and line_total is not None and _off(line_total, sum(lines, Decimal(0))):
        findings.append(
            _warning(
                "BR-CO-10",
                f"La somme des montants nets des lignes (BT-106) vaut {line_total}, mais les "
                f"{len(lines)} ligne(s) totalisent {sum(lines, Decimal(0))}",
                "BT-106",
            )
        )
    return [f for f in findings if f.rule not in skip]


def check_line_net(lines: Sequence[InvoiceLine]) -> list[Finding]:
    """DF-LINE-NET: each line's net amount (BT-131) = quantity (BT-129) × net price (BT-146) / base
    quantity (BT-149, default 1) − line allowances (BT-136) + line charges (BT-141), to the cent.

    EN 16931 states the formula without a business rule: a mismatch is a warning, located by line id
    (BT-126). A line lacking the quantity, the price or the net amount is not checked.
    """
    findings: list[Finding] = []
    for n, line in enumerate(lines, start=1):
        where = f"ligne {line.line_id or n}"
        amounts = _line_decimals(line)
        if amounts is None:
            continue
        qty, price, base, net, allowances, charges = amounts
        if base == 0:
            continue
        expected = (qty * price / base - allowances + charges).quantize(CENT, ROUND_HALF_UP)
        if abs(net - expected) >= CENT:
            message = (
                f"Le montant net de la {where} (BT-131) vaut {line.net_amount}, mais quantité "
                f"{line.quantity} × prix net {line.net_price} / quantité de base {line.base_quantity or 1}"
                f" − remises {allowances} + charges {charges} = {expected}"
            )
            findings.append(_warning(LINE_NET, message, where))
    return findings


def _line_decimals(
    line: InvoiceLine,
) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal] | None:
    raw = (line.quantity, line.net_price, line.base_quantity or "1", line.net_amount)
    values = [_decimal(r) if r else None for r in raw]
    extras = [[_decimal(a) for a in group] for group in (line.allowances, line.charges)]
    if any(v is None for v in values) or any(v is None for group in extras for v in group):
        return None
    qty, price, base, net = (v for v in values if v is not None)
    allowances, charges = (sum((v for v in group if v is not None), Decimal(0)) for group in extras)
    return qty, price, base, net, allowances, charges


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
    message = (
        f"{term} {raw!r} n'est pas un montant décimal : les contrôles qui l'utilisent n'ont pas été faits"
    )
    return Finding("AMOUNT", Severity.WARNING, message, term)


def _warning(rule: str, message: str, location: str | None = None) -> Finding:
    return Finding(rule, Severity.WARNING, message, location)
