"""Fields whose chosen value the page itself leaves open, whatever the model's score: a credit-note
title over negative totals, an invoice number printed beside another number's label, a rival value
scored as high, a column of totals that goes on, a number OCR may have cut. Their confidence is held
at ``UNSURE``, under the review threshold: a person looks (docs/capture.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from decimal import Decimal

from extractors.candidates import AMOUNTS, Candidate
from extractors.labels import NO
from extractors.layout import Lines, Segment, fold
from extractors.parsing import find_amounts

HT, TVA, TTC, DUE = AMOUNTS
UNSURE = 0.6  # the most a reading the page itself leaves open may have: a person looks
_OTHER_ROLE = re.compile(  # labels of the other numbers an invoice prints beside their values
    r"\b(?:gtin|gln|ean|isbn|sku|upc|art(?:ikel)?[\s.-]*(?:nr|nummer|no)|artikelnummer|article|item\s*(?:no|number"
    r"|code|#)|product\s*(?:no|number|code)|kunden[\s-]?(?:nr|nummer)|customer\s+(?:no|number|id)|(?:bestell"
    r"|auftrags|lieferschein|vertrags)(?:ung)?[\s.-]*(?:nr|nummer)|order\s*(?:no|number|#)"
    r"|account\s*(?:no|number|#|id)|konto[\s.-]*(?:nr|nummer)|kontonummer|" + NO + r"\s*(?:de\s+)?compte"
    r"|" + NO + r"\s*(?:de\s+)?(?:commande|client)|(?:commande|client)\s*" + NO + r")(?![a-z])"
)
_BUYER_ROLE = re.compile(  # the buyer's, or "yours" as the seller writes to them ("Ihre USt-IdNr.")
    r"\b(?:client|customer|kunden?|kaufers?|acheteur|buyer|destinataire|klant|ihre|votre|your)\b"
)
MARGIN = 0.05  # a rival value scored within this of the chosen one: the model cannot tell them apart


def open_questions(
    values: dict[str, Candidate], cands: Sequence[Candidate], type_code: str | None, laid: list[Lines]
) -> set[str]:
    """The fields whose chosen value the page itself leaves open, whatever the model's score."""
    singles = [f for f in ("BT-1", "BT-2", "BT-27", "BT-30", "BT-31") if f in values]
    doubts: set[str] = {f for f in singles if _rival(values[f], cands)}
    if type_code == "381" and any(values[f].value.startswith("-") for f in AMOUNTS if f in values):
        # a credit-note title over negative totals: a 381 stating them positive or a negative 380, the
        # same page is issued both ways (FNFE's Avoir_FR_type380/381); a person says which
        doubts |= {*AMOUNTS, "BT-3"}
    number = values.get("BT-1")
    if number and (
        _other_role(number.value, laid, _OTHER_ROLE) or _OTHER_ROLE.search(_label_of(number, laid))
    ):
        doubts.add("BT-1")  # "4000001234578 (GTIN)", "Account number:" above it: the page says it is another
    if "BT-1" in values and _cut_short(values["BT-1"].value, laid):
        doubts.add("BT-1")  # "4711 02": OCR may have cut the number at a space
    for f in (f for f in ("BT-30", "BT-31") if f in values):
        if _other_role(values[f].value, laid, _BUYER_ROLE):
            doubts.add(f)  # "N° TVA client FR19787878784": the buyer's
    if _column_goes_on(values, laid):
        doubts |= {HT, TVA, TTC, DUE}  # one row of a column of totals; its sum check holds on every row
    return doubts


def _column_goes_on(values: dict[str, Candidate], laid: list[Lines]) -> bool:
    """Whether totals read under column labels have, in the next rows of the same columns, other amounts
    that add up too ("Nettobetrag | MwSt-Betrag | Endbetrag" over a row per VAT rate, then the totals):
    the labels name the columns, not the row, and every row passes the sum check."""
    trio = [values.get(f) for f in (HT, TVA, TTC)]
    boxes = [c.box for c in trio if c is not None and c.how == "below" and c.box is not None]
    if len(boxes) < 3 or len({c.page for c in trio if c}) > 1:
        return False
    page = trio[0].page if trio[0] else 0
    lines = next((ls for ls in laid if ls and ls[0] and ls[0][0].page == page), [])
    at = next((seg.line for row in lines for seg in row if seg.box == boxes[2]), None)
    for row in lines[at + 1 : at + 3] if at is not None else []:
        ht, tva, ttc = (_amounts_under(row, box) for box in boxes)
        if any(Decimal(a) + Decimal(b) == Decimal(c) for a in ht for b in tva for c in ttc):
            return True
    return False


def _amounts_under(row: list[Segment], box: tuple[float, float, float, float]) -> list[str]:
    under = (seg for seg in row if min(seg.x1, box[2]) - max(seg.x0, box[0]) > 0)
    return [value for seg in under for _, _, value in find_amounts(seg.text)]


def _rival(chosen: Candidate, cands: Sequence[Candidate]) -> bool:
    """Whether another value of the field scored about as high (a SIRET's own SIREN aside)."""
    width = 9 if chosen.field == "BT-30" else None
    key = chosen.value[:width]
    return any(
        c.field == chosen.field and c.value[:width] != key and c.conf > chosen.conf - MARGIN for c in cands
    )


def _other_role(value: str, laid: list[Lines], role: re.Pattern[str]) -> bool:
    """Whether ``value`` is printed beside the label of another role somewhere ("4000001234578 (GTIN)",
    "N° TVA client FR19787878784"): the page says it is that, so it may well not be this field's."""
    before = re.compile(f"(?:{role.pattern})[^0-9]*$")  # the last label before the value
    after = re.compile(rf"\s*[(\[]\s*(?:{role.pattern})")  # or one in brackets after it: "(GTIN)"
    return any(
        before.search(fold(left[-24:])) or after.match(fold(s.text[b : b + 16]))
        for left, s, _, b in _printings(value, laid)
    )


def _label_of(c: Candidate, laid: list[Lines]) -> str:
    """The folded text of the line a value was read below or right of, above or left of the value."""
    if c.how not in ("below", "right") or c.box is None:
        return ""
    lines = next((ls for ls in laid if ls and ls[0] and ls[0][0].page == c.page), [])
    row = lines[c.line] if c.line < len(lines) else []
    x0, x1 = c.box[0], c.box[2]
    over = [s for s in row if (s.x1 <= x0 if c.how == "right" else min(s.x1, x1) - max(s.x0, x0) > 0)]
    return fold(" ".join(s.text for s in over))


def _cut_short(value: str, laid: list[Lines]) -> bool:
    """Whether ``value`` is printed with a space and digits right after it ("4711 02"): OCR may have
    cut the number at a space."""
    return any(re.match(r"\s\d", s.text[b:]) for _, s, _, b in _printings(value, laid))


def _printings(value: str, laid: list[Lines]) -> Iterator[tuple[str, Segment, int, int]]:
    """Each segment printing ``value`` as a whole word, where, and the line's text left of it."""
    printed = re.compile(r"(?<![0-9A-Za-z])" + re.escape(value) + r"(?![0-9A-Za-z])")
    for row in (row for lines in laid for row in lines):
        for i, seg in enumerate(row):
            for m in printed.finditer(seg.text):
                yield " ".join([*(s.text for s in row[:i]), seg.text[: m.start()]]), seg, m.start(), m.end()
