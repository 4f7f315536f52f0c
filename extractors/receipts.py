"""Fields of a till receipt (ticket de caisse): seller (BT-27), date of sale (BT-2), amount paid (BT-112).

The paid total is the amount on a total line ("TOTAL TTC", "A PAYER", "SUMME", "TOTALE") — never a
subtotal, a tax line, the cash tendered or the change — and it is trusted when the payment lines agree
with it (the card amount, or cash tendered minus change). A value nothing confirms keeps a confidence
below the review threshold.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from extractors.candidates import checked_conf, id_candidates
from extractors.layout import Lines, Segment, fold, layout
from extractors.parsing import currency_of, parse_date, repair_digits
from extractors.results import FieldSet, Located, PageText
from extractors.values import read_amount

log = logging.getLogger(__name__)

_CENTS = re.compile(r"\d\s?[.,;:]\s?\d{2}(?!\d)")
_LETTERS = re.compile(r"[a-z]{2,}")
_TOTAL = re.compile(
    r"\btotal\b|\ba\s+payer\b|\bmontant\s+du\b|\bsumme\b|\bgesamt(?:betrag)?\b|\bzu\s+zahlen\b|\btotale\b"
    r"|\bimporte\b|\b(?:balance|amount|total)\s+due\b"
)
_STRONG = re.compile(r"t\.?t\.?c|a\s+payer|montant\s+du|zu\s+zahlen|a\s+pagar|\bdue\b|complessivo")
_NOT_TOTAL = re.compile(
    r"sous[-\s]?total|\bsub-?total|zwischensumme|subtotale|\b(?:h\.?t|tva|t\.v\.a|vat|iva|mwst|ust|tax)\b"
    r"|remise|discount|rabatt|descuento|sconto|articles?|items|artikel|pezzi|points|economi"
)
_CHANGE = re.compile(r"\brendu\b|\bmonnaie\b|\ba\s+rendre\b|\bchange\b|ruckgeld|\bzuruck\b|\bcambio\b"
                     r"|devolucion|\bresto\b")  # fmt: skip
_CASH = re.compile(r"especes|\bcash\b|\bbar\b|bargeld|gegeben|efectivo|entregado|contanti|contante")
_CARD = re.compile(
    r"\bcb\b|carte|\bcard\b|visa|mastercard|contactless|sans\s+contact|ec-karte|girocard|kartenzahlung"
    r"|tarjeta|\bcarta\b|bancomat|elettronico|\bmontant\b|\bamount\b|\bbetrag\b|\bimporto\b"
)
_NOT_A_NAME = re.compile(
    r"\b(?:ticket|receipt|kassenbon|scontrino|caisse|kasse|bienvenue|welcome|willkommen|bienvenido|benvenuti"
    r"|tel|tél|fax|siret|date|www)\b|@|^\W*\d"
)
_WELCOME = re.compile(r"(?i)^(?:bienvenue\s+(?:chez|a|à)|welcome\s+to|willkommen\s+(?:bei|im))\s+")
_ADDRESS = re.compile(r"\b\d{4,5}\b|\b\d+\s*(?:,\s*)?(?:rue|av|bd|boulevard|place|chemin|route|quai|allee)\b")
_TIME = re.compile(r"\b\d{1,2}\s?[:h]\s?\d{2}\b")
HEADER_ROWS = 4  # the seller's name is printed in the first rows of the slip
BIG = 1.2  # a name in type this much taller than the slip's median line is a printed heading


@dataclass(frozen=True)
class Row:
    """One printed line: its segments, their text joined, folded for matching."""

    page: int
    index: int
    segs: tuple[Segment, ...]
    folded: str

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segs)

    @property
    def box(self) -> tuple[float, float, float, float] | None:
        boxes = [s.box for s in self.segs if s.box]
        if not boxes:
            return None
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                max(b[3] for b in boxes))  # fmt: skip

    def conf(self) -> float:
        return min((s.conf() for s in self.segs), default=1.0)

    def height(self) -> float:
        box = self.box
        return box[3] - box[1] if box else 0.0


@dataclass(frozen=True)
class Pick:
    value: str
    conf: float
    row: Row


def _rows(pages: Sequence[PageText]) -> list[Row]:
    out = []
    for page in pages:
        lines: Lines = layout(page)
        out += [Row(page.number, i, tuple(segs), fold(" ".join(s.text for s in segs))) for i, segs in
                enumerate(lines) if segs]  # fmt: skip
    return out


def _amount(row: Row) -> tuple[str, float] | None:
    """The amount with cents printed rightmost on the row, and the OCR confidence of its words."""
    for seg in reversed(row.segs):
        if _CENTS.search(seg.text) and (readings := read_amount(seg, 0, len(seg.text))):
            value, conf, repairs = readings[0]
            return value, conf * (0.8 if repairs else 1.0)
    return None


def _amount_only(row: Row) -> tuple[str, float] | None:
    """The amount of a row that holds one amount and no words (a total printed under its label)."""
    stripped = row.folded.replace("eur", "")
    if _LETTERS.search(stripped) or len(_CENTS.findall(stripped)) != 1:
        return None
    return _amount(row)


def _total_candidates(rows: list[Row]) -> list[tuple[Pick, bool]]:
    """(amount, strong label) of every total line; the amount may be on the row below its label."""
    out = []
    for i, row in enumerate(rows):
        if not _TOTAL.search(row.folded) or _NOT_TOTAL.search(row.folded):
            continue
        found = _amount(row)
        if found is None and i + 1 < len(rows) and rows[i + 1].page == row.page:
            found = _amount_only(rows[i + 1])
        if found:
            out.append((Pick(found[0], found[1], row), bool(_STRONG.search(row.folded))))
    return out


def _payments(rows: list[Row]) -> tuple[list[Decimal], list[Decimal], list[Decimal]]:
    """Amounts of the card lines, the cash tendered and the change given."""
    card, cash, change = [], [], []
    for row in rows:
        if _TOTAL.search(row.folded) and not _NOT_TOTAL.search(row.folded):
            continue
        if (found := _amount(row)) is None or found[0].startswith("-"):
            continue
        amount = Decimal(found[0])
        if _CHANGE.search(row.folded):
            change.append(amount)
        elif _CASH.search(row.folded):
            cash.append(amount)
        elif _CARD.search(row.folded):
            card.append(amount)
    return card, cash, change


def _paid_total(rows: list[Row]) -> list[Pick]:
    """The total paid first, then the other values read as totals, each with its confidence."""
    cands = _total_candidates(rows)
    card, cash, change = _payments(rows)
    paid = set(card) | {t - c for t in cash for c in change} | (set(cash) if not change else set())
    scored = []
    for pick, strong in cands:
        ocr = pick.conf
        if Decimal(pick.value) in paid:
            conf = checked_conf(ocr)
        elif paid:  # the payment lines say another amount was paid
            conf = 0.4 * ocr
        else:
            conf = (0.75 if strong else 0.65) * ocr
        scored.append(Pick(pick.value, conf, pick.row))
    if len({p.value for p in scored}) > 1:  # totals that disagree: only a confirmed one stays trusted
        scored = [p if Decimal(p.value) in paid else Pick(p.value, min(p.conf, 0.5), p.row) for p in scored]
    if not scored and len(paid) == 1 and (row := _payment_row(rows, next(iter(paid)))):
        scored = [Pick(f"{next(iter(paid)):.2f}", 0.5 * row.conf(), row)]  # no total line: what was paid
    return sorted(scored, key=lambda p: (-round(p.conf, 3), -p.row.page, -p.row.index))


def _payment_row(rows: list[Row], amount: Decimal) -> Row | None:
    return next(
        (r for r in rows if (a := _amount(r)) and Decimal(a[0]) == amount), rows[-1] if rows else None
    )


def _sale_date(rows: list[Row]) -> list[Pick]:
    """The first date printed: confident when it is printed twice alike, or once with the time of sale;
    dates that disagree leave it in doubt."""
    found = []
    for row in rows:
        if date := parse_date(row.text):
            found.append(Pick(date, row.conf(), row))
        elif date := parse_date(repair_digits(row.text)):
            found.append(Pick(date, 0.6 * row.conf(), row))
    if not found:
        return []
    first, agree = found[0], len({p.value for p in found}) == 1
    if agree and len(found) >= 2:  # printed twice alike (the sale and the card slip)
        conf = checked_conf(first.conf)
    elif agree:
        conf = (0.88 if _TIME.search(first.row.text) else 0.7) * first.conf
    else:
        conf = 0.5 * first.conf
    others = [Pick(p.value, 0.5 * p.conf, p.row) for p in found[1:] if p.value != first.value]
    return [Pick(first.value, conf, first.row), *others]


def _seller(rows: list[Row]) -> list[Pick]:
    """The first header row that is a name (not a title, an address or a phone number)."""
    page1 = [r for r in rows if r.page == rows[0].page] if rows else []
    heights = sorted(r.height() for r in page1)
    median = heights[len(heights) // 2] if heights else 0.0
    for row in page1[:HEADER_ROWS]:
        name = _WELCOME.sub("", row.text).strip(" *-=:|")
        folded = fold(name)
        if _NOT_A_NAME.search(folded) or _ADDRESS.search(folded) or sum(c.isalpha() for c in name) < 3:
            continue
        again = any(folded in r.folded for r in rows if r is not row)  # the footer's legal name
        big = median > 0 and row.height() >= BIG * median
        base = 0.85 if again else 0.8 if big else 0.65
        return [Pick(name, base * row.conf(), row)]
    return []


def _identifiers(rows: list[Row]) -> dict[str, list[Pick]]:
    out: dict[str, list[Pick]] = {}
    for row in rows:
        for seg in row.segs:
            for c in id_candidates(seg, buyer=False):
                if c.field in ("BT-30", "BT-31"):
                    out.setdefault(c.field, []).append(Pick(c.value, c.conf, row))
    return {f: sorted(picks, key=lambda p: -p.conf) for f, picks in out.items()}


def receipt_fields(pages: Sequence[PageText]) -> FieldSet:
    """BT-27, BT-2 and BT-112 of a till receipt (and BT-30/BT-31/BT-5 when printed), each with a
    confidence in 0..1 and where it was read; absent fields are left out."""
    rows = _rows(pages)
    picks = {"BT-27": _seller(rows), "BT-2": _sale_date(rows), "BT-112": _paid_total(rows)}
    picks |= _identifiers(rows)
    chosen = {f: p for f, p in picks.items() if p}
    values = {f: p[0].value for f, p in chosen.items()}
    conf = {f: round(max(0.0, min(1.0, p[0].conf)), 3) for f, p in chosen.items()}
    located = {f: _located(p) for f, p in chosen.items()}
    text = "\n".join(p.text for p in pages)
    if text.strip() and (currency := currency_of(text)):
        values["BT-5"], conf["BT-5"] = currency, 0.9
    log.debug("receipt fields found: %s", sorted(values))
    return FieldSet(values, conf, located)


def _located(picks: list[Pick]) -> tuple[Located, ...]:
    seen: dict[str, Pick] = {}
    for p in picks:
        seen.setdefault(p.value, p)
    return tuple(
        Located(p.value, round(max(0.0, min(1.0, p.conf)), 3), p.row.page, p.row.box)
        for p in list(seen.values())[:4]
    )
