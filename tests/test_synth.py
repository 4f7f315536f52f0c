"""The synthetic benchmark generator: deterministic, every class and layout renders, truth is consistent."""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pdfplumber
import pytest
from PIL import Image

from benchmarks import synth
from benchmarks.synth import heldout, heldout_style
from benchmarks.synth.degrade import QUALITIES, degrade_pixels
from extractors import identifiers


def _text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return doc.pages[0].extract_text() or ""


def test_generator_is_deterministic() -> None:
    assert synth.document(seed=3, index=4) == synth.document(seed=3, index=4)
    assert synth.document(seed=3, index=4).pdf != synth.document(seed=4, index=4).pdf


@pytest.mark.parametrize("layout", sorted(synth.LAYOUTS))
@pytest.mark.parametrize("language", ["fr", "en"])
def test_each_layout_prints_its_invoice_number(layout: str, language: str) -> None:
    doc = synth.invoice_doc(seed=f"t-{layout}", layout=layout, language=language)
    text = _text(doc.pdf)
    assert doc.pdf.startswith(b"%PDF") and doc.doc_type == "invoice"
    assert doc.expected["BT-1"] in text
    assert doc.expected["BT-3"] == "380"


@pytest.mark.parametrize("seed", range(12))
def test_identifiers_valid_and_totals_consistent(seed: int) -> None:
    exp = synth.invoice_doc(seed=seed, credit=seed % 4 == 0).expected
    assert identifiers.is_siret(exp["BT-30"])
    assert identifiers.is_iban(exp["BT-84"])
    if "BT-31" in exp:
        assert identifiers.is_french_vat(exp["BT-31"]) and exp["BT-31"][4:] == exp["BT-30"][:9]
    assert Decimal(exp["BT-109"]) + Decimal(exp["BT-110"]) == Decimal(exp["BT-112"]) == Decimal(exp["BT-115"])
    assert exp["BT-2"] <= exp.get("BT-9", exp["BT-2"])


@pytest.mark.parametrize("doc_type", synth.DOC_TYPES)
def test_every_class_renders(doc_type: str) -> None:
    if doc_type in ("invoice", "credit_note"):
        doc = synth.invoice_doc(seed=1, credit=doc_type == "credit_note")
    else:
        doc = synth.other_doc(seed=1, doc_type=doc_type)
    assert doc.doc_type == doc_type
    assert len(_text(doc.pdf)) > 80
    if doc_type == "bank_details":
        assert identifiers.is_iban(doc.expected["BT-84"])


def test_the_mix_covers_every_class_and_layout() -> None:
    docs = [synth.document(seed=1, index=i) for i in range(20)]
    assert {d.doc_type for d in docs} == set(synth.DOC_TYPES)
    assert {d.layout for d in docs if d.doc_type == "invoice"} == set(synth.LAYOUTS)


def _page_with_top_mark() -> np.ndarray:
    page = np.full((400, 300), 255, dtype=np.uint8)
    page[20:80, 50:250] = 0  # a black band near the top edge
    return page


def _dark_in_top_half(pixels: np.ndarray) -> bool:
    half = pixels.shape[0] // 2
    return int((pixels[:half] < 128).sum()) > int((pixels[half:] < 128).sum())


def test_upside_down_flag_matches_the_pixels() -> None:
    flags = []
    for i in range(12):
        out, skew, upside_down = degrade_pixels(
            _page_with_top_mark(), QUALITIES["hard"], dpi=150, rng=random.Random(i)
        )
        assert abs(skew) <= 4.0
        assert _dark_in_top_half(out) is not upside_down
        flags.append(upside_down)
    assert any(flags) and not all(flags)


def test_clean_level_keeps_the_page_upright() -> None:
    out, skew, upside_down = degrade_pixels(
        _page_with_top_mark(), QUALITIES["clean"], dpi=300, rng=random.Random(0)
    )
    assert not upside_down and abs(skew) <= 0.5 and _dark_in_top_half(out)


def test_scan_levels_encode_as_intended() -> None:
    pdf = synth.invoice_doc(seed=2, layout="minimal").pdf
    clean = synth.scan(pdf, level="clean", rng=random.Random(1))
    hard = synth.scan(pdf, level="hard", rng=random.Random(1))
    assert clean.extension == "png" and clean.dpi == 300
    assert hard.extension == "jpg" and 150 <= hard.dpi <= 200
    image = Image.open(io.BytesIO(hard.data))
    assert image.mode == "L" and round(image.info["dpi"][0]) == hard.dpi


def _all_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return "\n".join(page.extract_text() or "" for page in doc.pages).replace("\xa0", " ")


def _printed(text: str, forms: tuple[Callable[[Any], str], ...], value: Any) -> bool:
    return any(form(value).replace("\xa0", " ") in text for form in forms)


@pytest.mark.parametrize("layout", sorted(synth.HELDOUT_LAYOUTS))
@pytest.mark.parametrize(("language", "credit"), [("fr", False), ("en", True)])
def test_each_heldout_layout_prints_its_ground_truth(layout: str, language: str, credit: bool) -> None:
    doc = synth.heldout_doc(seed=f"t-{layout}", layout=layout, language=language, credit=credit)
    exp, text = doc.expected, _all_text(doc.pdf)
    dates, amounts = (
        (heldout_style.DATES_EN, heldout_style.AMOUNTS_EN)
        if language == "en"
        else (heldout_style.DATES_FR, heldout_style.AMOUNTS_FR)
    )
    assert doc.pdf.startswith(b"%PDF") and exp["BT-3"] == ("381" if credit else "380")
    for key in ("BT-1", "BT-27", "BT-44"):
        assert exp[key] in text, key
    for key in ("BT-2", "BT-9"):
        assert key not in exp or _printed(text, dates, date.fromisoformat(exp[key])), key
    for key in ("BT-109", "BT-110", "BT-112", "BT-115"):
        assert _printed(text, amounts, Decimal(exp[key])), key
    flat = text.replace(" ", "")
    for key in ("BT-30", "BT-31", "BT-84"):
        assert key not in exp or exp[key] in flat, key
    assert ("BT-5" in exp) == bool(re.search(r"€|\bEUR\b", text))


def test_heldout_two_pages_scan_as_a_two_page_tiff() -> None:
    pdf = synth.heldout_doc(seed=1, layout="two_pages").pdf
    scanned = synth.scan_pages(pdf, level="office", rng=random.Random(1))
    with Image.open(io.BytesIO(scanned.data)) as image:
        assert scanned.extension == "tif" and getattr(image, "n_frames", 1) == 2 == heldout.page_count(pdf)
