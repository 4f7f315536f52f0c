"""Invoice fields (EN 16931 business terms) from page text: labels and values, then checks."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache

from extractors.candidates import AMOUNTS, Candidate, choose_amounts, cross_check, id_candidates
from extractors.layout import Lines, Segment, below, fold, join, layout, right_of
from extractors.parsing import currency_of, find_amounts, parse_date, repair_digits, tidy_number_spaces
from extractors.results import FieldSet, PageText

log = logging.getLogger(__name__)

_D = r"(?![a-z0-9])"  # end of a word in folded text
_HT = r"h\.?\s?t\.?" + _D
_TVA = r"t\.?v\.?a\.?" + _D
_TTC = r"t\.?[ti]\.?c\.?" + _D  # OCR reads TTC as TIC
_NO = r"(?:n\s?[°º*o]\.?|no\.?|nr\.?|num[eé]ro|number|#)"
HT, TVA, TTC, DUE = AMOUNTS
# (field, tier, folded-text pattern); earlier entries win at the same position. Tier 0 labels may
# take their value from the line below, tier 1 (generic words) only from the same line.
# Field "" marks label-like phrases to skip (identifier labels, "code client", other documents' numbers).
_LABELS: tuple[tuple[str, int, str], ...] = (
    ("", 0, r"(?:code|ref\.?|reference|id)\s+client|client\s+" + _NO + r"|(?:n\s?[°o]\.?\s*)?client\s+id"),
    ("", 0, _NO + r"\s*(?:de\s+)?" + _TVA + r"(?:\s*intra\w*)?|" + _TVA + r"\s*intra[\w.-]*"),
    ("", 0, r"identifiant\s+tva|vat\s+(?:number|no|id|reg\w*)|" + _TVA + r"\s+non\s+applicable"),
    ("", 0, r"iban|bic|swift|siret|siren|rcs|code\s+(?:banque|guichet)|cle\s+rib|capital(?:\s+social)?"),
    (
        "",
        0,
        r"(?:bon\s+de\s+)?(?:commande|livraison)\s*"
        + _NO
        + r"?|(?:order|po|devis|quote|contrat|dossier)\s*"
        + _NO,
    ),
    ("", 0, r"date\s+(?:de\s+)?(?:livraison|commande|prestation|naissance)|(?:delivery|order)\s+date"),
    ("", 0, r"acompte(?:\s+verse)?|deja\s+(?:paye|regle)|remise|escompte|paid\s+to\s+date"),
    ("BT-9", 0, r"date\s+(?:d'|de\s+l')?\s*echeance|echeance(?:\s+le)?|due\s+date|date\s+due|payment\s+due"),
    (
        "BT-9",
        0,
        r"date\s+limite(?:\s+de(?:\s+(?:paiement|reglement))?)?|(?:a\s+)?(?:payer|regler)\s+(?:avant|au\s+plus\s+tard)(?:\s+le)?",
    ),
    ("BT-9", 0, r"payable\s+(?:avant\s+)?le|due\s+(?:by|on)|pay\s+by"),
    ("BT-2", 0, r"date\s+(?:de\s+(?:la\s+)?)?(?:facture|facturation|l'avoir)|date\s+d'\s*emission"),
    (
        "BT-2",
        0,
        r"invoice\s+date|date\s+of\s+(?:issue|invoice)|issue\s+date|issued\s+on|facture\s+du|emise?\s+le",
    ),
    (
        "BT-44",
        0,
        r"facturee?s?\s+a|bill(?:ed)?\s+to|sold\s+to|adressee?\s+a|des\s?tinataire|adresse\s+de\s+facturation",
    ),
    ("BT-1", 0, r"(?:facture|invoice|avoir|credit\s+note)\s*" + _NO + r"(?:\s*de\s+facture)?"),
    ("BT-1", 0, _NO + r"\s*(?:de\s+)?(?:la\s+)?(?:facture|d'avoir|avoir|invoice)"),
    ("BT-1", 0, r"invoice\s+(?:id|ref(?:erence)?)|ref(?:erence)?\.?\s*(?:de\s+(?:la\s+)?)?facture"),
    (HT, 0, r"(?:sous[\s-]?)?total\s+(?:net\s+)?(?:\(?" + _HT + r"\)?|hors\s+tax\w*)"),
    (HT, 0, r"(?:montant|base|prix)\s+(?:total\s+)?(?:net\s+)?(?:" + _HT + r"|hors\s+tax\w*)|net\s+" + _HT),
    (HT, 0, r"sub[\s-]?total|total\s+(?:excl\.?|excluding|before|without|net\s+of|ex\.?)\s+(?:vat|tax)"),
    (HT, 0, r"total\s+net|net\s+(?:amount|total)|sous[\s-]?total|total\s+" + _HT),
    (TVA, 0, r"(?:total|montant)\s+(?:de\s+la\s+|total\s+|des\s+)?" + _TVA + r"|total\s+(?:vat|tax)"),
    (TVA, 0, r"(?:vat|tax)\s+amount"),
    (TTC, 0, r"(?:total|montant)\s+(?:total\s+|net\s+)?" + _TTC + r"|grand\s+total|total\s+facture"),
    (TTC, 0, r"total\s+(?:incl\.?|including|inc\.?)\s+(?:vat|tax\w*)|invoice\s+total|total\s+general"),
    (TTC, 0, r"total\s+toutes\s+taxes(?:\s+comprises)?|total\s+amount|montant\s+total"),
    (
        DUE,
        0,
        r"net\s+a\s+payer|montant\s+(?:du|a\s+regler|a\s+payer)|reste\s+(?:a\s+payer|du)|(?:total|somme)\s+(?:a\s+payer|due?)",
    ),
    (DUE, 0, r"solde\s+(?:a\s+payer|du)|amount\s+(?:due|payable)|balance\s+due|total\s+due|a\s+regler"),
    ("BT-27", 0, r"vendeur|fournisseur|emetteur|prestataire|seller|supplier|vendor|raison\s+sociale"),
    ("BT-27", 1, r"^(?:from|de\s+la\s+part\s+de|expediteur)"),
    ("BT-44", 1, r"client|customer|acheteur|buyer|pour(?=\s*:)"),
    (TVA, 1, _TVA + r"|vat|tax"),
    (TTC, 1, r"total|" + _TTC),
    ("BT-2", 1, r"date|(?:le|du)(?=\s+\d)"),
    ("BT-1", 1, r"facture|invoice|avoir|n\s?[°º]"),
)
_TIER_CONF = (0.9, 0.7)
_ID_LABEL = re.compile(r"(?i)\b(?:siret|siren|rcs|tva|vat|iban)\b[^0-9]*$")
_PREPAID = re.compile(
    r"acompte|deja\s+(?:paye|regle|verse)|paid\s+to\s+date|prepaid|avance\s+(?:versee|recue)"
)
_RATE = re.compile(r"(\d{1,2}(?:[.,]\d{1,2})?)\s*%")


@cache
def _label_regex() -> re.Pattern[str]:
    parts = (f"(?P<g{i}>{pat})" for i, (_, _, pat) in enumerate(_LABELS))
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(parts) + r")" + _D)


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
        matches = list(_label_regex().finditer(fold(seg.text)))
        for i, m in enumerate(matches):
            index = int(next(k for k, v in m.groupdict().items() if v is not None)[1:])
            field, tier, _ = _LABELS[index]
            end = matches[i + 1].start() if i + 1 < len(matches) else len(seg.text)
            width = (seg.x1 - seg.x0) / max(len(seg.text), 1)
            box = (seg.x0 + m.start() * width, seg.x0 + m.end() * width)
            if field:
                out.append(Hit(field, tier, seg, m.end(), end, box))
    return out


def _starts_with_label(seg: Segment) -> bool:
    m = _label_regex().search(fold(seg.text))
    return m is not None and m.start() <= 2


def _value_regions(hit: Hit, lines: Lines) -> Iterable[tuple[Segment, int, int, float]]:
    """Where a label's value may be, with a weight: after it, in the segments to its right, or in the
    two lines below (tier 0 labels, and labels standing alone as in a column header)."""
    yield hit.seg, hit.start, hit.end, 1.0
    seg: Segment | None = hit.seg
    for _ in range(3 if hit.end == len(hit.seg.text) else 0):  # values right of a segment's last label
        seg = right_of(lines, seg) if seg else None
        if seg is None or _starts_with_label(seg):
            break
        yield seg, 0, len(seg.text), 1.0  # "T.V.A. | : 20 % | 2 761,01 EUR": a rate may come first
    if hit.tier == 0 or not any(c.isalnum() for c in hit.seg.text[hit.start : hit.end]):
        lo, hi = hit.label_x[0], max(hit.label_x[1], hit.seg.x1)
        for under in below(lines, hit.seg, lo, hi, depth=2):  # 2: "Date limite de / paiement / 8 août"
            if _starts_with_label(under):
                break
            yield under, 0, len(under.text), 1.0 if under.line == hit.seg.line + 1 else 0.9


def _read_amount(seg: Segment, start: int, end: int) -> tuple[str, float, int] | None:
    region = seg.text[start:end]
    fixed = repair_digits(tidy_number_spaces(region))
    found = find_amounts(fixed)
    if not found:
        return None
    a, b, value = found[-1]
    if fixed == region:
        return value, seg.conf(start + a, start + b), 0
    repairs = sum(x != y for x, y in zip(fixed, region, strict=False)) if len(fixed) == len(region) else 1
    return value, seg.conf(start, end), max(1, repairs)


def _read_number(region: str) -> str | None:
    region = re.sub(r"(?<=\w)\s+(?=[-/_.]\w)|(?<=\w[-/_])\s+(?=\w)", "", region)  # "FA-2026 -0142"
    m = re.search(r"[A-Za-z0-9][A-Za-z0-9\-/_.]*[A-Za-z0-9]|\d", region)
    if m is None or not any(c.isdigit() for c in m[0]) or parse_date(m[0]):
        return None
    return m[0]


def _read(field: str, seg: Segment, start: int, end: int) -> tuple[str, float, int] | None:
    region = seg.text[start:end]
    if field in AMOUNTS:
        return _read_amount(seg, start, end)
    if field in ("BT-2", "BT-9"):
        if date := parse_date(region):
            return date, seg.conf(start, end), 0
        repaired = parse_date(repair_digits(region))
        return (repaired, seg.conf(start, end), 1) if repaired else None
    if field == "BT-1":
        number = _read_number(region)
        return (number, seg.conf(start, end), 0) if number else None
    name = re.split(r",?\s+\d{5}\b|\s+[—–]\s+", region.strip(" :;-–|\t"))[0].strip(" ,")
    if sum(c.isalpha() for c in name) < 2 or re.match(r"(?i)(n\s?°|no\b|num|\d)", name):
        return None
    return name, seg.conf(start, end), 0


def _label_candidates(pages: list[Lines]) -> list[Candidate]:
    out = []
    for lines in pages:
        for row in lines:
            for hit in _hits(row):
                for seg, a, b, weight in _value_regions(hit, lines):
                    if (read := _read(hit.field, seg, a, b)) is None:
                        continue
                    value, ocr, repairs = read
                    conf = weight * _TIER_CONF[hit.tier] * ocr * (0.85 if repairs else 1.0)
                    rate = _RATE.search(hit.seg.text[hit.start - 12 if hit.start > 12 else 0 : hit.end])
                    rate_s = rate[1].replace(",", ".") if rate and hit.field == TVA else None
                    out.append(
                        Candidate(hit.field, value, conf, seg.page, hit.seg.line, None, rate_s, repairs)
                    )
                    break
    return out


def _buyer_zone(pages: list[Lines]) -> set[tuple[int, int, float]]:
    """Keys of the segments in the buyer's block: its label and a few lines below."""
    zone: set[tuple[int, int, float]] = set()
    for lines in pages:
        for row in lines:
            for hit in (h for h in _hits(row) if h.field == "BT-44"):
                lo, hi = hit.seg.x0, hit.seg.x1
                for under in lines[hit.seg.line : hit.seg.line + 6]:
                    zone.update(s.key for s in under if min(s.x1, hi + 200) - max(s.x0, lo) > 0)
    return zone


_NOT_A_NAME = re.compile(
    r"(?i)^(facture|invoice|avoir|credit note|devis|page|date|t[ée]l|fax|e-?mail|tel)\b"
    r"|@|www\.|https?:|\b\d{5}\b|^\d|\b(rue|avenue|av\.|bd|boulevard|chemin|place|impasse|route|all[ée]e)\b"
)


def _seller_name(lines: Lines, buyer: set[tuple[int, int, float]]) -> Candidate | None:
    """The first prominent line at the top of page 1 that is neither a label nor an address."""
    for row in lines[:8]:
        for seg in row:
            label = _label_regex().search(fold(seg.text))
            if seg.key in buyer or (label and label.start() < 3):
                continue
            name = seg.text[: label.start() if label else None].strip(" :-|—")
            if _NOT_A_NAME.search(name) or sum(c.isalpha() for c in name) < 3:
                continue
            return Candidate("BT-27", name, 0.55 * seg.conf(), seg.page, seg.line)
    return None


def _best(cands: Sequence[Candidate], field: str) -> Candidate | None:
    mine = [c for c in cands if c.field == field]
    return max(mine, key=lambda c: (round(c.conf, 2), c.page, c.line)) if mine else None


_CREDIT_TITLE = re.compile(
    r"(?:facture\s+d')?avoir|credit\s+note|note\s+de\s+credit|(?:avoir|credit\s+note)\s*" + _NO + r".*"
    r"|" + _NO + r"\s*(?:de\s+l'|d')\s*avoir.*"
)


def _doc_type(pages: list[Lines]) -> str:
    """381 (credit note) when a segment is a credit-note title or number label, else 380 (invoice)."""
    segments = (seg for lines in pages for row in lines for seg in row)
    credit = any(_CREDIT_TITLE.fullmatch(fold(seg.text).strip(" :")) for seg in segments)
    return "381" if credit else "380"


def _with_accents(name: Candidate, pages: list[Lines]) -> Candidate:
    """The same name printed elsewhere with its accents (big titles often lose them in OCR)."""
    key = fold(name.value)
    for seg in (seg for lines in pages for row in lines for seg in row):
        spelled = seg.text[: len(name.value)]
        if fold(spelled) == key and sum(not c.isascii() for c in spelled) > sum(
            not c.isascii() for c in name.value
        ):
            return replace(name, value=spelled)
    return name


def extract_fields(pages: Sequence[PageText]) -> FieldSet:
    """Fields found on the pages, each with a confidence in 0..1; absent fields are left out.

    Candidates come from every label match and every identifier seen; the chosen set is the one the
    checks agree with (check digits, VAT key vs SIREN, HT + TVA = TTC); a value whose check fails
    keeps a confidence of at most 0.5, so the pipeline sends it to review.
    """
    laid = [layout(p) for p in pages]
    buyer = _buyer_zone(laid)
    cands = _label_candidates(laid)
    for lines in laid:
        for row in lines:
            for i, seg in enumerate(row):
                found = id_candidates(seg, buyer=seg.key in buyer)
                if not found and i + 1 < len(row) and _ID_LABEL.search(seg.text):
                    joined = functools.reduce(join, row[i + 1 : i + 3], seg)  # label [":"] value
                    found = id_candidates(joined, buyer=seg.key in buyer)
                cands.extend(found)
    if laid and not any(c.field == "BT-27" for c in cands):
        cands.extend(c for c in [_seller_name(laid[0], buyer)] if c)
    values: dict[str, Candidate] = {}
    for field in ("BT-1", "BT-2", "BT-9", "BT-27", "BT-30", "BT-31", "BT-44", "BT-84"):
        if best := _best(cands, field):
            values[field] = best
    if (siren := values.get("BT-30")) and len(siren.value) == 9:  # the SIRET, when printed, says more
        sirets = [c for c in cands if c.field == "BT-30" and c.checked and len(c.value) == 14]
        if longer := [c for c in sirets if c.value[:9] == siren.value]:
            siret = max(longer, key=lambda c: c.conf)
            values["BT-30"] = siret.with_conf(max(siren.conf, siret.conf))
    if "BT-27" in values:
        values["BT-27"] = _with_accents(values["BT-27"], laid)
    text = "\n".join(p.text for p in pages)
    prepaid = bool(_PREPAID.search(fold(text)))
    values |= choose_amounts([c for c in cands if c.field in AMOUNTS], prepaid=prepaid)
    cross_check(values, cands)
    out = {f: c.value for f, c in values.items()}
    conf = {f: round(max(0.0, min(1.0, c.conf)), 3) for f, c in values.items()}
    if text.strip():
        out["BT-3"], conf["BT-3"] = _doc_type(laid), 0.8
        totals = "\n".join(line for line in text.splitlines() if "tot" in line.lower())
        if currency := currency_of(totals) or currency_of(text):
            out["BT-5"], conf["BT-5"] = currency, 0.9
    log.debug("fields found: %s", sorted(out))
    return FieldSet(out, conf)
