"""Invoice lines (BG-25) given by business term, and the VAT breakdown (BG-23) lines or totals imply."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_UNIT = re.compile(r"[A-Z0-9]{1,3}")
FRENCH_VAT_RATES = (Decimal("20"), Decimal("10"), Decimal("5.5"), Decimal("2.1"))
DEFAULT_UNIT = "C62"  # UN/ECE rec. 20 "one": a line that names no unit counts pieces


@dataclass(frozen=True)
class InvoiceLine:
    """One line: BT-126 id, BT-153 item name, BT-129 quantity in BT-130 unit, BT-146 net price,
    BT-131 net amount, BT-152 VAT rate (category S)."""

    line_id: str
    name: str
    quantity: Decimal
    unit: str
    price: Decimal
    net: Decimal
    rate: Decimal


@dataclass(frozen=True)
class TaxBreakdown:
    """One VAT breakdown of category S: BT-119 rate, BT-116 taxable amount, BT-117 VAT amount."""

    rate: Decimal
    basis: Decimal
    amount: Decimal


def money(value: Decimal) -> Decimal:
    """Round half up to the cent, as EN 16931 amounts are."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _number(raw: str | None) -> Decimal | None:
    text = (raw or "").strip()
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def parse_lines(lines: Sequence[Mapping[str, str]]) -> tuple[tuple[InvoiceLine, ...], list[str]]:
    """The lines, and the gaps that keep them from EN 16931 (``BG-25`` when there are none).

    Keys: ``BT-153``, ``BT-129``, ``BT-146``, ``BT-152`` required; ``BT-131`` (else quantity ×
    price), ``BT-130`` (else C62), ``BT-126`` (else the position), ``BT-151`` (only ``S``) optional.
    """
    if not lines:
        return (), ["BG-25"]
    parsed: list[InvoiceLine] = []
    gaps: list[str] = []
    for position, raw in enumerate(lines, start=1):
        line, line_gaps = _parse_line(position, raw)
        gaps += [f"{gap} (line {position})" for gap in line_gaps]
        if line is not None:
            parsed.append(line)
    return (tuple(parsed), gaps) if not gaps else ((), gaps)


def _parse_line(position: int, raw: Mapping[str, str]) -> tuple[InvoiceLine | None, list[str]]:
    name = (raw.get("BT-153") or "").strip()
    quantity, price, rate = (_number(raw.get(t)) for t in ("BT-129", "BT-146", "BT-152"))
    unit = (raw.get("BT-130") or DEFAULT_UNIT).strip().upper()
    category = (raw.get("BT-151") or "S").strip().upper()
    gaps = [] if name else ["BT-153"]
    gaps += [t for t, v in (("BT-129", quantity), ("BT-146", price)) if v is None]
    if rate is None or rate <= 0:
        gaps.append("BT-152")
    if not _UNIT.fullmatch(unit):
        gaps.append("BT-130")
    if category != "S":
        gaps.append("BT-151")  # other categories need exemption reasons we were not given
    net = _number(raw.get("BT-131")) if raw.get("BT-131") else None
    if raw.get("BT-131") and net is None:
        gaps.append("BT-131")
    if gaps or quantity is None or price is None or rate is None:
        return None, gaps
    line_id = (raw.get("BT-126") or "").strip() or str(position)
    net = money(net if net is not None else quantity * price)
    return InvoiceLine(line_id, name, quantity, unit, price, net, rate), []


def breakdown_from_lines(
    lines: Sequence[InvoiceLine], *, net_total: Decimal | None, tax_total: Decimal | None
) -> tuple[tuple[TaxBreakdown, ...] | None, list[str]]:
    """The breakdown per rate, or None and the rule the lines break against the captured totals."""
    line_total = sum((line.net for line in lines), Decimal("0.00"))
    if net_total is None or line_total != net_total:
        return None, ["BR-CO-13"]  # BT-109 = Σ BT-131 (no document allowances or charges)
    rates = sorted({line.rate for line in lines}, reverse=True)
    taxes = []
    for rate in rates:
        basis = sum((line.net for line in lines if line.rate == rate), Decimal("0.00"))
        taxes.append(TaxBreakdown(rate, basis, money(basis * rate / 100)))
    computed = sum((t.amount for t in taxes), Decimal("0.00"))
    if tax_total is None:
        return None, ["BT-110"]
    if len(taxes) == 1 and abs(computed - tax_total) <= CENT:
        # The paper may have rounded per line: one breakdown carries the printed VAT total.
        return (TaxBreakdown(taxes[0].rate, taxes[0].basis, tax_total),), []
    if computed != tax_total:
        log.info("lines imply VAT %s, the invoice says %s", computed, tax_total)
        return None, ["BR-CO-14"]  # BT-110 = Σ BT-117
    return tuple(taxes), []


def breakdown_from_totals(net: Decimal | None, tax: Decimal | None) -> tuple[TaxBreakdown, ...] | None:
    """One category-S breakdown when exactly one standard French rate turns BT-109 into BT-110."""
    if net is None or tax is None or net == 0:
        return None
    rates = [r for r in FRENCH_VAT_RATES if abs(money(net * r / 100) - tax) <= CENT]
    if len(rates) != 1:
        return None
    return (TaxBreakdown(rate=rates[0], basis=net, amount=tax),)
