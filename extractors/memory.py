"""A supplier's layout learnt from one confirmed reading: where each field is printed, read again there.

A lesson records, for one field, the box of its value relative to the page's frame (the extent of its
words) and to anchors: the label just left of (or above) the value, and nearby words printed once on
the page. Offsets are in *units*, the page's median word height, so a scan at another resolution
reads the same. Recall finds an anchor, predicts the value's box, and reads the words found there
with the generic value parsers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from extractors.identifiers import compact
from extractors.labels import first_label
from extractors.memory_words import (
    AMOUNT_FIELDS,
    DATE_FIELDS,
    ID_FIELDS,
    Box,
    Page,
    end,
    fingerprint,
    identity_keys,
    page_keys,
    pages_of,
    runs_near,
    similarity,
    span,
    supplier_key,
    text_of,
    token,
)
from extractors.memory_words import matches as value_matches
from extractors.results import FieldSet, Located, PageText, Word

__all__ = [
    "Layout", "Lesson", "Recall", "fingerprint", "identity_keys", "learn", "merge", "page_keys", "recall",
    "similarity", "supplier_key",
]  # fmt: skip
UNPRINTED = frozenset({"BT-3", "BT-5"})  # a code and a currency: read from the whole text, not a place
AGREE_CONF = 0.97  # memory and the generic reader read the same value
DOUBT_CONF = 0.5  # they disagree: below the review threshold, so a person looks
CONF = {"label": 0.93, "anchor": 0.88, "page": 0.6}
LESSONS_PER_FIELD = 2


@dataclass(frozen=True)
class Anchor:
    """Words printed near a value: ``where`` is their box relative to the frame (to choose among
    repeats), ``offset`` the value's box minus the anchor's top left corner, in units."""

    words: tuple[str, ...]
    where: Box
    offset: Box
    kind: str = "anchor"  # "label" (left of or above the value) | "anchor"


@dataclass(frozen=True)
class Lesson:
    field: str
    page: int
    box: Box  # relative to the page's frame
    words: int  # how many words the value took
    anchors: tuple[Anchor, ...] = ()
    corrected: bool = False  # the generic reader read this field wrong on the taught document


@dataclass(frozen=True)
class Layout:
    """What the memory knows of one supplier's documents."""

    key: str
    lessons: tuple[Lesson, ...] = ()
    fingerprint: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(sorted({lesson.field for lesson in self.lessons}))

    @property
    def trusted(self) -> frozenset[str]:
        """Fields the memory reads better than the generic reader: a person had to correct them."""
        return frozenset(lesson.field for lesson in self.lessons if lesson.corrected)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Layout:
        def anchor(a: dict[str, Any]) -> Anchor:
            return Anchor(tuple(a["words"]), _box(a["where"]), _box(a["offset"]), a.get("kind", "anchor"))

        lessons = tuple(
            Lesson(
                x["field"], int(x["page"]), _box(x["box"]), int(x["words"]),
                tuple(map(anchor, x.get("anchors", ()))), bool(x.get("corrected", False)),
            )
            for x in d.get("lessons", ())
        )  # fmt: skip
        return cls(str(d["key"]), lessons, tuple(d.get("fingerprint", ())))


def _box(v: Sequence[float]) -> Box:
    a, b, c, e = (float(x) for x in v)
    return (a, b, c, e)


# --- learning --------------------------------------------------------------------------------------


def _offset(value: Box, anchor: Box, unit: float) -> Box:
    return tuple(round((v - a) / unit, 3) for v, a in zip(value, (anchor[0], anchor[1]) * 2, strict=True))  # type: ignore[return-value]


def _label(page: Page, row: int, i: int, j: int) -> list[Word]:
    """The words just left of the value on its line (a wide gap allowed before the value), else the
    words of the line just above that sit over it."""
    line, value = page.lines[row], span(page.lines[row][i:j])
    left: list[Word] = []
    edge, rate = value[0], False
    for w in reversed(line[:i]):
        gap = edge - w.x1
        if len(left) == 4 or gap > (1.5 if left or rate else 25) * page.unit:
            break
        edge = w.x0
        if w.text.endswith("%") or (rate and re.fullmatch(r"\(?\d{1,2}(?:[.,]\d{1,2})?", w.text)):
            rate = True  # "TVA 20 %": the rate changes from one invoice to the next, the label does not
            continue
        if re.fullmatch(r"[€$£:]|EUR|USD|GBP|CHF", w.text):
            continue  # the currency or colon before an amount is not its label
        if re.search(r"\d", w.text):
            break
        left.insert(0, w)
    if left:
        return left
    above = [ln for ln in page.lines[:row] if 0 <= value[1] - ln[0].bottom < 2.5 * page.unit]
    if not above:
        return []
    lo, hi = value[0] - 2 * page.unit, value[2] + 2 * page.unit
    return [w for w in above[-1] if w.x1 > lo and w.x0 < hi and not re.search(r"\d", w.text)][:4]


def _unique_words(page: Page) -> dict[str, Word]:
    seen: dict[str, list[Word]] = {}
    for w in (w for line in page.lines for w in line):
        tok = token(w.text)
        if len(tok) >= 3 and tok.isalpha():
            seen.setdefault(tok, []).append(w)
    return {t: ws[0] for t, ws in seen.items() if len(ws) == 1}


def _lesson(page: Page, row: int, i: int, j: int, field: str, generic: Located | None) -> tuple[int, Lesson]:
    """The lesson of one place a value is printed, ranked: where the generic reader read it right
    first, then a label that names the field."""
    words = page.lines[row][i:j]
    value = span(words)
    anchors = []
    label = _label(page, row, i, j)
    if label:
        box = span(label)
        anchors.append(Anchor(tuple(token(w.text) for w in label), page.rel(box),
                              _offset(value, box, page.unit), "label"))  # fmt: skip
    near = []
    for tok, w in _unique_words(page).items():
        dx, dy = (w.x0 - value[0]) / page.unit, (w.top - value[1]) / page.unit
        if w not in label and w not in words and abs(dy) < 6 and abs(dx) < 20:
            near.append((abs(dx) + 3 * abs(dy), tok, w))
    for _, tok, w in sorted(near, key=lambda n: n[0])[:2]:
        box = (w.x0, w.top, w.x1, w.bottom)
        anchors.append(Anchor((tok,), page.rel(box), _offset(value, box, page.unit)))
    named = first_label(text_of(label)) if label else None
    rank = 2 if not label else (0 if named and named[0] == field else 1 if named is None else 3)
    if generic is not None and generic.page == page.number and generic.box and _overlaps(generic.box, value):
        rank = -1
    corrected = generic is None  # the generic reader did not read this value
    lesson = Lesson(field, page.number, page.rel(value), len(words), tuple(anchors), corrected)
    return rank, lesson


def _overlaps(a: Box, b: Box) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def _might_hold(field: str, value: str, line_text: str) -> bool:
    """A cheap test before trying every run of a line."""
    if field in AMOUNT_FIELDS:
        return re.sub(r"\D", "", value) in re.sub(r"\D", "", line_text)
    if field in DATE_FIELDS:
        return value[2:4] in line_text
    if field in ID_FIELDS or field == "BT-1":
        return compact(value) in compact(line_text)
    return token(value) in token(line_text)


def learn(pages: Sequence[PageText], fields: dict[str, str], *, key: str | None = None) -> Layout:
    """Where each confirmed value of ``fields`` is printed on ``pages``, up to two places each."""
    from extractors.fields import extract_fields  # the generic reader: which fields it got wrong

    generic = extract_fields(pages)
    laid = pages_of(pages)
    lessons: list[Lesson] = []
    for term, value in sorted(fields.items()):
        if term in UNPRINTED or not value:
            continue
        found = []
        right = generic.located[term][0] if generic.values.get(term) == value else None
        for page in laid:
            for row, line in enumerate(page.lines):
                if not _might_hold(term, value, text_of(line)):
                    continue
                runs = ((i, j) for i in range(len(line)) for j in range(i + 1, end(line, i)))
                spans = [(i, j) for i, j in runs if value_matches(term, value, text_of(line[i:j]))]
                for i, j in spans:
                    if not any((a, b) != (i, j) and i <= a and b <= j for a, b in spans):
                        found.append(_lesson(page, row, i, j, term, right))
        lessons.extend(lesson for _, lesson in sorted(found, key=lambda f: f[0])[:LESSONS_PER_FIELD])
    return Layout(key or supplier_key(pages, fields), tuple(lessons), fingerprint(pages))


# --- recalling -------------------------------------------------------------------------------------


def _find(page: Page, anchor: Anchor) -> Box | None:
    """The box of the anchor's words on the page, the occurrence nearest where it was learnt."""
    n, best, where = len(anchor.words), None, anchor.where
    for line in page.lines:
        tokens = [token(w.text) for w in line]
        for i in range(len(line) - n + 1):
            if tuple(tokens[i : i + n]) == anchor.words:
                box = span(line[i : i + n])
                rel = page.rel(box)
                distance = abs(rel[0] - where[0]) + abs(rel[1] - where[1])
                if best is None or distance < best[0]:
                    best = (distance, box)
    return best[1] if best else None


def _predictions(lesson: Lesson, page: Page) -> list[tuple[str, Box]]:
    out = []
    u = page.unit
    for anchor in lesson.anchors:
        if (box := _find(page, anchor)) is not None:
            o = anchor.offset
            x, y = box[0], box[1]
            out.append((anchor.kind, (x + o[0] * u, y + o[1] * u, x + o[2] * u, y + o[3] * u)))
    out.sort(key=lambda p: p[0] != "label")
    return [*out, ("page", page.unrel(lesson.box))]


def _recall_one(lesson: Lesson, page: Page) -> Located | None:
    readings = []
    labels = {w for a in lesson.anchors if a.kind == "label" for w in a.words}
    for kind, near in _predictions(lesson, page):
        runs = [
            r for r in runs_near(lesson.field, page, near, lesson.words) if token(r[1][0].text) not in labels
        ]
        if runs and runs[0][0] > 0.05:
            readings.append((kind, runs[0][2], span(runs[0][1])))
    if not readings:
        return None
    kind, value, box = readings[0]
    conf = CONF[kind]
    if any(v != value for k, v, _ in readings[1:] if k != "page"):
        conf -= 0.1  # the label and an anchor point at different values
    return Located(value, round(conf, 3), page.number, box)


def recall(layout: Layout, pages: Sequence[PageText]) -> FieldSet:
    """The fields read at the places ``layout`` learnt; a field whose place holds nothing readable is
    left out (the generic reader's reading then stands)."""
    laid = {p.number: p for p in pages_of(pages)}
    values: dict[str, str] = {}
    confidence: dict[str, float] = {}
    located: dict[str, tuple[Located, ...]] = {}
    for lesson in layout.lessons:
        if lesson.field in values or lesson.page not in laid:
            continue
        if (found := _recall_one(lesson, laid[lesson.page])) is not None:
            values[lesson.field], confidence[lesson.field] = found.value, found.confidence
            located[lesson.field] = (found,)
    return FieldSet(values, confidence, located)


def merge(
    generic: FieldSet, remembered: FieldSet, *, trusted: frozenset[str] = frozenset()
) -> tuple[FieldSet, tuple[str, ...]]:
    """One reading from both: agreement raises the confidence to at least AGREE_CONF; a disagreement
    keeps the remembered value below the review threshold (``disagreements``), unless the field is
    ``trusted`` (a person corrected the generic reader there); a field one side lacks keeps its own."""
    values, confidence = dict(generic.values), dict(generic.confidence)
    located = dict(generic.located)
    disagreements = []
    for term, value in remembered.values.items():
        mine, theirs = remembered.confidence.get(term, 0.0), generic.values.get(term)
        if theirs is None:
            values[term], confidence[term] = value, mine
        elif theirs == value:
            confidence[term] = round(max(AGREE_CONF, mine, generic.confidence.get(term, 0.0)), 3)
        else:
            values[term] = value
            confidence[term] = mine if term in trusted else min(mine, DOUBT_CONF)
            if term not in trusted:
                disagreements.append(term)
        located[term] = (*remembered.located.get(term, ()), *generic.located.get(term, ()))
    for term in _settled(generic.values, values, disagreements):
        values[term], confidence[term] = generic.values[term], generic.confidence[term]
        disagreements.remove(term)
    return FieldSet(values, confidence, located), tuple(sorted(disagreements))


def _settled(generic: dict[str, str], merged: dict[str, str], disagreements: list[str]) -> list[str]:
    """Totals the arithmetic settles: the generic reader's HT + TVA = TTC holds, the merged one not."""

    def adds_up(v: dict[str, str]) -> bool:
        try:
            return Decimal(v["BT-109"]) + Decimal(v["BT-110"]) == Decimal(v["BT-112"])
        except (KeyError, InvalidOperation):
            return False

    totals = [t for t in disagreements if t in ("BT-109", "BT-110", "BT-112")]
    return totals if totals and adds_up(generic) and not adds_up(merged) else []


@dataclass(frozen=True)
class Recall:
    """A reading with the memory: the layout used and what it read."""

    key: str
    layout: Layout
    fields: FieldSet = field(default_factory=FieldSet)
