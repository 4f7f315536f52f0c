"""The searchable text layer: invisible OCR words laid on a kept page, read back by poppler."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, FloatObject, NameObject, NumberObject
from reportlab.pdfgen import canvas

from dematflow.errors import CorruptInput, EncryptedInput
from signing.textlayer import PageLayer, add_text_layer

PER_MILLE = (1 / 1000, 0.0, 0.0, 1 / 1000, 0.0, 0.0)  # boxes given in thousandths of the page shown
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def _page(
    *, rotate: int = 0, crop: tuple[float, float, float, float] | None = None, content: str = ""
) -> bytes:
    """A 600 x 800 pt page with one printed "x", turned by /Rotate and cut by a /CropBox."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(600, 800))
    c.drawString(50, 50, "x")
    c.save()
    writer = PdfWriter()
    writer.add_page(PdfReader(io.BytesIO(buf.getvalue())).pages[0])
    page = writer.pages[0]
    page[NameObject("/Rotate")] = NumberObject(rotate)
    if crop is not None:
        page[NameObject("/CropBox")] = ArrayObject([FloatObject(v) for v in crop])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _words(pdf: bytes) -> dict[str, tuple[float, float]]:
    """Centre of each word as poppler shows the page (points from the top left of the media box)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60
    )
    found = {}
    for m in _WORD.finditer(out.stdout.decode()):
        x0, y0, x1, y1 = (float(v) for v in m.groups()[:4])
        found[m.group(5)] = ((x0 + x1) / 2, (y0 + y1) / 2)
    return found


@pytest.mark.parametrize(
    ("rotate", "centre"),
    # The crop box (100, 200)-(500, 700) shown turned; the word spans 10-30 % across and 20-25 % down
    # of what is shown. Worked out by hand from ISO 32000's /Rotate (clockwise) for each case.
    [(0, (180.0, 212.5)), (90, (300.0, 190.0)), (180, (180.0, 312.5)), (270, (200.0, 190.0))],
)
def test_word_lies_where_it_was_read_on_the_page_as_shown(rotate: int, centre: tuple[float, float]) -> None:
    pdf = _page(rotate=rotate, crop=(100, 200, 500, 700))
    layered = add_text_layer(pdf, {1: PageLayer([("Hello", 100, 200, 300, 250)], PER_MILLE)})
    x, y = _words(layered)["Hello"]
    assert abs(x - centre[0]) < 1 and abs(y - centre[1]) < 1, (x, y)


def test_the_given_pdf_stays_a_prefix_and_its_own_text_is_kept() -> None:
    pdf = _page()
    layered = add_text_layer(pdf, {1: PageLayer([("FA-2026-0042", 100, 100, 400, 140)], PER_MILLE)})
    assert layered.startswith(pdf)  # an appended revision: the kept bytes are untouched
    assert set(_words(layered)) == {"x", "FA-2026-0042"}


def test_a_page_made_searchable_before_gets_its_new_words_too() -> None:
    once = add_text_layer(_page(), {1: PageLayer([("Hello", 100, 200, 300, 250)], PER_MILLE)})
    twice = add_text_layer(once, {1: PageLayer([("World", 100, 400, 300, 450)], PER_MILLE)})
    assert twice.startswith(once) and {"Hello", "World"} <= set(_words(twice))


def test_french_text_survives_and_other_scripts_become_question_marks() -> None:
    words = [("Réglé", 100, 100, 300, 140), ("1 234,56 €", 400, 100, 700, 140), ("Ωmega", 100, 300, 300, 340)]
    text = set(_words(add_text_layer(_page(), {1: PageLayer(words, PER_MILLE)})))
    assert {"Réglé", "€", "?mega"} <= text


def test_a_graphics_state_left_by_the_page_does_not_move_the_words() -> None:
    writer = PdfWriter()
    writer.add_blank_page(600, 800)
    unclosed = DecodedStreamObject()
    unclosed.set_data(b"q 2 0 0 2 0 0 cm\n")  # scales everything by 2 and never restores the state
    writer.pages[0].replace_contents(unclosed)
    buf = io.BytesIO()
    writer.write(buf)
    layered = add_text_layer(buf.getvalue(), {1: PageLayer([("Hello", 100, 200, 300, 250)], PER_MILLE)})
    x, y = _words(layered)["Hello"]
    assert abs(x - 120) < 1 and abs(y - 180) < 1, (x, y)


def test_unreadable_encrypted_or_missing_pages_are_refused() -> None:
    layer = {1: PageLayer([("a", 0, 0, 10, 10)], PER_MILLE)}
    with pytest.raises(CorruptInput):
        add_text_layer(b"%PDF-1.7\nnot really", layer)
    with pytest.raises(CorruptInput):
        add_text_layer(_page(), {2: layer[1]})
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_page())))
    writer.encrypt("secret")
    locked = io.BytesIO()
    writer.write(locked)
    with pytest.raises(EncryptedInput):
        add_text_layer(locked.getvalue(), layer)
