"""Identifier candidates (SIRET/SIREN, VAT, IBAN) read anywhere on a page, repaired only when checks pass."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from extractors import identifiers as ids
from extractors.layout import Segment

SIRET, VAT, IBAN = "BT-30", "BT-31", "BT-84"
# Letters OCR reads where a digit was printed; a repaired identifier must then pass its check digits.
_TO_DIGIT = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "i": "1", "L": "1",
     "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2", "G": "6"}
)  # fmt: skip
_C = "0-9OoDQIl|iLSsBZzG"
MAX_REPAIRS = 2
FAILED = 0.4  # confidence of an identifier whose check digits fail


@dataclass(frozen=True)
class Candidate:
    """One possible value of a field, where it was read, and whether a check confirmed it."""

    field: str
    value: str
    conf: float
    page: int
    line: int
    checked: bool | None = None  # True: check digits / arithmetic pass; False: they fail
    rate: str | None = None  # the VAT rate printed next to a VAT amount ("20", "5.5")
    repairs: int = 0  # characters changed from what OCR read
    box: tuple[float, float, float, float] | None = None  # the segment it was read in (word coordinates)
    kind: str = "id"  # how it was found: "t0".."t2" label tiers, "t3" a distractor's label, "id", "name"...
    how: str = ""  # where relative to its label: "same" segment, "right", "below"; "" without a label
    ocr: float = 1.0  # the lowest OCR confidence of the words it was read in (label readings)

    def with_conf(self, conf: float) -> Candidate:
        return replace(self, conf=round(max(0.0, min(0.99, conf)), 3))


def checked_conf(ocr: float) -> float:
    """Confidence of a value whose check passes, given the OCR confidence of its words."""
    return 0.9 + 0.09 * ocr if ocr >= 0.5 else 0.5 + 0.8 * ocr


def digits_repaired(raw: str) -> tuple[str, int] | None:
    """``raw`` without separators and with confusable letters read as digits, and how many changed;
    None when anything else than digits, separators and at most MAX_REPAIRS such letters remain."""
    kept = re.sub(r"[\s.\-]", "", raw)
    fixed = kept.translate(_TO_DIGIT)
    changed = sum(a != b for a, b in zip(kept, fixed, strict=True))
    return (fixed, changed) if fixed.isdigit() and changed <= MAX_REPAIRS else None


def _make(
    seg: Segment, field: str, value: str, ok: bool, repairs: int, span: tuple[int, int], role: float
) -> Candidate:
    conf = role * checked_conf(seg.conf(*span)) if ok else FAILED
    if ok and repairs:
        conf -= 0.02 * repairs
    return Candidate(field, value, conf, seg.page, seg.line, ok, None, repairs, seg.box)


_SIRET = re.compile(
    r"(?i)\b(siret|siren)\b(?:\s*(?:n[o°º]\.?|number|#))?\D{0,12}?(["
    + _C
    + r"]["
    + _C
    + r" .]{7,22}["
    + _C
    + r"])"
)
_RCS = re.compile(r"(?i)\bRCS\b[^0-9]{0,25}([0-9][0-9 .]{8,12}[0-9])")
_FR_VAT = re.compile(  # FR, the key, the SIREN; OCR may put a space anywhere ("FR8784761221 5")
    r"\bFR[ .]?((?:[0-9A-Z][ .]?){2})((?:[" + _C + r"][ .]?){8}[" + _C + r"])(?![0-9])"
)
_VAT_LABEL = re.compile(
    r"(?i)(?:tva|vat|ust\.?[\s-]*id\.?[\s-]*(?:nr)?|umsatzsteuer[\s-]*id\w*|btw|p\.?\s?iva|partita\s+iva|nif|cif"
    r"|mwst[\s.-]*nr)\b\.?[^:\d]{0,25}:?\s*([A-Z]{2}[0-9A-Z .]{8,16}[0-9A-Z])"
)
_VAT_OTHER = re.compile(  # a VAT number of another EU state (or GB, CH, NO): its prefix, then 8-12 characters
    r"(?:AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI|GB|CH|NO)[0-9A-Z]{8,12}"
)
_IBAN = re.compile(r"\b([A-Z]{2}[0-9OILSBZ]{2}(?:[ ]?[A-Z0-9]){11,30})")


def _siret_candidates(seg: Segment, role: float) -> Iterable[Candidate]:
    for m in _SIRET.finditer(seg.text):
        kind, tokens = m[1].upper(), m[2].split()
        for size, valid in (
            ((14, ids.is_siret), (9, ids.is_siren)) if kind == "SIRET" else ((9, ids.is_siren),)
        ):
            # the longest prefix of tokens that makes ``size`` characters (the rest is other text)
            raw = next(
                (
                    " ".join(tokens[:n])
                    for n in range(len(tokens), 0, -1)
                    if len(re.sub(r"[\s.]", "", " ".join(tokens[:n]))) == size
                ),
                None,
            )
            fixed = digits_repaired(raw) if raw else None
            if fixed is not None:
                value, repairs = fixed
                ok = valid(value)
                yield _make(seg, SIRET, value, ok, repairs if ok else 0, m.span(2), role)
                break
    for m in _RCS.finditer(seg.text):
        value = re.sub(r"\D", "", m[1])
        if len(value) == 9:
            ok = ids.is_siren(value)
            yield _make(seg, SIRET, value, ok, 0, m.span(1), 0.9 * role)


def _vat_candidates(seg: Segment, role: float) -> Iterable[Candidate]:
    seen = set()
    text = seg.text
    if (unpiped := re.sub(r"(?<=\d)\|(?=\d)", "", text)) != text and not _FR_VAT.search(text):
        text = unpiped  # a speck read as "|" inside the number ("FR5838346833|7")
    for m in _FR_VAT.finditer(text):
        key = digits_repaired(m[1])
        siren = digits_repaired(m[2])
        if key is None or siren is None or key[1] + siren[1] > MAX_REPAIRS:
            continue
        value = "FR" + key[0] + siren[0]
        ok = ids.is_french_vat(value)
        seen.add(value)
        raw = "FR" + ids.compact(m[1] + m[2])
        yield _make(seg, VAT, value if ok else raw, ok, key[1] + siren[1] if ok else 0, m.span(), role)
    for m in _VAT_LABEL.finditer(seg.text):
        value = ids.compact(m[1])
        if value not in seen and _VAT_OTHER.fullmatch(value) and sum(c.isdigit() for c in value) >= 6:
            conf = 0.6 * role * checked_conf(seg.conf(*m.span(1)))
            seen.add(value)
            yield Candidate(VAT, value, conf, seg.page, seg.line, box=seg.box)
    for m in re.finditer(r"\b" + _VAT_OTHER.pattern + r"\b", seg.text):  # a VAT id printed without label
        if m[0] not in seen and sum(c.isdigit() for c in m[0]) >= 8:
            yield Candidate(VAT, m[0], 0.3 * role, seg.page, seg.line, box=seg.box, kind="bare")


def _iban_digit_positions(raw: str) -> Callable[[int], bool]:
    """Positions that must hold digits: the check digits, and for France the bank, branch and key."""
    if raw[:2] in ("FR", "MC") and len(raw) >= 27:
        return lambda i: 2 <= i < 14 or 25 <= i < 27
    return lambda i: 2 <= i < 4


_IBAN_COUNTRIES = ("FR", "MC", "BE", "LU", "DE", "NL", "ES", "IT", "PT", "CH", "GB", "IE", "AT")


def _iban_repaired(raw: str) -> tuple[str, int] | None:
    """A valid IBAN from what OCR read: letters in digit positions read as digits, and a country code
    one letter off a common one ("ER76…" for "FR76…"); None unless mod-97 then passes."""
    off_by_one = [c for c in _IBAN_COUNTRIES if sum(a != b for a, b in zip(c, raw[:2], strict=True)) == 1]
    for country in (raw[:2], *off_by_one):
        read = country + raw[2:]
        digit_at = _iban_digit_positions(read)
        fixed = "".join(c.translate(_TO_DIGIT) if digit_at(i) else c for i, c in enumerate(read))
        repairs = sum(a != b for a, b in zip(raw, fixed, strict=True))
        valid = next((fixed[:n] for n in range(len(fixed), 14, -1) if ids.is_iban(fixed[:n])), None)
        if valid and repairs <= MAX_REPAIRS:
            return valid, repairs
    return None


def _iban_candidates(seg: Segment, role: float) -> Iterable[Candidate]:
    upper = seg.text.upper()
    for m in _IBAN.finditer(upper):
        raw = ids.compact(m[1])
        if repaired := _iban_repaired(raw):
            yield _make(seg, IBAN, repaired[0], True, repaired[1], m.span(), role)
        elif "IBAN" in upper:
            yield Candidate(IBAN, raw[:34], 0.3, seg.page, seg.line, False, box=seg.box)


def id_candidates(seg: Segment, *, buyer: bool) -> list[Candidate]:
    """SIRET/SIREN, VAT and IBAN candidates in one segment; the buyer's block counts for less."""
    role = 0.6 if buyer else 1.0
    return [*_siret_candidates(seg, role), *_vat_candidates(seg, role), *_iban_candidates(seg, role)]


def cross_check(values: dict[str, Candidate], cands: list[Candidate]) -> None:
    """The SIREN inside the VAT number and the SIRET confirm each other; one misread digit in one of
    them is corrected from the other when the corrected value then passes its own check."""
    siret, vat = values.get(SIRET), values.get(VAT)
    if not (siret and vat and vat.value.startswith("FR")):
        return
    a, b = siret.value[:9], vat.value[4:]
    if a == b and siret.checked and vat.checked:
        values[SIRET], values[VAT] = siret.with_conf(siret.conf + 0.05), vat.with_conf(vat.conf + 0.05)
        return
    if sum(x != y for x, y in zip(a, b, strict=False)) != 1 or len(a) != len(b):
        return
    if vat.checked and not siret.checked:
        fixed = b + siret.value[9:]
        if ids.is_siret(fixed) or (len(fixed) == 9 and ids.is_siren(fixed)):
            values[SIRET] = replace(siret, value=fixed, checked=True, repairs=1).with_conf(0.9)
    elif siret.checked and not vat.checked:
        fixed = "FR" + vat.value[2:4] + a
        if ids.is_french_vat(fixed):
            values[VAT] = replace(vat, value=fixed, checked=True, repairs=1).with_conf(0.9)


# --- totals: HT + TVA = TTC, and the VAT breakdown per rate ------------------------------------

AMOUNTS = HT, TVA, TTC, DUE = ("BT-109", "BT-110", "BT-112", "BT-115")


def _confirmed(c: Candidate) -> Candidate:
    return replace(c, checked=True).with_conf(max(0.9, c.conf + 0.25) if c.conf >= 0.4 else c.conf + 0.25)


def _vat_options(vats: list[Candidate]) -> list[Candidate]:
    """Each VAT amount read, plus the sum of one amount per distinct rate (a breakdown per rate)."""
    per_rate: dict[str, Candidate] = {}
    for c in vats:
        if c.rate and (c.rate not in per_rate or c.conf > per_rate[c.rate].conf):
            per_rate[c.rate] = c
    options = list(vats)
    if len(per_rate) >= 2:
        parts = list(per_rate.values())
        total = sum(Decimal(c.value) for c in parts)
        first = min(parts, key=lambda c: c.conf)
        options.append(replace(first, value=f"{total:.2f}", rate=None))
    return options


def choose_amounts(cands: list[Candidate], *, prepaid: bool = False) -> dict[str, Candidate]:
    """Pick HT, TVA, TTC and the amount due; the most confident triple that adds up wins and is
    confirmed; when all three are present and no combination adds up, all three are doubted.

    Without a prepaid amount on the page (``prepaid`` false), the amount due equals the total with
    VAT (BR-CO-16), so one printed total stands for both.
    """
    by = {f: [c for c in cands if c.field == f] for f in AMOUNTS}
    best: tuple[float, tuple[Candidate, Candidate, Candidate]] | None = None
    totals = by[TTC] + [replace(c, field=TTC) for c in by[DUE]]
    for ht, tva, ttc in itertools.product(by[HT], _vat_options(by[TVA]), totals):
        if Decimal(ht.value) + Decimal(tva.value) == Decimal(ttc.value):
            score = ht.conf + tva.conf + ttc.conf - (0.3 if ttc in totals[len(by[TTC]) :] else 0.0)
            if best is None or score > best[0]:
                best = (score, (ht, tva, ttc))
    chosen: dict[str, Candidate] = {}
    if best is not None:
        chosen = {c.field: _confirmed(c) for c in best[1]}
    else:
        for f in (HT, TVA, TTC):
            if mine := by[f]:
                chosen[f] = max(mine, key=lambda c: (round(c.conf, 2), c.page, c.line))
        if len(chosen) == 3:  # all three present and they disagree: someone misread
            chosen = {f: replace(c, checked=False).with_conf(min(c.conf, 0.5)) for f, c in chosen.items()}
    if by[DUE]:
        due = max(by[DUE], key=lambda c: (round(c.conf, 2), c.page, c.line))
        total = chosen.get(TTC)
        agree = [c for c in by[DUE] if total is not None and c.value == total.value and total.checked]
        chosen[DUE] = _confirmed(agree[0]) if agree else due
    if not prepaid and TTC in chosen and DUE not in chosen:
        chosen[DUE] = replace(chosen[TTC], field=DUE)
    if not prepaid and DUE in chosen and TTC not in chosen:
        chosen[TTC] = replace(chosen[DUE], field=TTC)
    return chosen
