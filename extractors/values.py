"""Reading one field's value from a region of a segment: amounts, dates, numbers and names.

A reader returns every plausible reading, most literal first, as ``(value, ocr confidence, repairs)``;
``repairs`` counts what was changed from the printed text. Repaired readings only win when a check
(HT + TVA = TTC, check digits) confirms them; the literal reading keeps the higher confidence.
"""

from __future__ import annotations

import re

from extractors.candidates import AMOUNTS
from extractors.layout import Segment
from extractors.parsing import find_amounts, parse_date, repair_digits, tidy_number_spaces

Reading = tuple[str, float, int]
_DATE_LIKE = re.compile(r"\b\d{1,4}[-/.]\d{1,2}[-/.]\d{2,4}\b|\b\d{1,2}\s+[A-Za-zéû]{3,9}\.?\s+\d{2,4}\b")
_PUNCT_IN_NUMBER = re.compile(r"(?<=\d)\s?[;:]\s?(?=\d{2}(?!\d))")  # "5°850;17" / "3:285;65"


def read_amount(seg: Segment, start: int, end: int, *, first: bool = False) -> list[Reading]:
    """The last amount of the region (the first with ``first``: a column's value under its header
    starts under it, "EUR 9 792,15 EUR 630,40"), then repaired readings: a ';' or ':' read for the decimal
    comma, and a whole number whose decimal separator OCR lost ("207582" for "2.075,82")."""
    # "2025-11-18" is not 18.00 (but "15 EUR 630" is no date)
    region = _DATE_LIKE.sub(lambda m: " " * len(m[0]) if parse_date(m[0]) else m[0], seg.text[start:end])
    fixed = repair_digits(tidy_number_spaces(region))
    found = find_amounts(fixed)
    if not found:
        return []
    a, b, value = found[0] if first else found[-1]
    if fixed == region:
        out = [(value, seg.conf(start + a, start + b), 0)]
    else:
        changed = sum(x != y for x, y in zip(fixed, region, strict=False)) if len(fixed) == len(region) else 1
        out = [(value, seg.conf(start, end), max(1, changed))]
    if (punct := _PUNCT_IN_NUMBER.sub(",", fixed)) != fixed and (again := find_amounts(punct)):
        out.append((again[-1][2], seg.conf(start, end), 1))
    digits = re.sub(r"\D", "", fixed[a:b])
    if value.endswith(".00") and len(digits) >= 3 and not re.search(r"[.,]\d{2}\b", fixed[a:b]):
        out.append((f"{int(digits) / 100:.2f}", seg.conf(start, end), 1))
    return out


def read_number(region: str, *, alone: bool = False) -> str | None:
    """An invoice number: the first run of letters, digits and -/_. holding a digit, not a date.

    Spaces OCR puts around separators are removed ("FA-2026 -0142"); a number whose separator OCR
    lost before its last group is rejoined with the separator it uses elsewhere ("FAC_2025 1431").
    ``alone``: the region is a whole segment away from the label, so the number must be most of it
    (a title "FACTURE" above "54 rue des Lilas" gives no number)."""
    region = re.sub(r"(?<=\w)\s+(?=[-/_.]\w)|(?<=\w[-/_])\s+(?=\w)", "", region)
    region = re.sub(r"\b([A-Za-z]+([_/-])\d{2,4}) (\d{2,})\b", r"\1\2\3", region)
    runs = re.finditer(r"[A-Za-z0-9][A-Za-z0-9\-/_.]*[A-Za-z0-9]|\d", region)
    m = next((r for r in runs if any(c.isdigit() for c in r[0])), None)  # past words: "N° de pièce 2026-4"
    if m is None or parse_date(m[0]):
        return None
    if alone and len(m[0]) < 0.6 * len(re.sub(r"\s", "", region)):
        return None
    return m[0]


_STRAY = re.compile(r"[‘“”\"«»_|~=+©®*<>{}\[\]]")  # OCR specks read as marks; never in a company name


def _read_name(region: str) -> str | None:
    name = re.split(r",?\s+\d{5}\b|\s+[—–]\s+", _STRAY.sub(" ", region).strip(" :;-–\t"))[0]
    name = re.sub(r"\s+\.$", "", " ".join(name.split()).strip(" ,;:"))
    if re.search(r"(?:^|\s)\S*[a-z]{3}\.$", name):  # "Clinique du Parc." (keeps "S.A." and "& Cie.")
        name = name[:-1]
    if sum(c.isalpha() for c in name) < 2 or re.match(r"(?i)(n\s?°|no\b|num|\d)", name):
        return None
    return name


def read(
    field: str, seg: Segment, start: int, end: int, *, alone: bool = False, below: bool = False
) -> list[Reading]:
    """Readings of ``field`` in ``seg.text[start:end]``; ``alone``: the region is a segment of its
    own (right of or below the label), not the rest of the label's segment; ``below``: under it."""
    region = seg.text[start:end]
    conf = seg.conf(start, end)
    if field in AMOUNTS:
        return read_amount(seg, start, end, first=below)
    if field in ("BT-2", "BT-9"):
        if date := parse_date(region):
            return [(date, conf, 0)]
        repaired = parse_date(repair_digits(region))
        return [(repaired, conf, 1)] if repaired else []
    if field == "BT-1":
        number = read_number(region, alone=alone)
        return [(number, conf, 0)] if number else []
    name = _read_name(region)
    return [(name, conf, 0)] if name else []
