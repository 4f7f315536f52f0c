"""The words of a page as a supplier memory sees them: lines, a frame, a unit, values read in runs, and
the keys that name the supplier (its identifiers, else a fingerprint of its layout)."""

from __future__ import annotations

import hashlib
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from extractors.identifiers import compact, is_french_vat, is_iban, is_siren, is_siret, vat_siren
from extractors.layout import fold
from extractors.parsing import parse_amount, parse_date
from extractors.results import PageText, Word
from extractors.values import read_number

Box = tuple[float, float, float, float]
AMOUNT_FIELDS = frozenset({"BT-106", "BT-109", "BT-110", "BT-112", "BT-115"})
DATE_FIELDS = frozenset({"BT-2", "BT-9"})
ID_FIELDS = frozenset({"BT-30", "BT-31", "BT-84"})
NAME_FIELDS = frozenset({"BT-27", "BT-44"})
MAX_WORDS = 7
_GROUP_HEAD = re.compile(r"[-(]?\d{1,3}")
_GROUP = re.compile(r"\d{3}(?:[.,]\d{1,2})?\W*")
_AMOUNTISH = re.compile(r"^[-−(]?[€$£]?[\d.,'\u00a0\u202f]*\d[\d.,'\u00a0\u202f]*[)€$£]?-?$|^(?:€|EUR|\$|£)$")


@dataclass(frozen=True)
class Page:
    """A page's words in lines, its frame and unit."""

    number: int
    lines: tuple[tuple[Word, ...], ...]
    frame: Box
    unit: float

    def rel(self, box: Box) -> Box:
        x0, y0, x1, y1 = self.frame
        w, h = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
        return ((box[0] - x0) / w, (box[1] - y0) / h, (box[2] - x0) / w, (box[3] - y0) / h)

    def unrel(self, box: Box) -> Box:
        x0, y0, x1, y1 = self.frame
        w, h = x1 - x0, y1 - y0
        return (x0 + box[0] * w, y0 + box[1] * h, x0 + box[2] * w, y0 + box[3] * h)


def pages_of(pages: Sequence[PageText]) -> list[Page]:
    out = []
    for page in pages:
        words = [w for w in page.words if w.text.strip() and w.bottom > w.top]
        if not words:
            continue
        unit = statistics.median(w.bottom - w.top for w in words)
        lines: list[list[Word]] = []
        for w in sorted(words, key=lambda w: (w.top + w.bottom) / 2):
            mid = (w.top + w.bottom) / 2
            if lines and abs(mid - statistics.fmean((v.top + v.bottom) / 2 for v in lines[-1])) < unit / 2:
                lines[-1].append(w)
            else:
                lines.append([w])
        frame = (min(w.x0 for w in words), min(w.top for w in words),
                 max(w.x1 for w in words), max(w.bottom for w in words))  # fmt: skip
        out.append(Page(page.number, tuple(tuple(sorted(line, key=lambda w: w.x0)) for line in lines),
                         frame, unit))  # fmt: skip
    return out


def span(words: Sequence[Word]) -> Box:
    return (min(w.x0 for w in words), min(w.top for w in words),
            max(w.x1 for w in words), max(w.bottom for w in words))  # fmt: skip


def end(line: Sequence[Word], i: int) -> int:
    """The end of the longest run starting at word ``i`` that may still be one value."""
    return min(len(line), i + MAX_WORDS) + 1


def text_of(words: Sequence[Word]) -> str:
    return " ".join(w.text for w in words)


def token(text: str) -> str:
    return re.sub(r"[^\w%]+", "", fold(text))


# --- reading a value from words -------------------------------------------------------------------


def parse(field: str, text: str) -> str | None:
    """``text`` read as a value of ``field``, in the `extract --json` form, or None."""
    text = text.strip(" :;|")
    if field in AMOUNT_FIELDS:
        return parse_amount(text)
    if field in DATE_FIELDS:
        return parse_date(text)
    value = compact(text)
    if field == "BT-30":
        return value if value.isdigit() and (is_siret(value) or is_siren(value)) else None
    if field == "BT-31":
        return value if re.fullmatch(r"[A-Z]{2}[0-9A-Z]{8,13}", value) else None
    if field == "BT-84":
        return value if is_iban(value) else None
    if field == "BT-1":
        return read_number(text, alone=True)
    name = re.split(r",?\s+\d{5}\b|\s+[—–]\s+", text)[0].strip(" ,;:")  # not its address
    return name if sum(c.isalpha() for c in name) >= 2 else None


def matches(field: str, value: str, text: str) -> bool:
    if field in AMOUNT_FIELDS:
        read = parse_amount(text)
        return read is not None and read.lstrip("-") == value.lstrip("-")
    if field in DATE_FIELDS:
        return parse_date(text) == value
    if field in ID_FIELDS or field == "BT-1":
        return compact(text) == compact(value)
    return token(text) == token(value) != ""


def whole(field: str, line: Sequence[Word], i: int, j: int, unit: float) -> bool:
    """Whether words i..j of the line are one whole value: an amount not cut from its thousands, a
    date or identifier that needs each of its words."""
    run = line[i:j]
    if field in AMOUNT_FIELDS:
        if not all(_AMOUNTISH.match(w.text) for w in run):
            return False
        glued = 0.6 * unit  # a thousands space, not a gap between two amounts
        before = i > 0 and line[i].x0 - line[i - 1].x1 < glued and _GROUP_HEAD.fullmatch(line[i - 1].text)
        after = j < len(line) and line[j].x0 - line[j - 1].x1 < glued and _GROUP.fullmatch(line[j].text)
        return not before and not (after and _GROUP_HEAD.fullmatch(line[j - 1].text))
    if field in NAME_FIELDS:  # a name: the whole segment, or what follows its label's colon
        starts = i == 0 or line[i].x0 - line[i - 1].x1 > 1.2 * unit or line[i - 1].text.endswith(":")
        return starts and (j == len(line) or line[j].x0 - line[j - 1].x1 > 1.2 * unit)
    if len(run) > 1:
        full = parse(field, text_of(run))
        return parse(field, text_of(run[1:])) != full and parse(field, text_of(run[:-1])) != full
    return True


def runs_near(field: str, page: Page, near: Box, words: int) -> list[tuple[float, tuple[Word, ...], str]]:
    """(score, words, value) of the runs that read as ``field`` around the predicted box ``near``."""
    mid = (near[1] + near[3]) / 2
    out = []
    longest = max(words + 3, 3) if field not in NAME_FIELDS else MAX_WORDS
    for line in page.lines:
        dy = abs((line[0].top + line[0].bottom) / 2 - mid) / page.unit
        if dy > 0.9:
            continue
        for i in range(len(line)):
            for j in range(i + 1, min(len(line), i + longest) + 1):
                if j - i > 1 and line[j - 1].x0 - line[j - 2].x1 > 2.0 * page.unit:
                    break  # a column gap: a value does not span it
                x0, x1 = line[i].x0, line[j - 1].x1
                overlap = min(x1, near[2]) - max(x0, near[0])
                if overlap <= -page.unit:
                    continue
                value = parse(field, text_of(line[i:j]))
                if value is None or not whole(field, line, i, j, page.unit):
                    continue
                union = max(x1, near[2]) - min(x0, near[0])
                out.append((max(overlap, 0.0) / max(union, 1e-6) - 0.2 * dy, line[i:j], value))
    return sorted(out, key=lambda r: -r[0])


# --- which supplier --------------------------------------------------------------------------------


def identity_keys(fields: dict[str, str]) -> list[str]:
    """Keys of the seller named by confirmed fields: its SIREN, VAT id, IBAN."""
    out = []
    legal = re.sub(r"\D", "", fields.get("BT-30", ""))
    if len(legal) in (9, 14):
        out.append(f"siren:{legal[:9]}")
    if vat := fields.get("BT-31"):
        out.append(f"siren:{s}" if (s := vat_siren(vat)) else f"vat:{compact(vat)}")
    if iban := fields.get("BT-84"):
        out.append(f"iban:{compact(iban)}")
    return list(dict.fromkeys(out))


def page_keys(pages: Sequence[PageText]) -> list[str]:
    """Keys of every SIRET/SIREN, VAT id and IBAN printed on the pages, in reading order."""
    out = []
    for line in (line for page in pages_of(pages) for line in page.lines):
        for i in range(len(line)):
            for j in range(i + 1, min(len(line), i + 8) + 1):
                v = compact(text_of(line[i:j]))
                if v.isdigit() and ((len(v) == 14 and is_siret(v)) or (len(v) == 9 and is_siren(v))):
                    out.append(f"siren:{v[:9]}")
                elif is_french_vat(v):
                    out.append(f"siren:{v[4:]}")
                elif len(v) >= 15 and v[:2].isalpha() and is_iban(v):
                    out.append(f"iban:{v}")
    return list(dict.fromkeys(out))


def fingerprint(pages: Sequence[PageText]) -> tuple[str, ...]:
    """The first page's stable words (letters only) with their coarse place on it."""
    laid = pages_of(pages[:1])
    if not laid:
        return ()
    page, out = laid[0], set()
    for w in (w for line in page.lines for w in line):
        tok = token(w.text)
        if len(tok) >= 3 and tok.isalpha():
            x, y, _, _ = page.rel((w.x0, w.top, w.x1, w.bottom))
            out.add(f"{tok}@{int(x * 6)},{int(y * 12)}")
    return tuple(sorted(out))[:300]


def similarity(a: Sequence[str], b: Sequence[str]) -> float:
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


def supplier_key(pages: Sequence[PageText], fields: dict[str, str]) -> str:
    """The seller's SIREN, VAT id or IBAN (confirmed, else the first printed), else a layout key."""
    if keys := identity_keys(fields) or page_keys(pages):
        return keys[0]
    digest = hashlib.sha256(" ".join(fingerprint(pages)).encode()).hexdigest()[:16]
    return f"layout:{digest}"
