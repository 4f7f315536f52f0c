"""Searchable renditions: OCR words laid as invisible text on the kept page, in an incremental update.

The page keeps its own pixels (the scan as received, never the OCR working copy) and gains a content
stream of invisible text (rendering mode 3): a viewer finds, selects and copies the words where they
are printed. The update is appended (pyHanko's incremental writer), so the PDF it is given stays a
byte-for-byte prefix of the result. Each word is drawn in Courier, whose glyphs all advance 0.6 em,
stretched to the width of its box: the selection lines up with the printed word. Courier is one of
PDF's standard 14 fonts and is not embedded (PDF/A-2 and -3 allow that for invisible text); its
WinAnsi encoding covers French, other characters become "?".
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError

from dematflow.errors import CorruptInput, EncryptedInput

log = logging.getLogger(__name__)

Affine = tuple[
    float, float, float, float, float, float
]  # (a, b, c, d, e, f): x' = ax + cy + e, y' = bx + dy + f
Box = tuple[str, float, float, float, float]  # text, left, top, right, bottom (pixels, y down)
FONT = "/DematflowOCR"
_ADVANCE = 0.6  # Courier's advance width, in em
_ASCENT, _DESCENT = 0.629, 0.157  # Courier's, in em: viewers select from descent to ascent


@dataclass(frozen=True)
class PageLayer:
    """The words of one page and where they go: ``to_page`` maps a point of the pixels the boxes
    are in to the page as shown (fractions of its width and height from the top left corner)."""

    words: Sequence[Box]
    to_page: Affine


def add_text_layer(pdf: bytes, layers: Mapping[int, PageLayer]) -> bytes:
    """``pdf`` with the words of ``layers`` (by 1-based page number) as invisible text on its pages.

    Raises CorruptInput (unreadable PDF, no such page) or EncryptedInput."""
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        if writer.prev.encrypted:
            raise EncryptedInput("the PDF is encrypted; no text layer can be added")
        font = writer.add_object(
            generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/Font"),
                    pdf_name("/Subtype"): pdf_name("/Type1"),
                    pdf_name("/BaseFont"): pdf_name("/Courier"),
                    pdf_name("/Encoding"): pdf_name("/WinAnsiEncoding"),
                }
            )
        )
        count = int(writer.root["/Pages"]["/Count"])
        for number, layer in sorted(layers.items()):
            if not 1 <= number <= count:
                raise CorruptInput(f"no page {number} for a text layer (the PDF has {count})")
            page = writer.find_page_for_modification(number - 1)[0].get_object()
            name = _free_font_name(page)
            content = _content(layer, _page_frame(page), name)
            resources = generic.DictionaryObject(
                {pdf_name("/Font"): generic.DictionaryObject({pdf_name(name): font})}
            )
            # The page's own content is wrapped in q ... Q so that a graphics state it leaves
            # behind cannot move the words.
            writer.add_stream_to_page(number - 1, _stream(writer, b"q\n"), prepend=True)
            writer.add_stream_to_page(number - 1, _stream(writer, b"Q\n" + content), resources=resources)
        out = io.BytesIO()
        writer.write(out)
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise CorruptInput(f"no text layer could be added ({type(exc).__name__}: {str(exc)[:200]})") from exc
    words = sum(len(layer.words) for layer in layers.values())
    log.debug("text layer: %d word(s) on %d page(s)", words, len(layers))
    return out.getvalue()


def _stream(writer: IncrementalPdfFileWriter, data: bytes) -> generic.IndirectObject:
    stream = generic.StreamObject(stream_data=data)
    stream.compress()
    return writer.add_object(stream)


def _inherited(page: generic.DictionaryObject, key: str) -> Any:
    """A page attribute, looked up its /Parent chain when the page does not set it (ISO 32000 7.7.3.4)."""
    node: generic.DictionaryObject | None = page
    while node is not None:
        if key in node:
            return node[key]
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
    return None


def _free_font_name(page: generic.DictionaryObject) -> str:
    """FONT, or FONT2, FONT3... when the page already names a font so (a page made searchable
    before, sent again): two resources of one name cannot be merged."""
    resources = _inherited(page, "/Resources")
    fonts = resources["/Font"] if resources is not None and "/Font" in resources else None
    taken = set(fonts.keys()) if fonts is not None else set()
    name, n = FONT, 1
    while name in taken:
        n += 1
        name = f"{FONT}{n}"
    return name


def _page_frame(page: generic.DictionaryObject) -> Affine:
    """Where a point of the page as shown (fractions, from the top left) lies in user space: the
    crop box (else the media box) turned by the page's /Rotate (clockwise, as viewers show it)."""
    box = _inherited(page, "/CropBox") or _inherited(page, "/MediaBox")
    if box is None:
        raise CorruptInput("a page has no /MediaBox")
    x0, y0, x1, y1 = (float(v) for v in box)
    left, bottom, right, top = min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
    w, h = right - left, top - bottom
    rotate = int(_inherited(page, "/Rotate") or 0) % 360
    return {
        0: (w, 0.0, 0.0, -h, left, top),
        90: (0.0, h, w, 0.0, left, bottom),
        180: (-w, 0.0, 0.0, h, right, bottom),
        270: (0.0, -h, -w, 0.0, right, top),
    }[rotate]


def _apply(m: Affine, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _content(layer: PageLayer, frame: Affine, font: str) -> bytes:
    """BT ... ET drawing each word invisibly: font size 1, the text matrix scaled so that the word
    runs across its box from left to right and its glyphs, descent to ascent, fill the box's height."""
    ops = [b"BT\n3 Tr\n%s 1 Tf" % font.encode()]
    for text, left, top, right, bottom in layer.words:
        encoded = text.encode("cp1252", "replace")
        if not encoded:
            continue
        x0, y0 = _apply(frame, *_apply(layer.to_page, left, bottom))
        x1, y1 = _apply(frame, *_apply(layer.to_page, right, bottom))
        xt, yt = _apply(frame, *_apply(layer.to_page, left, top))
        along, tall = _ADVANCE * len(encoded), _ASCENT + _DESCENT
        ux, uy = (xt - x0) / tall, (yt - y0) / tall  # one em upwards
        m = ((x1 - x0) / along, (y1 - y0) / along, ux, uy, x0 + _DESCENT * ux, y0 + _DESCENT * uy)
        ops.append(b"%.4f %.4f %.4f %.4f %.2f %.2f Tm <%s> Tj" % (*m, encoded.hex().encode()))
    ops.append(b"ET\n")
    return b"\n".join(ops)
