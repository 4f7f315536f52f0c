"""Name candidates from a page's zones: the header lines, the lines of the seller's and buyer's blocks.

The rule-based reader takes the first line after a buyer label; real layouts print a contact, a
title or the other party there too, so every name-like line of those zones becomes a candidate
and the ranker weighs them (zone, position, legal form, the seller's identifiers nearby).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from extractors.candidates import Candidate
from extractors.labels import Hit, first_label
from extractors.layout import Lines, Segment
from extractors.values import read

EXTRA_KINDS = frozenset({"t3", "bare", "head", "block"})  # candidates the rule-based reader never had
HEAD_LINES = 10
BLOCK_DEPTH = 4
_NOT_A_NAME = re.compile(
    r"(?i)^(?:facture|invoice|avoir|rechnung|factura|fattura|factuur|page|seite|date|datum|t[ée]l|fax|e-?mail"
    r"|tel|www|http|iban|bic|siret|siren|tva|vat|ust|stylesheet|\+?\d)|@|\b\d{5}\b|^\W"
    r"|\b(?:rue|avenue|av\.|bd|boulevard|chemin|place|impasse|route|all[ée]e|stra(?:ss|ß)e|str\.|weg|platz)\b"
)


def _name(seg: Segment, field: str, kind: str, conf: float) -> Candidate | None:
    cut = re.split(r"\s+-\s+|\s+\|\s+", seg.text)[0]
    if _NOT_A_NAME.search(cut) or sum(c.isalpha() for c in cut) < 3 or re.search(r":\s*\S*\d", cut):
        return None
    label = first_label(cut)
    if label is not None and label[1] < 3:
        return None
    readings = read(field, seg, 0, len(cut), alone=True)
    if not readings:
        return None
    value = readings[0][0]
    return Candidate(field, value, conf * seg.conf(), seg.page, seg.line, box=seg.box, kind=kind)


def _head(lines: Lines) -> list[Candidate]:
    out = []
    for seg in (seg for row in lines[:HEAD_LINES] for seg in row):
        for field in ("BT-27", "BT-44"):
            if c := _name(seg, field, "head", 0.3):
                out.append(c)
    return out


def _block(hit: Hit, lines: Lines) -> list[Candidate]:
    lo, hi = hit.label_x[0] - 20, max(hit.label_x[1], hit.seg.x1) + 200
    out = []
    for depth, row in enumerate(lines[hit.seg.line + 1 : hit.seg.line + 1 + BLOCK_DEPTH]):
        for seg in (s for s in row if min(s.x1, hi) - max(s.x0, lo) > 0):
            if c := _name(seg, hit.field, "block", 0.5 - 0.08 * depth):
                out.append(c)
    return out


def name_candidates(
    laid: Sequence[Lines], found: Sequence[tuple[Hit, Lines]], buyer: set[tuple[int, int, float]]
) -> list[Candidate]:
    """Seller and buyer names from page 1's header lines and from the lines under the parties' labels."""
    out = _head(laid[0]) if laid else []
    for hit, lines in found:
        if hit.field in ("BT-27", "BT-44") and hit.tier < 3:
            out += _block(hit, lines)
    return out
