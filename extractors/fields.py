"""Invoice fields (EN 16931 business terms) from page text: labels and values, then checks."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from extractors.blocks import EXTRA_KINDS, name_candidates
from extractors.candidates import AMOUNTS, Candidate, choose_amounts, cross_check, id_candidates
from extractors.doubts import UNSURE, open_questions
from extractors.features import context, features
from extractors.labels import NO, TIER_CONF, Hit, first_label, hits, value_regions
from extractors.layout import Lines, fold, join, layout
from extractors.parsing import currency_of, parse_date
from extractors.ranking import Ranker, prior, raw_confidence, shipped
from extractors.results import FieldSet, Located, PageText
from extractors.values import read

log = logging.getLogger(__name__)

HT, TVA, TTC, DUE = AMOUNTS
_ID_LABEL = re.compile(r"(?i)\b(?:siret|siren|rcs|tva|vat|iban)\b[^0-9]*$")
_PREPAID = re.compile(
    r"acompte|deja\s+(?:paye|regle|verse)|paid\s+to\s+date|prepaid|avance\s+(?:versee|recue)"
    r"|anzahlungen\s+-?[1-9]"
)
MIN_SCORE = (
    0.0  # candidates the model scores lower are left out (none: a low score is still a value to review)
)
NOISE_CONF = 0.45  # a reading whose words OCR trusts less than this does not end the search for a value
TYPE_CONF = 0.8  # the type code a title gives
_RATE = re.compile(r"(\d{1,2}(?:[.,]\d{1,2})?)\s*%")


def _hit_candidates(hit: Hit, lines: Lines) -> list[Candidate]:
    """Candidates for one label from the first region that reads. An amount column sits at the right:
    when the label's own segment and a segment to its right both hold amounts ("Tax 15% on $ 112.90 |
    $ 16.94"), the rightmost is the value and the others stay as weaker alternatives."""
    rate = _RATE.search(hit.seg.text[max(0, hit.start - 12) : hit.end])
    rate_s = rate[1].replace(",", ".") if rate and hit.field == TVA else None
    found: list[Candidate] = []
    trusted = False  # a reading OCR is sure of was found; noise ("ane") does not end the search
    for seg, a, b, weight in value_regions(hit, lines):
        readings = read(hit.field, seg, a, b, alone=seg is not hit.seg, below=seg.line != hit.seg.line)
        if not readings:
            continue
        sure = any(ocr >= NOISE_CONF for _, ocr, _ in readings)
        if trusted:
            if not (sure and hit.field in AMOUNTS and seg.line == hit.seg.line):
                break
            found = [c.with_conf(0.8 * c.conf) for c in found]  # a further amount to the right
        for value, ocr, repairs in readings:
            conf = weight * TIER_CONF[hit.tier] * ocr * (0.85 if repairs else 1.0)
            how = "same" if seg is hit.seg else "right" if seg.line == hit.seg.line else "below"
            found.append(
                Candidate(
                    hit.field,
                    value,
                    conf,
                    seg.page,
                    hit.seg.line,
                    None,
                    rate_s,
                    repairs,
                    seg.box,
                    f"t{hit.tier}",
                    how,
                    ocr,
                )
            )
        trusted = trusted or sure
    return found


def _buyer_zone(found: list[tuple[Hit, Lines]]) -> set[tuple[int, int, float]]:
    """Keys of the segments in the buyer's block: its label and a few lines below."""
    zone: set[tuple[int, int, float]] = set()
    for hit, lines in ((h, lines) for h, lines in found if h.field == "BT-44"):
        lo, hi = hit.seg.x0, hit.seg.x1
        for under in lines[hit.seg.line : hit.seg.line + 6]:
            zone.update(s.key for s in under if min(s.x1, hi + 200) - max(s.x0, lo) > 0)
    return zone


def _identifier_candidates(pages: list[Lines], buyer: set[tuple[int, int, float]]) -> list[Candidate]:
    """SIRET/SIREN, VAT and IBAN candidates of every segment, or of a label and the value a wide gap
    parted from it ("SIRET | : | 732 829 320 00074")."""
    out = []
    for row in (row for lines in pages for row in lines):
        for i, seg in enumerate(row):
            found = id_candidates(seg, buyer=seg.key in buyer)
            if not found and i + 1 < len(row) and _ID_LABEL.search(seg.text):
                joined = functools.reduce(join, row[i + 1 : i + 3], seg)  # label [":"] value
                found = id_candidates(joined, buyer=seg.key in buyer)
            out.extend(found)
    return out


_NOT_A_NAME = re.compile(
    r"(?i)^(facture|invoice|avoir|credit note|devis|page|date|t[ée]l|fax|e-?mail|tel)\b"
    r"|@|www\.|https?:|\b\d{5}\b|^\d|\b(rue|avenue|av\.|bd|boulevard|chemin|place|impasse|route|all[ée]e)\b"
)


_LEGAL_FORM = re.compile(
    r"(?i)\b(?:sarl|sas|sasu|sa|eurl|sci|snc|scop|selarl|ltd|gmbh|inc|llc|bv)\b|&\s+associ|\bet\s+fils\b"
)


def _seller_name(lines: Lines, buyer: set[tuple[int, int, float]]) -> Candidate | None:
    """A prominent line at the top of page 1 that is neither a label, a title nor an address: the
    first one naming a legal form (SARL, SAS...), else the first one."""
    found = []
    for seg in (seg for row in lines[:8] for seg in row):
        label = first_label(seg.text)
        if seg.key in buyer or (label and (label[1] < 3 or label[0] == "")):
            continue  # a label, or legal mentions ("SARL au capital de 10 000 €")
        name = seg.text[: label[1] if label else None].strip(" :-|—")
        spaced_title = re.match(r"(?i)(facture|invoice|avoir)", re.sub(r"\W", "", name))  # "FACTU RE"
        if _NOT_A_NAME.search(name) or spaced_title or sum(c.isalpha() for c in name) < 3:
            continue
        found.append(
            Candidate("BT-27", name, 0.55 * seg.conf(), seg.page, seg.line, box=seg.box, kind="name")
        )
    return next((c for c in found if _LEGAL_FORM.search(c.value)), found[0] if found else None)


def _first_date(lines: Lines) -> Candidate | None:
    """The first date of page 1 outside any other date's label: the issue date when its label was
    misread ("ora patel facture: 2025-08-20"); low confidence, so the document goes to review."""
    for seg in (seg for row in lines for seg in row):
        if (label := first_label(seg.text)) and (
            label[0] in ("", "BT-9") or any(h.tier == 3 for h in hits([seg]))
        ):
            continue
        if date := parse_date(seg.text):
            return Candidate("BT-2", date, 0.35, seg.page, seg.line, box=seg.box, kind="date")
    return None


def _best(cands: Sequence[Candidate], field: str) -> Candidate | None:
    mine = [c for c in cands if c.field == field]
    return max(mine, key=lambda c: (round(c.conf, 2), c.page, c.line)) if mine else None


_CREDIT_TITLE = re.compile(  # a segment that is a credit-note title or number, maybe after "Objet :"
    r"(?:(?:objet|subject)\s*:?\s*)?(?:(?:facture\s+d')?avoir|credit\s+(?:note|memo)|note\s+de\s+credit"
    r"|(?:avoir|credit\s+(?:note|memo)|note\s+de\s+credit)\s*" + NO + r".*"
    r"|(?:avoir|credit\s+note)\s+[a-z]{0,4}[-/ ]?\d[\w/.-]*"  # "Avoir AV-2017-0005": a number, no label
    r"|" + NO + r"\s*(?:de\s+l'|d')\s*avoir.*)"
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


def _choose_singles(cands: list[Candidate], pages: list[Lines]) -> dict[str, Candidate]:
    """The best candidate of each field other than the totals, then what a second look settles: the
    SIRET when its SIREN won, the seller name with its accents, a fallback issue date."""
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
        values["BT-27"] = _with_accents(values["BT-27"], pages)
    weak = "BT-2" not in values or values["BT-2"].kind == "t3"  # only another date's label matched
    if weak and pages and (first := _first_date(pages[0])):
        values["BT-2"] = first
    return values


_DASHES = str.maketrans("\u2010\u2011", "--")  # hyphens some PDF writers print as minus signs ("‐7,67")


def _dashes(page: PageText) -> PageText:
    if not any(d in page.text for d in "\u2010\u2011"):
        return page
    words = tuple(replace(w, text=w.text.translate(_DASHES)) for w in page.words)
    return replace(page, text=page.text.translate(_DASHES), words=words)


@dataclass(frozen=True)
class Gathered:
    """A document's layout and every candidate of every field, before any choice."""

    laid: list[Lines]
    cands: list[Candidate]
    buyer: set[tuple[int, int, float]]
    text: str


def gather(pages: Sequence[PageText]) -> Gathered:
    """Candidates from every label match, every identifier seen and the name-like lines of the blocks."""
    laid = [layout(_dashes(p)) for p in pages]
    found = [(hit, lines) for lines in laid for row in lines for hit in hits(row)]
    buyer = _buyer_zone(found)
    cands = [c for hit, lines in found for c in _hit_candidates(hit, lines)]
    cands += _identifier_candidates(laid, buyer)
    if laid and not any(c.field == "BT-27" for c in cands):
        cands.extend(c for c in [_seller_name(laid[0], buyer)] if c)
    cands += name_candidates(laid, found, buyer)
    return Gathered(laid, cands, buyer, "\n".join(p.text for p in pages))


def ranked(g: Gathered, ranker: Ranker | None) -> list[Candidate]:
    """The candidates with the model's score as confidence; without a model, the rule-based reader's own
    candidates with their hand-set confidences (distractors and block lines left out)."""
    if ranker is None:
        return [c for c in g.cands if c.kind not in EXTRA_KINDS]
    rows = features(g.cands, context(g.laid, g.cands, g.buyer))
    out = []
    for c, row in zip(g.cands, rows, strict=True):
        score = ranker.score(c.field, row)
        if score is None:
            out.append(c)
        elif score >= MIN_SCORE:
            out.append(replace(c, conf=round(prior(score, kind=c.kind, checked=c.checked), 4)))
    return out


def choose(g: Gathered, cands: list[Candidate]) -> dict[str, Candidate]:
    """The chosen value of each field (raw confidences): singles, then totals jointly, then checks."""
    values = _choose_singles(cands, g.laid)
    prepaid = bool(_PREPAID.search(fold(g.text)))
    values |= choose_amounts([c for c in cands if c.field in AMOUNTS], prepaid=prepaid)
    cross_check(values, cands)
    return values


def read_fields(pages: Sequence[PageText], ranker: Ranker | None) -> FieldSet:
    """`extract_fields` with a given model (None: the hand-set rules); confidences calibrated."""
    g = gather(pages)
    cands = ranked(g, ranker)
    values = choose(g, cands)
    out = {f: c.value for f, c in values.items()}
    raw = {f: max(0.0, min(1.0, c.conf)) for f, c in values.items()}
    if ranker is not None:
        raw = {f: raw_confidence(v, checked=values[f].checked) for f, v in raw.items()}
    conf = {
        f: round(
            ranker.calibrate(f, v, checked=values[f].checked) * (0.9 + 0.1 * values[f].ocr) if ranker else v,
            3,
        )
        for f, v in raw.items()
    }  # calibrated on text layers mostly: words OCR doubts lower it further
    if g.text.strip():
        out["BT-3"], conf["BT-3"] = _doc_type(g.laid), TYPE_CONF
        totals = "\n".join(line for line in g.text.splitlines() if "tot" in line.lower())
        if currency := currency_of(totals) or currency_of(g.text):
            out["BT-5"], conf["BT-5"] = currency, 0.9
    doubts = open_questions(values, cands, out.get("BT-3"), g.laid)
    conf |= {f: min(conf[f], UNSURE) for f in doubts if f in conf}
    located = {f: _located(c, cands, conf[f]) for f, c in values.items()}
    if out.get("BT-3") == "381":  # EN 16931: a credit note states its amounts positive, whatever is printed
        out = {f: v.lstrip("-") if f in AMOUNTS else v for f, v in out.items()}
        located = {f: tuple(replace(x, value=x.value.lstrip("-")) for x in xs) if f in AMOUNTS else xs
                   for f, xs in located.items()}  # fmt: skip
    log.debug("fields found: %s", sorted(out))
    return FieldSet(out, conf, located)


def extract_fields(pages: Sequence[PageText]) -> FieldSet:
    """Fields found on the pages, each with a confidence in 0..1; absent fields are left out.

    Candidates come from every label match (distractors' labels too), every identifier seen and the
    name-like lines of the header and address blocks; the shipped ranker scores them, the checks settle
    the totals (HT + TVA = TTC) and the identifiers (check digits, VAT key vs SIREN); the confidence is
    the calibrated probability that the value is right.
    """
    return read_fields(pages, shipped())


RUNNERS_UP = 3


def _located(chosen: Candidate, cands: list[Candidate], conf: float) -> tuple[Located, ...]:
    """The chosen value where it was read, then the best other values read for the same field."""
    others: dict[str, Candidate] = {}
    for c in sorted((c for c in cands if c.field == chosen.field), key=lambda c: -c.conf):
        if c.value != chosen.value and c.value not in others and len(others) < RUNNERS_UP:
            others[c.value] = c
    first = Located(chosen.value, conf, chosen.page, chosen.box)
    return (
        first,
        *(Located(c.value, round(max(0.0, min(1.0, c.conf)), 3), c.page, c.box) for c in others.values()),
    )
