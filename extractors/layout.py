"""Page layout for field extraction: words grouped into lines, lines cut into segments at wide gaps."""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from extractors.results import PageText, Word

GAP = 1.5  # a horizontal gap wider than this many line heights separates two segments
SIZE_JUMP = 1.45  # neighbours whose heights differ by more than this ratio are in separate segments...
SPECK_CONF = 0.6  # a lone letter read with less confidence than this is taken for a speck
SIZE_GAP = 0.9  # ...when a gap wider than a word space (this many line heights) also parts them


_QUOTE_SPECKS = str.maketrans("‘“”«»", "     ")  # OCR reads specks before words as opening quotes


def fold(text: str) -> str:
    """Lower-case, accents removed, one character for one character (spans stay aligned)."""
    return "".join(map(_fold_char, text)).replace("’", "'").translate(_QUOTE_SPECKS)


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base.lower() if len(base) == 1 else ch.lower()


@dataclass(frozen=True)
class Segment:
    """A run of words on one line, separated from its neighbours by a wide gap."""

    page: int
    line: int
    text: str
    spans: tuple[tuple[int, int, float], ...]  # (start, end, conf) of each word in text
    x0: float
    x1: float
    top: float | None = None  # None: laid out from plain text, no word boxes
    bottom: float | None = None

    @property
    def box(self) -> tuple[float, float, float, float] | None:
        """(x0, top, x1, bottom) in the page's word coordinates, when the words had boxes."""
        if self.top is None or self.bottom is None:
            return None
        return (self.x0, self.top, self.x1, self.bottom)

    def conf(self, start: int = 0, end: int | None = None) -> float:
        """The lowest OCR confidence of the words overlapping ``text[start:end]``."""
        stop = len(self.text) if end is None else end
        inside = [c for a, b, c in self.spans if a < stop and b > start]
        return min(inside) if inside else 1.0

    @property
    def key(self) -> tuple[int, int, float]:
        return (self.page, self.line, self.x0)


Lines = list[list[Segment]]


def _line_of(lines: list[list[Word]], w: Word) -> bool:
    """Whether ``w`` belongs to the last line: its middle is within half a line height of the line's
    mean middle (an accent or a descender moves a word's box, not its line)."""
    if not lines:
        return False
    line = lines[-1]
    middle = sum(x.top + x.bottom for x in line) / (2 * len(line))
    height = sorted(x.bottom - x.top for x in line)[len(line) // 2]
    return abs((w.top + w.bottom) / 2 - middle) <= 0.5 * height


def _is_speck(w: Word) -> bool:
    """Noise OCR reads as a mark or a lone letter ("_", ":", "a" at 0.3): it would part a label from
    the value below it, so it is left out of the layout. Marks read with confidence ("%", "&") stay."""
    if any(c.isdigit() for c in w.text):  # "2 195,47": a thousands group is never a speck
        return False
    return sum(c.isalnum() for c in w.text) <= 1 and len(w.text) <= 2 and w.conf < SPECK_CONF


def _segments_from_words(page: int, words: Sequence[Word]) -> Lines:
    lines: list[list[Word]] = []
    for w in sorted((w for w in words if not _is_speck(w)), key=lambda w: (w.top + w.bottom) / 2):
        if _line_of(lines, w):
            lines[-1].append(w)
        else:
            lines.append([w])
    out = []
    for index, line in enumerate(lines):
        line.sort(key=lambda w: w.x0)
        height = sorted(w.bottom - w.top for w in line)[len(line) // 2]
        groups: list[list[Word]] = [[line[0]]]
        for prev, w in itertools.pairwise(line):
            gap = w.x0 - prev.x1
            if gap > GAP * height or (gap > SIZE_GAP * height and _size_jump(prev, w)):
                groups.append([])
            groups[-1].append(w)
        out.append([_segment(page, index, g) for g in groups])
    return out


def _size_jump(a: Word, b: Word) -> bool:
    """A change of type size between neighbours (a title beside a name) also ends a segment. Box
    heights follow the glyphs ("régler" with accent and descender is 1.5 times "avant"), so only a
    gap wider than a word space lets a size change split words."""
    if min(sum(c.isalpha() for c in w.text) for w in (a, b)) < 3:  # ":", "n°", digits: boxes vary
        return False
    ha, hb = a.bottom - a.top, b.bottom - b.top
    return max(ha, hb) > SIZE_JUMP * max(min(ha, hb), 1e-6)


def _segment(page: int, line: int, words: Sequence[Word]) -> Segment:
    spans, pos = [], 0
    for w in words:
        spans.append((pos, pos + len(w.text), w.conf))
        pos += len(w.text) + 1
    text = " ".join(w.text for w in words)
    top, bottom = min(w.top for w in words), max(w.bottom for w in words)
    return Segment(page, line, text, tuple(spans), words[0].x0, words[-1].x1, top, bottom)


def _segments_from_text(page: PageText) -> Lines:
    out = []
    for index, line in enumerate(page.text.splitlines()):
        segs = []
        for m in re.finditer(r"\S+(?:[ ]{1,2}\S+)*", line):
            spans = tuple((w.start(), w.end(), page.mean_conf) for w in re.finditer(r"\S+", m[0]))
            segs.append(Segment(page.number, index, m[0], spans, m.start(), m.end()))
        out.append(segs)
    return out


def layout(page: PageText) -> Lines:
    """Lines of segments, top to bottom, from the word boxes (or the text when there are none)."""
    if page.words:
        return _segments_from_words(page.number, page.words)
    return _segments_from_text(page)


def right_of(lines: Lines, seg: Segment) -> Segment | None:
    """The next segment to the right of ``seg`` on its line."""
    right = [s for s in lines[seg.line] if s.x0 >= seg.x1]
    return right[0] if right else None


def below(lines: Lines, seg: Segment, lo: float, hi: float, *, depth: int = 1) -> list[Segment]:
    """In each of the ``depth`` lines below ``seg``, the first segment overlapping ``[lo, hi]``."""
    found = []
    for row in lines[seg.line + 1 : seg.line + 1 + depth]:
        found += [s for s in row if min(s.x1, hi) - max(s.x0, lo) > 0][:1]
    return found


def join(a: Segment, b: Segment) -> Segment:
    """One segment made of ``a`` and ``b`` (a label and its value that a wide gap separated)."""
    shift = len(a.text) + 1
    spans = a.spans + tuple((x + shift, y + shift, c) for x, y, c in b.spans)
    top = min(a.top, b.top) if a.top is not None and b.top is not None else None
    bottom = max(a.bottom, b.bottom) if a.bottom is not None and b.bottom is not None else None
    return Segment(a.page, a.line, f"{a.text} {b.text}", spans, a.x0, b.x1, top, bottom)
