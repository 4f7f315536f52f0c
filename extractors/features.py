"""Features of a field's candidates for the learned ranker: label kind, geometry, zone, format, checks."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from extractors.candidates import AMOUNTS, Candidate
from extractors.layout import Lines

HT, TVA, TTC, DUE = AMOUNTS
KINDS = ("t0", "t1", "t2", "t3", "id", "bare", "name", "head", "block", "date")
HOWS = ("same", "right", "below")
NAMES = (
    "rule_conf", *(f"kind_{k}" for k in KINDS), *(f"how_{h}" for h in HOWS), "checked", "failed", "repairs",
    "x", "y", "page1", "last_page", "header", "footer", "buyer", "table_row", "size_rank",
    "first", "last", "repeats", "value_repeats", "log_value", "zero", "negative", "max_amount",
    "in_triple", "rate_base", "lines_sum", "length", "digits_share", "letters", "legal_form",
    "near_seller_id",
    "earliest_date", "latest_date", "bias",
)  # fmt: skip
_LEGAL = re.compile(r"(?i)\b(?:sarl|sas|sasu|sa|eurl|sci|snc|gmbh|ag|kg|ltd|inc|llc|bv|nv|srl|spa|sl)\b")
_TABLE_WORDS = re.compile(
    r"(?i)\b(?:qt[eé]|quantit[eé]|qty|quantity|menge|anzahl|cantidad|quantit[aà]|aantal|d[eé]signation|description"
    r"|beschreibung|bezeichnung|descripci[oó]n|descrizione|omschrijving|p\.?\s?u\.?|unit|prix|price|preis|prezzo)\b"
)


@dataclass(frozen=True)
class DocContext:
    """What the features of one document's candidates look at besides the candidate itself."""

    extents: dict[int, tuple[float, float]]  # page -> (width, height) of the text
    pages: int
    buyer: frozenset[tuple[int, int, float]]
    table_rows: frozenset[tuple[int, int]]  # (page, line) of rows under a table header holding amounts
    lines_sums: frozenset[str]  # sums of the rightmost amount of the table rows
    heights: dict[int, float]  # page -> median segment height
    seller_id_lines: frozenset[tuple[int, int]]  # (page, line) of checked identifiers outside the buyer block


def context(
    laid: Sequence[Lines], cands: Sequence[Candidate], buyer: set[tuple[int, int, float]]
) -> DocContext:
    from extractors.parsing import find_amounts

    extents, heights, table, sums = {}, {}, set(), set()
    for lines in laid:
        segs = [s for row in lines for s in row]
        if not segs:
            continue
        page = segs[0].page
        boxes = [s.box for s in segs if s.box]
        width = max((b[2] for b in boxes), default=max(s.x1 for s in segs)) or 1.0
        height = max((b[3] for b in boxes), default=float(len(lines))) or 1.0
        extents[page] = (width, height)
        sizes = sorted(b[3] - b[1] for b in boxes)
        heights[page] = sizes[len(sizes) // 2] if sizes else 1.0
        header = next(
            (
                i
                for i, row in enumerate(lines)
                if len(_TABLE_WORDS.findall(" ".join(s.text for s in row))) >= 2
            ),
            None,
        )
        total = Decimal(0)
        for i, row in enumerate(lines[header + 1 :] if header is not None else [], start=(header or 0) + 1):
            amounts = [a for s in row for a in find_amounts(s.text)]
            if len(amounts) >= 2:
                table.add((page, i))
                total += Decimal(amounts[-1][2])
                sums.add(f"{total:.2f}")
    seller_ids = {
        (c.page, c.line) for c in cands if c.field in ("BT-30", "BT-31") and c.checked and not _in(c, buyer)
    }
    return DocContext(
        extents,
        len(laid),
        frozenset(buyer),
        frozenset(table),
        frozenset(sums),
        heights,
        frozenset(seller_ids),
    )


def _in(c: Candidate, keys: set[tuple[int, int, float]] | frozenset[tuple[int, int, float]]) -> bool:
    return c.box is not None and (c.page, c.line, c.box[0]) in keys


def _number(value: str) -> Decimal | None:
    try:
        return Decimal(value)
    except ArithmeticError:
        return None


def _arithmetic(cands: Sequence[Candidate]) -> tuple[set[str], set[str]]:
    """Amount values that sit in some HT + TVA = TTC triple, and VAT amounts equal to rate × some base."""
    by = {f: {c.value for c in cands if c.field == f} for f in AMOUNTS}
    tot = by[TTC] | by[DUE]
    triple: set[str] = set()
    for ht in by[HT]:
        for tva in by[TVA]:
            a, b = _number(ht), _number(tva)
            if a is not None and b is not None and f"{a + b:.2f}" in tot:
                triple |= {ht, tva, f"{a + b:.2f}"}
    bases = [d for v in by[HT] if (d := _number(v)) is not None]
    rated = set()
    for c in cands:
        if c.field == TVA and c.rate and (v := _number(c.value)) is not None:
            rate = Decimal(c.rate) / 100
            if any(abs(b * rate - v) <= Decimal("0.011") for b in bases):
                rated.add(c.value)
    return triple, rated


def features(cands: Sequence[Candidate], ctx: DocContext) -> list[list[float]]:
    """One row of ``NAMES`` per candidate (in order)."""
    triple, rated = _arithmetic(cands)
    field_vals: Counter[tuple[str, str]] = Counter((c.field, c.value) for c in cands)
    all_vals: Counter[str] = Counter(c.value for c in cands)
    order: dict[str, list[tuple[int, int]]] = {}
    for c in cands:
        order.setdefault(c.field, []).append((c.page, c.line))
    amounts = [d for c in cands if c.field in AMOUNTS and (d := _number(c.value)) is not None]
    dates = sorted({c.value for c in cands if c.field in ("BT-2", "BT-9")})
    return [_row(c, ctx, triple, rated, field_vals, all_vals, order, amounts, dates) for c in cands]


def _row(
    c: Candidate,
    ctx: DocContext,
    triple: set[str],
    rated: set[str],
    field_vals: Counter[tuple[str, str]],
    all_vals: Counter[str],
    order: dict[str, list[tuple[int, int]]],
    amounts: list[Decimal],
    dates: list[str],
) -> list[float]:
    width, height = ctx.extents.get(c.page, (1.0, 1.0))
    x = (c.box[0] + c.box[2]) / 2 / width if c.box else 0.5
    y = (c.box[1] + c.box[3]) / 2 / height if c.box else min(1.0, c.line / 60)
    size = (c.box[3] - c.box[1]) / max(ctx.heights.get(c.page, 1.0), 1e-6) if c.box else 1.0
    value = _number(c.value) if c.field in AMOUNTS else None
    places = order.get(c.field, [])
    digits = sum(ch.isdigit() for ch in c.value)
    return [
        c.conf,
        *(float(c.kind == k) for k in KINDS),
        *(float(c.how == h) for h in HOWS),
        float(c.checked is True),
        float(c.checked is False),
        float(c.repairs),
        x,
        y,
        float(c.page == 1),
        float(c.page == ctx.pages),
        float(c.page == 1 and y < 0.25),
        float(y > 0.85),
        float(_in(c, ctx.buyer)),
        float((c.page, c.line) in ctx.table_rows),
        min(size, 3.0),
        float((c.page, c.line) == min(places)) if places else 0.0,
        float((c.page, c.line) == max(places)) if places else 0.0,
        math.log1p(field_vals[(c.field, c.value)] - 1),
        math.log1p(all_vals[c.value] - 1),
        math.log10(1 + abs(float(value))) if value is not None else 0.0,
        float(value == 0) if value is not None else 0.0,
        float(value < 0) if value is not None else 0.0,
        float(value == max(amounts)) if value is not None and amounts else 0.0,
        float(c.value in triple),
        float(c.value in rated),
        float(c.value in ctx.lines_sums),
        min(len(c.value), 40) / 10,
        digits / max(len(c.value), 1),
        float(any(ch.isalpha() for ch in c.value)),
        float(bool(_LEGAL.search(c.value))),
        float(any(p == c.page and abs(line - c.line) <= 3 for p, line in ctx.seller_id_lines)),
        float(bool(dates) and c.value == dates[0]),
        float(bool(dates) and c.value == dates[-1]),
        1.0,
    ]
