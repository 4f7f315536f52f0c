"""Invoice fields (EN 16931 business terms) from page text: labels and values, then checks."""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from extractors import identifiers as ids
from extractors.parsing import currency_of, find_amounts, parse_date
from extractors.results import FieldSet, PageText, Word

log = logging.getLogger(__name__)

HT, TVA, TTC, DUE = "BT-109", "BT-110", "BT-112", "BT-115"
AMOUNTS = (HT, TVA, TTC, DUE)
_D = r"(?![a-z0-9])"  # end of a word in folded text
_HT = r"h\.?\s?t\.?" + _D
_TVA = r"t\.?v\.?a\.?" + _D
_NO = r"(?:n\s?[°º*o]\.?|no\.?|nr\.?|num[eé]ro|number|#)"
# (field, tier, folded-text pattern); earlier entries win at the same position. Tier 0 labels may
# take their value from the line below, tier 1 (generic words) only from the same line.
# Field "" marks label-like phrases to skip (identifier labels, "code client").
_LABELS: tuple[tuple[str, int, str], ...] = (
    ("", 0, r"(?:code|ref\.?|reference|id)\s+client|client\s+" + _NO),
    ("", 0, _NO + r"\s*(?:de\s+)?" + _TVA + r"(?:\s*intra\w*)?|" + _TVA + r"\s*intra[\w.-]*"),
    ("", 0, r"identifiant\s+tva|vat\s+(?:number|no|id|reg\w*)|" + _TVA + r"\s+non\s+applicable"),
    ("", 0, r"iban|bic|swift|siret|siren|rcs"),
    ("BT-9", 0, r"date\s+(?:d'|de\s+l')?\s*echeance|echeance|due\s+date|date\s+due|payment\s+due"),
    ("BT-9", 0, r"date\s+limite\s+de\s+(?:paiement|reglement)|(?:a\s+)?(?:payer|regler)\s+avant"),
    ("BT-9", 0, r"payable\s+(?:avant\s+)?le|due\s+(?:by|on)"),
    ("BT-2", 0, r"date\s+(?:de\s+(?:la\s+)?)?(?:facture|facturation|l'avoir)|date\s+d'\s*emission"),
    ("BT-2", 0, r"invoice\s+date|date\s+of\s+(?:issue|invoice)|issue\s+date|facture\s+du"),
    ("BT-44", 0, r"facturee?s?\s+a|bill(?:ed)?\s+to|sold\s+to|adressee?\s+a|destinataire"),
    ("BT-1", 0, r"(?:facture|invoice|avoir|credit\s+note)\s*" + _NO + r"(?:\s*de\s+facture)?"),
    ("BT-1", 0, _NO + r"\s*(?:de\s+)?(?:la\s+)?(?:facture|d'avoir|avoir|invoice)"),
    ("BT-1", 0, r"invoice\s+(?:id|ref(?:erence)?)|ref(?:erence)?\s+(?:de\s+)?facture"),
    (HT, 0, r"(?:sous[\s-]?)?total\s+(?:net\s+)?(?:\(?" + _HT + r"\)?|hors\s+tax\w*)"),
    (HT, 0, r"montant\s+(?:total\s+)?(?:" + _HT + r"|hors\s+tax\w*)|net\s+" + _HT),
    (HT, 0, r"sub[\s-]?total|total\s+(?:excl\.?|excluding|before|without|net\s+of)\s+(?:vat|tax)"),
    (HT, 0, r"total\s+net|net\s+amount|sous[\s-]?total"),
    (TVA, 0, r"(?:total|montant)\s+(?:de\s+la\s+|total\s+)?" + _TVA + r"|total\s+(?:vat|tax)"),
    (TVA, 0, r"(?:vat|tax)\s+amount"),
    (TTC, 0, r"(?:total|montant)\s+(?:total\s+)?t\.?t\.?c\.?" + _D + r"|grand\s+total"),
    (TTC, 0, r"total\s+(?:incl\.?|including|inc\.?)\s+(?:vat|tax\w*)|invoice\s+total"),
    (TTC, 0, r"total\s+toutes\s+taxes(?:\s+comprises)?|total\s+amount"),
    (DUE, 0, r"net\s+a\s+payer|montant\s+du|reste\s+a\s+payer|(?:total|somme)\s+a\s+payer"),
    (DUE, 0, r"solde\s+(?:a\s+payer|du)|amount\s+(?:due|payable)|balance\s+due|total\s+due"),
    ("BT-27", 0, r"vendeur|fournisseur|emetteur|seller|supplier|raison\s+sociale"),
    ("BT-44", 1, r"client|customer|acheteur|buyer"),
    (TVA, 1, _TVA + r"|vat|tax"),
    (TTC, 1, r"total"),
    ("BT-2", 1, r"date"),
    ("BT-1", 1, r"facture|invoice|avoir"),
)
_TIER_CONF = (0.9, 0.7)


@cache
def _label_regex() -> re.Pattern[str]:
    parts = (f"(?P<g{i}>{pat})" for i, (_, _, pat) in enumerate(_LABELS))
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(parts) + r")" + _D)


def _fold(text: str) -> str:
    """Lower-case, accents removed, one character for one character (spans stay aligned)."""
    out = []
    for ch in text:
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base.lower() if len(base) == 1 else ch.lower())
    return "".join(out).replace("’", "'")


@dataclass(frozen=True)
class Segment:
    """A run of words on one line, separated from its neighbours by a wide gap."""

    page: int
    line: int
    text: str
    spans: tuple[tuple[int, int, float], ...]  # (start, end, conf) of each word in text
    x0: float
    x1: float

    def conf(self, start: int = 0, end: int | None = None) -> float:
        stop = len(self.text) if end is None else end
        inside = [c for a, b, c in self.spans if a < stop and b > start]
        return min(inside) if inside else 1.0


def _segments_from_words(page: int, words: Sequence[Word]) -> list[list[Segment]]:
    lines: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.top + w.bottom) / 2):
        mid = (w.top + w.bottom) / 2
        if lines and lines[-1][0].top <= mid <= lines[-1][0].bottom:
            lines[-1].append(w)
        else:
            lines.append([w])
    out = []
    for index, line in enumerate(lines):
        line.sort(key=lambda w: w.x0)
        height = sorted(w.bottom - w.top for w in line)[len(line) // 2]
        groups: list[list[Word]] = [[line[0]]]
        for prev, w in itertools.pairwise(line):
            if w.x0 - prev.x1 > 1.5 * height:
                groups.append([])
            groups[-1].append(w)
        out.append([_segment(page, index, g) for g in groups])
    return out


def _segment(page: int, line: int, words: Sequence[Word]) -> Segment:
    spans, pos = [], 0
    for w in words:
        spans.append((pos, pos + len(w.text), w.conf))
        pos += len(w.text) + 1
    text = " ".join(w.text for w in words)
    return Segment(page, line, text, tuple(spans), words[0].x0, words[-1].x1)


def _segments_from_text(page: PageText) -> list[list[Segment]]:
    out = []
    for index, line in enumerate(page.text.splitlines()):
        segs = []
        for m in re.finditer(r"\S+(?:[ ]{1,2}\S+)*", line):
            spans = tuple((w.start(), w.end(), page.mean_conf) for w in re.finditer(r"\S+", m[0]))
            segs.append(Segment(page.number, index, m[0], spans, m.start(), m.end()))
        out.append(segs)
    return out


def layout(page: PageText) -> list[list[Segment]]:
    """Lines of segments, top to bottom, from the word boxes (or the text when there are none)."""
    if page.words:
        return _segments_from_words(page.number, page.words)
    return _segments_from_text(page)


@dataclass(frozen=True)
class Hit:
    """A label found in a segment and the text that follows it up to the next label."""

    field: str
    tier: int
    seg: Segment
    start: int  # of the value region in seg.text
    end: int
    label_x: tuple[float, float]


def _hits(segs: Sequence[Segment]) -> list[Hit]:
    out: list[Hit] = []
    for seg in segs:
        folded = _fold(seg.text)
        matches = list(_label_regex().finditer(folded))
        for i, m in enumerate(matches):
            index = int(next(k for k, v in m.groupdict().items() if v is not None)[1:])
            field, tier, _ = _LABELS[index]
            end = matches[i + 1].start() if i + 1 < len(matches) else len(seg.text)
            width = (seg.x1 - seg.x0) / max(len(seg.text), 1)
            box = (seg.x0 + m.start() * width, seg.x0 + m.end() * width)
            if field:
                out.append(Hit(field, tier, seg, m.end(), end, box))
    return out


@dataclass(frozen=True)
class Candidate:
    field: str
    value: str
    conf: float
    page: int
    line: int


def _value_regions(hit: Hit, lines: list[list[Segment]]) -> Iterable[tuple[Segment, int, int]]:
    """Where a label's value may be: after it, in the next segment right, in the segment below."""
    yield hit.seg, hit.start, hit.end
    row = lines[hit.seg.line]
    right = [s for s in row if s.x0 >= hit.seg.x1]
    if right and not _starts_with_label(right[0]):
        yield right[0], 0, len(right[0].text)
    if hit.tier == 0 and hit.seg.line + 1 < len(lines):
        lo, hi = hit.label_x[0], max(hit.label_x[1], hit.seg.x1)
        below = [s for s in lines[hit.seg.line + 1] if min(s.x1, hi) - max(s.x0, lo) > 0]
        if below and not _starts_with_label(below[0]):
            yield below[0], 0, len(below[0].text)


def _starts_with_label(seg: Segment) -> bool:
    m = _label_regex().search(_fold(seg.text))
    return m is not None and m.start() <= 2


def _read(field: str, seg: Segment, start: int, end: int) -> tuple[str, float] | None:
    region = seg.text[start:end]
    if field in AMOUNTS:
        found = find_amounts(region)
        if not found:
            return None
        a, b, value = found[-1]
        return value, seg.conf(start + a, start + b)
    if field in ("BT-2", "BT-9"):
        date = parse_date(region)
        return (date, seg.conf(start, end)) if date else None
    if field == "BT-1":
        m = re.search(r"[A-Za-z0-9][A-Za-z0-9\-/_.]*[A-Za-z0-9]|\d", region)
        if m is None or not any(c.isdigit() for c in m[0]) or parse_date(m[0]):
            return None
        return m[0], seg.conf(start + m.start(), start + m.end())
    name = region.strip(" :;-–|\t")
    if sum(c.isalpha() for c in name) < 2 or re.match(r"(?i)(n\s?°|no\b|num|\d)", name):
        return None
    return name, seg.conf(start, end)


def _label_candidates(pages: list[list[list[Segment]]]) -> list[Candidate]:
    out = []
    for lines in pages:
        for row in lines:
            for hit in _hits(row):
                for seg, a, b in _value_regions(hit, lines):
                    read = _read(hit.field, seg, a, b)
                    if read is not None:
                        conf = _TIER_CONF[hit.tier] * read[1]
                        out.append(Candidate(hit.field, read[0], conf, seg.page, hit.seg.line))
                        break
    return out


# --- identifiers: scanned anywhere, checked with their check digits ----------------------------

_DIGITISH = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "S": "5"})
_SIRET = re.compile(r"(?i)\b(siret|siren)\b\D{0,12}?([0-9OIlS][0-9OIlS .]{7,22}[0-9])")
_RCS = re.compile(r"(?i)\bRCS\b[^0-9]{0,25}([0-9][0-9 .]{8,12}[0-9])")
_VAT = re.compile(r"\b([A-Z]{2})[ .]?([0-9A-Z]{2})[ .]?(\d{3})[ .]?(\d{3})[ .]?(\d{3})(?!\d)")
_VAT_LABEL = re.compile(r"(?i)(?:tva|vat)\b[^:]{0,25}:?\s*([A-Z]{2}[0-9A-Z .]{8,16}[0-9A-Z])")
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30})")


def _digits(raw: str) -> str:
    return re.sub(r"\D", "", raw.translate(_DIGITISH))


def _id_candidates(seg: Segment, buyer: bool) -> Iterable[Candidate]:
    text, base = seg.text, 0.6 if buyer else 0.9
    for m in _SIRET.finditer(text):
        digits, kind = _digits(m[2]), m[1].upper()
        for size in (14, 9) if kind == "SIRET" else (9,):
            value = digits[:size]
            if len(value) == size:
                ok = ids.is_siret(value) if size == 14 else ids.is_siren(value)
                conf = base * seg.conf(m.start(2), m.end(2)) if ok else 0.4
                yield Candidate("BT-30", value, conf, seg.page, seg.line)
                break
    for m in _RCS.finditer(text):
        value = _digits(m[1])
        if len(value) == 9:
            conf = 0.8 * base if ids.is_siren(value) else 0.3
            yield Candidate("BT-30", value, conf, seg.page, seg.line)
    vat_seen = set()
    for m in _VAT.finditer(text):
        value = "".join(m.groups())
        vat_seen.add(value)
        if value.startswith("FR"):
            conf = base * seg.conf(m.start(), m.end()) if ids.is_french_vat(value) else 0.4
            yield Candidate("BT-31", value, conf, seg.page, seg.line)
    for m in _VAT_LABEL.finditer(text):
        value = ids.compact(m[1])
        if value not in vat_seen and re.fullmatch(r"[A-Z]{2}[0-9A-Z]{8,12}", value):
            ok = ids.is_french_vat(value) if value[:2] == "FR" else value[2:].isalnum()
            yield Candidate("BT-31", value, 0.6 * base if ok else 0.3, seg.page, seg.line)
    for m in _IBAN.finditer(text.upper()):
        raw = ids.compact(m[1])
        valid = next((raw[:n] for n in range(len(raw), 14, -1) if ids.is_iban(raw[:n])), None)
        if valid:
            yield Candidate("BT-84", valid, base * seg.conf(m.start(), m.end()), seg.page, seg.line)
        elif "IBAN" in text.upper():
            yield Candidate("BT-84", raw[:34], 0.3, seg.page, seg.line)


Key = tuple[int, int, float]  # (page, line, x0) of a segment


def _buyer_zone(pages: list[list[list[Segment]]]) -> set[Key]:
    """(page, line, x0) of the segments in the buyer's block: its label and a few lines below."""
    zone = set()
    for lines in pages:
        for row in lines:
            for hit in _hits(row):
                if hit.field != "BT-44":
                    continue
                lo, hi = hit.seg.x0, hit.seg.x1
                for below in lines[hit.seg.line : hit.seg.line + 6]:
                    for s in below:
                        if min(s.x1, hi + 200) - max(s.x0, lo) > 0:
                            zone.add((s.page, s.line, s.x0))
    return zone


def _seller_name(lines: list[list[Segment]], buyer: set[Key]) -> Candidate | None:
    """The first prominent line at the top of page 1 that is neither a label nor an address."""
    skip = re.compile(
        r"(?i)^(facture|invoice|avoir|credit note|devis|page|date|t[ée]l|fax|e-?mail)\b"
        r"|@|www\.|https?:|\b\d{5}\b|^\d|\b(rue|avenue|av\.|bd|boulevard|chemin|place|impasse)\b"
    )
    for row in lines[:8]:
        for seg in row:
            if (seg.page, seg.line, seg.x0) in buyer or _label_regex().search(_fold(seg.text)):
                continue
            name = seg.text.strip(" :-|")
            if skip.search(name) or sum(c.isalpha() for c in name) < 3:
                continue
            return Candidate("BT-27", name, 0.55 * seg.conf(), seg.page, seg.line)
    return None


# --- choosing among candidates ------------------------------------------------------------------


def _best(cands: Sequence[Candidate], field: str) -> Candidate | None:
    mine = [c for c in cands if c.field == field]
    return max(mine, key=lambda c: (round(c.conf, 2), c.page, c.line)) if mine else None


def _reconf(c: Candidate, conf: float) -> Candidate:
    return Candidate(c.field, c.value, conf, c.page, c.line)


def _amounts(cands: Sequence[Candidate]) -> dict[str, Candidate]:
    """Pick HT, TVA and TTC; a triple that adds up wins and gets a higher confidence."""
    by = {f: [c for c in cands if c.field == f] for f in (HT, TVA, TTC)}
    for ht in by[HT]:
        for tva in by[TVA]:
            for ttc in by[TTC]:
                if Decimal(ht.value) + Decimal(tva.value) == Decimal(ttc.value):
                    return {c.field: _reconf(c, min(0.99, c.conf + 0.25)) for c in (ht, tva, ttc)}
    chosen = {f: c for f in (HT, TVA, TTC) if (c := _best(cands, f))}
    if len(chosen) == 3:  # all three present and they disagree: someone misread
        chosen = {f: _reconf(c, min(c.conf, 0.5)) for f, c in chosen.items()}
    return chosen


def _with_checks(cands: list[Candidate], values: dict[str, Candidate]) -> None:
    """A SIREN inside the VAT number that matches the SIRET confirms both."""
    siret, vat = values.get("BT-30"), values.get("BT-31")
    if siret and vat and ids.vat_siren(vat.value) == siret.value[:9]:
        for c in (siret, vat):
            values[c.field] = _reconf(c, min(0.99, c.conf + 0.05))


def _doc_type(text: str) -> str:
    folded = _fold(text)
    title = r"(?m)^\s*(avoir|credit note|note de credit)\b|facture d'avoir|avoir\s+n\s?°"
    if re.search(title, folded):
        return "381"
    return "380"


def extract_fields(pages: Sequence[PageText]) -> FieldSet:
    """Fields found on the pages, each with a confidence in 0..1; absent fields are left out."""
    laid = [layout(p) for p in pages]
    buyer = _buyer_zone(laid)
    cands = _label_candidates(laid)
    for lines in laid:
        for row in lines:
            for seg in row:
                cands.extend(_id_candidates(seg, (seg.page, seg.line, seg.x0) in buyer))
    if laid and not any(c.field == "BT-27" for c in cands):
        cands.extend(c for c in [_seller_name(laid[0], buyer)] if c)
    values: dict[str, Candidate] = {}
    for field in ("BT-1", "BT-2", "BT-9", "BT-27", "BT-30", "BT-31", "BT-44", "BT-84", DUE):
        if best := _best(cands, field):
            values[field] = best
    values |= _amounts(cands)
    _with_checks(cands, values)
    text = "\n".join(p.text for p in pages)
    out = {f: c.value for f, c in values.items()}
    conf = {f: round(max(0.0, min(1.0, c.conf)), 3) for f, c in values.items()}
    if text.strip():
        out["BT-3"], conf["BT-3"] = _doc_type(text), 0.8
        totals = "\n".join(line for line in text.splitlines() if "tot" in line.lower())
        if currency := currency_of(totals) or currency_of(text):
            out["BT-5"], conf["BT-5"] = currency, 0.9
    log.debug("fields found: %s", sorted(out))
    return FieldSet(out, conf)
